package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// bearsOn reports whether the defense switch named name bears on the
// attack s: a column of the defense matrix (matrix.Changes) for that
// switch applies to it (its labels), or the scenario changed the switch,
// or the run saw it refuse.
func bearsOn(name string, s lab.Scenario, changed bool, r lab.Result) bool {
	if changed || slices.ContainsFunc(r.Refusals, func(f lab.Refusal) bool { return f.Defense == name }) {
		return true
	}
	return slices.ContainsFunc(matrix.Changes(), func(c matrix.Change) bool { return c.Switch == name && c.Applies(s) })
}

// writeMarkdownDefenses lists the defense switches that bear on the attack
// (see bearsOn), the scenario's changes in bold, each refusing one with
// its part in the verdict (decisive, refused too, not credited), then
// names the others in one line; then which defense was decisive; then,
// given the attack's row of a defense matrix, which single changes altered
// the outcome.
func writeMarkdownDefenses(w io.Writer, s lab.Scenario, r lab.Result, row *matrix.Row) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if len(s.Labels) == 0 {
		s.Labels = r.Labels
	}
	d := s.DefensesFor()
	base := lab.Hardened()
	baseSet := base.Settings()
	var other []string
	var lines []string
	for i, set := range d.Settings() {
		changed := set.Value != baseSet[i].Value
		if !bearsOn(set.Name, s, changed, r) {
			other = append(other, mdText(set.Name))
			continue
		}
		line := fmt.Sprintf("- %s: %s — %s", mdText(set.Name), mdText(set.Value), mdText(set.Doc))
		if changed {
			line = fmt.Sprintf("- **%s: %s** (hardened: %s) — %s", mdText(set.Name), mdText(set.Value), mdText(baseSet[i].Value), mdText(set.Doc))
		}
		if role := defenseRole(r, set.Name); role != "" {
			line += " — " + role
		}
		lines = append(lines, line)
	}
	switch diff := d.Diff(base); {
	case len(diff) == 0:
		p("**Defenses** that bear on this scenario, as hardened (it changes none):\n\n")
	default:
		changes := make([]string, len(diff))
		for i, c := range diff {
			changes[i] = mdText(c)
		}
		p("**Defenses** that bear on this scenario; it changes %s (in bold):\n\n", strings.Join(changes, "; "))
	}
	if len(lines) == 0 {
		p("- none of the switches\n")
	}
	for _, l := range lines {
		p("%s\n", l)
	}
	if len(other) > 0 {
		p("\nNot bearing on it, and left hardened: %s.\n", strings.Join(other, ", "))
	}
	p("\n")

	switch {
	case r.Verdict == lab.Held && len(r.StoppedBy) > 0:
		p("**Decisive:** %s, the first defense seen refusing that the verdict credits.\n\n", mdText(r.StoppedBy[0]))
	case r.Verdict == lab.Broken:
		p("**Decisive:** none; no defense stopped the attack.\n\n")
	}
	if row != nil {
		writeMarkdownMattered(w, *row)
	}
}

// defenseRole is the part the switch played in the run: "**decisive**"
// for the credited first refusal, "refused too" for other credited ones,
// "refused (not credited)" for one the verdict did not credit; "" when it
// did not refuse.
func defenseRole(r lab.Result, name string) string {
	role := ""
	for i, f := range r.Refusals {
		if f.Defense != name {
			continue
		}
		switch refusalRole(r, i) {
		case "decisive":
			return "**decisive**: refused first"
		case "not credited":
			if role == "" {
				role = "refused (not credited)"
			}
		default:
			role = "refused too"
		}
	}
	return role
}

// writeMarkdownMattered says which single changes of the defense matrix
// altered the attack's outcome ("which defenses mattered"), and which did
// not.
func writeMarkdownMattered(w io.Writer, row matrix.Row) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("**Which defenses mattered** (the defense matrix: each switch changed alone; with the hardened defaults %s):\n\n",
		mdText(matrix.ReasonedOutcome(row.Hardened)))
	var same []string
	any := false
	for _, c := range row.Cells {
		if !row.Differs(c) {
			if c.Applies {
				same = append(same, mdText(c.Change.Name()))
			}
			continue
		}
		any = true
		p("- %s: %s\n", mdText(c.Change.Name()), mdText(matrix.ReasonedOutcome(c.Result)))
	}
	if !any {
		p("- no single change altered the outcome\n")
	}
	if len(same) > 0 {
		p("\nNo change to the outcome with: %s.\n", strings.Join(same, ", "))
	}
	p("\n")
}

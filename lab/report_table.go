package lab

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// EvidenceWidth is the widest main-evidence cell WriteTable prints, in runes.
const EvidenceWidth = 72

// WriteTable writes results as aligned columns — SCENARIO, VERDICT, EXPECTED,
// MATCH, SERVICE, EVIDENCE, DURATION — followed by the summary line, e.g.
// "2 scenarios: 2 matched, 0 differed, 0 errors". VERDICT is
// [Result.Outcome] and EXPECTED [Result.ExpectedOutcome], so a held result
// names its decisive defense: "held (chain-validation)". EVIDENCE is
// [Result.MainEvidence] on one line, cut to EvidenceWidth runes with "...".
// It returns the first write error.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tVERDICT\tEXPECTED\tMATCH\tSERVICE\tEVIDENCE\tDURATION")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(r.Scenario), cell(r.Outcome()), cell(r.ExpectedOutcome()), matchWord(r), r.Service,
			truncate(cell(r.MainEvidence()), EvidenceWidth), formatDuration(r.Duration))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summarize(results))
	return err
}

// WriteList writes a catalog listing: NAME, LABELS, SUMMARY.
func WriteList(w io.Writer, scenarios []Scenario) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABELS\tSUMMARY")
	for _, s := range scenarios {
		labels := make([]string, len(s.Labels))
		for i, l := range s.Labels {
			labels[i] = string(l)
		}
		ls := strings.Join(labels, ",")
		if ls == "" {
			ls = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", cell(s.Name), ls, cell(s.Summary))
	}
	return tw.Flush()
}

func matchWord(r Result) string {
	switch {
	case r.OK:
		return "yes"
	case r.Verdict == Error:
		return "error"
	default:
		return "NO"
	}
}

// refusalRole says what the verdict made of refusal i of r: "decisive"
// for the first credited refusal, "" for a later credited one, and "not
// credited" for one the verdict did not count (its switch was off, the
// attack had not reached the point it stops, or the verdict is not held).
func refusalRole(r Result, i int) string {
	if !r.Refusals[i].Credited {
		return "not credited"
	}
	for _, f := range r.Refusals[:i] {
		if f.Credited {
			return ""
		}
	}
	return "decisive"
}

// cell puts s on one line without tabs, so it cannot break the columns.
func cell(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n runes, ending in "..." when it was cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 3 {
		return string(r[:n])
	}
	return string(r[:n-3]) + "..."
}

// formatDuration rounds for people: "1.234s", "12ms", "850µs".
func formatDuration(d time.Duration) string {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// DefenseShort abbreviates a defense switch for the terminal matrix, as
// the matrix's column headers do: "chain" for chain-validation, "name" for
// hostname-check, "minver" for min-tls-version. An unknown name is
// returned unchanged.
func DefenseShort(defense string) string {
	switch defense {
	case DefenseChainValidation:
		return "chain"
	case DefenseHostnameCheck:
		return "name"
	case DefenseValidityCheck:
		return "valid"
	case DefenseRevocation:
		return "rev"
	case DefenseClientCertRequired:
		return "ccert"
	case DefenseTrustedServerList:
		return "tsl"
	case DefenseTLSOnly:
		return "tls-only"
	case DefenseMinTLSVersion:
		return "minver"
	case DefenseForwardSecrecyOnly:
		return "fs"
	case DefenseFederationSRVDomainMatch:
		return "srv"
	case DefenseFederationAllowList:
		return "allow"
	case DefenseDNSRandomization:
		return "dnsrand"
	case DefenseDNSSECValidation:
		return "dnssec"
	case DefenseARPPolicy:
		return "arp"
	}
	return defense
}

// matrixCode is a cell as the terminal table shows it: "H" held with service
// intact, "H-" held with service denied, "B"/"B-" the same for broken,
// "P"/"P-" for a baseline that passed, "?"
// for an unknown service, then for a held cell ":" and its decisive
// defense's DefenseShort ("H-:chain"); "ERR" for an error. MatrixRow.code
// adds "n/a" for a change that does not apply and "!" for a change
// declared not to apply that changed the outcome anyway.
func matrixCode(r Result) string {
	if r.Verdict == Error {
		return "ERR"
	}
	code := "H"
	switch r.Verdict {
	case Broken:
		code = "B"
	case Passed:
		code = "P"
	}
	switch r.Service {
	case ServiceDenied:
		code += "-"
	case ServiceUnknown:
		code += "?"
	}
	if r.Verdict == Held && len(r.StoppedBy) > 0 {
		code += ":" + DefenseShort(r.StoppedBy[0])
	}
	return code
}

func (row MatrixRow) code(c MatrixCell) string {
	switch {
	case row.NotApplicable(c):
		return "n/a"
	case !c.Applies:
		return matrixCode(c.Result) + "!"
	default:
		return matrixCode(c.Result)
	}
}

// WriteMatrixTable writes the matrix for a terminal: one row per attack,
// the hardened outcome, then one short column per change, a legend naming
// the columns, codes and defense abbreviations, then the sections of
// writeMatrixSections, ending with the findings.
func WriteMatrixTable(w io.Writer, m MatrixResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	header := []string{"ATTACK", "HARDENED"}
	for _, c := range m.Changes {
		header = append(header, c.Short)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range m.Rows {
		cells := []string{cell(row.Scenario.Name), matrixCode(row.Hardened)}
		for _, c := range row.Cells {
			cells = append(cells, row.code(c))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nH held, B broken, P passed; '-' service denied, '?' service unknown; ':chain' names the defense")
	fmt.Fprintln(w, "that decided a held cell. n/a: the switch does not bear on the attack and changed nothing; '!':")
	fmt.Fprintln(w, "declared not to bear on it, yet it changed the outcome; ERR: a failed run or inconclusive evidence.")
	fmt.Fprintln(w, "Columns change one switch of the hardened defaults:")
	for _, c := range m.Changes {
		fmt.Fprintf(w, "  %-10s %s\n", c.Short, c.Name())
	}
	if used := m.decisiveDefenses(); len(used) > 0 {
		fmt.Fprintln(w, "Defenses deciding held cells:")
		for _, d := range used {
			fmt.Fprintf(w, "  %-10s %s\n", DefenseShort(d), d)
		}
	}
	if err := writeMatrixSections(w, m, "", func(s string) string { return s }); err != nil {
		return err
	}
	return writeMatrixFindings(w, m.Findings(), "")
}

// decisiveDefenses returns the defenses decisive in at least one cell,
// the hardened ones included, in the order of DefenseNames.
func (m MatrixResult) decisiveDefenses() []string {
	seen := map[string]bool{}
	for _, row := range m.Rows {
		for _, s := range row.slots() {
			seen[decisive(s.result)] = true
		}
	}
	var out []string
	for _, d := range DefenseNames() {
		if seen[d] {
			out = append(out, d)
		}
	}
	return out
}

// writeMatrixSections writes, each under a heading prefixed with head
// ("" for terminals, "## " for Markdown): the attacks each defense decides
// (MatrixResult.Decisive), each decisive defense with its cell switched
// off (MatrixResult.Backups), the attacks no single change affects and how
// many cells errored. name formats scenario names.
func writeMatrixSections(w io.Writer, m MatrixResult, head string, name func(string) string) error {
	item := "  "
	if head != "" {
		item = "- "
	}
	fmt.Fprintf(w, "\n%sDecisive defenses (in the hardened column and the columns that turn a defense on)\n", head)
	if head != "" {
		fmt.Fprintln(w)
	}
	for _, d := range m.Decisive() {
		fmt.Fprintln(w, item+d.String())
	}
	fmt.Fprintf(w, "\n%sEach decisive defense switched off\n", head)
	if head != "" {
		fmt.Fprintln(w)
	}
	backups := m.Backups()
	if len(backups) == 0 {
		fmt.Fprintln(w, item+"no attack was held")
	}
	for _, b := range backups {
		fmt.Fprintln(w, item+b.String())
	}
	return writeMatrixUnaffected(w, m, name)
}

// writeMatrixUnaffected lists the attacks no single change affects, with
// name formatting each scenario name, and how many cells errored.
func writeMatrixUnaffected(w io.Writer, m MatrixResult, name func(string) string) error {
	rows := m.Unaffected()
	unaffected := []string{"none"}
	if len(rows) > 0 {
		unaffected = unaffected[:0]
		for _, row := range rows {
			unaffected = append(unaffected, name(row.Scenario.Name))
		}
	}
	_, err := fmt.Fprintf(w, "\nAttacks no single change affects (%d): %s\n", len(rows), strings.Join(unaffected, ", "))
	if n, failed := m.Errors(), m.RunErrors(); err == nil && n > 0 {
		_, err = fmt.Fprintf(w, "Error cells (%d): %d inconclusive (the attack not carried out, or no defense that is on seen refusing it), %d whose run failed (see --format json)\n",
			n, n-failed, failed)
	}
	return err
}

// writeMatrixFindings writes the findings under a heading that counts
// them, one "kind: text" line each, or a line saying every check passed.
func writeMatrixFindings(w io.Writer, findings []MatrixFinding, head string) error {
	const none = "No held cell credits a switch that is off or weakened, every attack whose\n" +
		"decisive defense is switched off is held by another defense or broken, and every defense switch\n" +
		"is decisive for an attack.\n"
	item := "  "
	if head != "" {
		item = "- "
	}
	var err error
	switch {
	case len(findings) == 0 && head == "":
		_, err = fmt.Fprint(w, "\nFindings: none. "+none)
	case len(findings) == 0:
		_, err = fmt.Fprint(w, "\n"+head+"Findings\n\nNone. "+none)
	case head == "":
		_, err = fmt.Fprintf(w, "\nFINDINGS (%d)\n", len(findings))
	default:
		_, err = fmt.Fprintf(w, "\n%sFindings (%d)\n\n", head, len(findings))
	}
	for _, f := range findings {
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, item+f.String())
	}
	return err
}

// WriteMatrixMarkdown writes the matrix as a Markdown document: the
// findings first, then a table with full column names and words in the
// cells (held cells naming their decisive defense, cells that differ from
// the hardened one in bold), how to read it, what each attack depends on,
// and the sections of writeMatrixSections.
func WriteMatrixMarkdown(w io.Writer, m MatrixResult) error {
	fmt.Fprintln(w, "# Defense matrix")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Every attack scenario of the catalog (%d), run with the hardened defaults and then with one\n", len(m.Rows))
	fmt.Fprintln(w, "defense switch changed at a time. Generated by `make matrix` (`tlslab matrix --format markdown`).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "How a cell is judged (see the README's Verdicts section):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "- **broken**: a compromise was seen: a canary in bytes the attacker obtained, or an attacker")
	fmt.Fprintln(w, "  identity or injected message the victim accepted.")
	fmt.Fprintln(w, "- **held (defense)**: a defense switch that is on in the cell was seen refusing, by name and exact")
	fmt.Fprintln(w, "  reason, an attack that was really carried out (the attacker in position, or, for static ARP,")
	fmt.Fprintln(w, "  DNSSEC and DNS randomisation, its spoofing attempted). The defense named is the first credited")
	fmt.Fprintln(w, "  refusal. A switch that the cell turns off is never credited.")
	fmt.Fprintln(w, "- **error**: anything else: the run failed, or its evidence was inconclusive (the attack was not")
	fmt.Fprintln(w, "  carried out, or no defense that is on was seen refusing it). Time-outs, resets and EOF are never")
	fmt.Fprintln(w, "  refusals.")
	if err := writeMatrixFindings(w, m.Findings(), "## "); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Matrix")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Attack | hardened |"+joinColumns(m.Changes))
	fmt.Fprintln(w, "|---|---|"+strings.Repeat("---|", len(m.Changes)))
	for _, row := range m.Rows {
		cells := []string{"`" + row.Scenario.Name + "`", matrixWords(row.Hardened)}
		for _, c := range row.Cells {
			cells = append(cells, row.words(c))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each cell is a full run in a fresh simulated network, its outcome followed by whether the")
	fmt.Fprintln(w, "victim's service was intact or denied. A cell in bold differs from the hardened column: that")
	fmt.Fprintln(w, "switch alone changes the attack's outcome or the defense that stops it. *n/a* marks a switch that")
	fmt.Fprintln(w, "does not bear on the attack (the cell was run and changed nothing); a cell marked ⚠ was declared")
	fmt.Fprintln(w, "not to bear on the attack, yet changed its outcome.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## What each attack depends on")
	fmt.Fprintln(w)
	for _, row := range m.Rows {
		var parts []string
		for _, c := range row.Cells {
			if row.Differs(c) {
				parts = append(parts, fmt.Sprintf("%s → %s", c.Change.Name(), cellText(c.Result)))
			}
		}
		if len(parts) == 0 {
			parts = []string{"no single change alters it"}
		}
		fmt.Fprintf(w, "- `%s` (%s): %s\n", row.Scenario.Name, cellText(row.Hardened), strings.Join(parts, "; "))
	}
	return writeMatrixSections(w, m, "## ", func(s string) string { return "`" + s + "`" })
}

// cellText is CellOutcome for people: an error says why, "error (no
// defense observed)".
func cellText(r Result) string {
	if r.Verdict == Error {
		return reasonedOutcome(r)
	}
	return CellOutcome(r)
}

func joinColumns(changes []DefenseChange) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(" " + c.Name() + " |")
	}
	return b.String()
}

// matrixWords is a cell in words: "held (chain-validation), intact",
// "broken, denied", "error".
func matrixWords(r Result) string {
	if r.Verdict == Error {
		return "error"
	}
	return r.Outcome() + ", " + string(r.Service)
}

func (row MatrixRow) words(c MatrixCell) string {
	switch {
	case row.NotApplicable(c):
		return "*n/a*"
	case !c.Applies:
		return "**" + matrixWords(c.Result) + "** ⚠"
	case row.Differs(c):
		return "**" + matrixWords(c.Result) + "**"
	default:
		return matrixWords(c.Result)
	}
}

// JSONMatrix is the document WriteMatrixJSON writes.
type JSONMatrix struct {
	Columns    []string        `json:"columns"` // "hardened", then each change's name
	Rows       []JSONMatrixRow `json:"rows"`
	Unaffected []string        `json:"unaffected"` // attacks no single change affects
	Errors     int             `json:"errors"`
	// Findings are MatrixResult.Findings, the most serious first; empty
	// when every honesty check passed.
	Findings []MatrixFinding `json:"findings"`
	// Decisive is MatrixResult.Decisive: every defense switch, in the
	// order of DefenseNames, with the cells it decides.
	Decisive []DecisiveDefense `json:"decisive"`
	// Backups is MatrixResult.Backups.
	Backups []JSONBackup `json:"backups"`
}

// JSONMatrixRow is one attack.
type JSONMatrixRow struct {
	Scenario string           `json:"scenario"`
	Cells    []JSONMatrixCell `json:"cells"` // in the order of Columns
}

// JSONMatrixCell is one run of the matrix.
type JSONMatrixCell struct {
	Column  string  `json:"column"`
	Applies bool    `json:"applies"` // false for a switch that does not bear on the attack
	Differs bool    `json:"differs"` // outcome (decisive defense included) differs from the hardened column
	Verdict Verdict `json:"verdict"`
	// Outcome is Result.Outcome: "held (chain-validation)", "broken".
	Outcome string `json:"outcome"`
	// StoppedBy is Result.StoppedBy, the decisive defense first; empty
	// unless the verdict is held.
	StoppedBy    []string `json:"stopped_by"`
	Service      string   `json:"service"`
	MainEvidence string   `json:"main_evidence"`
	Seed         uint64   `json:"seed"`
	Error        string   `json:"error,omitempty"`
}

// JSONBackup is one Backup: a held cell's decisive defense and the
// outcome of the same attack with it off.
type JSONBackup struct {
	Scenario  string `json:"scenario"`
	Column    string `json:"column"`
	Defense   string `json:"defense"`
	OffColumn string `json:"off_column"` // "" when no column turns it off
	// OffOutcome is the off cell's outcome, an error with its reason:
	// "held (hostname-check)", "broken", "error (no defense observed)".
	OffOutcome string `json:"off_outcome,omitempty"`
	NoBackup   bool   `json:"no_backup"` // Backup.NoBackup: a finding
	Text       string `json:"text"`      // Backup.String
}

// WriteMatrixJSON writes the matrix as one indented JSON object, a
// JSONMatrix: every cell with its outcome and stopped_by, the findings,
// the decisive defenses and the backups. Lists are [] when empty, never
// null.
func WriteMatrixJSON(w io.Writer, m MatrixResult) error {
	doc := JSONMatrix{Columns: []string{HardenedColumn}, Rows: []JSONMatrixRow{}, Unaffected: []string{}, Errors: m.Errors(),
		Findings: m.Findings(), Decisive: m.Decisive(), Backups: []JSONBackup{}}
	if doc.Findings == nil {
		doc.Findings = []MatrixFinding{}
	}
	for _, c := range m.Changes {
		doc.Columns = append(doc.Columns, c.Name())
	}
	for _, row := range m.Rows {
		jr := JSONMatrixRow{Scenario: row.Scenario.Name}
		jr.Cells = append(jr.Cells, jsonMatrixCell(HardenedColumn, true, false, row.Hardened))
		for _, c := range row.Cells {
			jr.Cells = append(jr.Cells, jsonMatrixCell(c.Change.Name(), c.Applies, row.Differs(c), c.Result))
		}
		doc.Rows = append(doc.Rows, jr)
	}
	for _, row := range m.Unaffected() {
		doc.Unaffected = append(doc.Unaffected, row.Scenario.Name)
	}
	for _, b := range m.Backups() {
		jb := JSONBackup{Scenario: b.Scenario, Column: b.Column, Defense: b.Defense, OffColumn: b.OffColumn,
			NoBackup: b.NoBackup(), Text: b.String()}
		if b.OffColumn != "" {
			jb.OffOutcome = reasonedOutcome(b.Off)
		}
		doc.Backups = append(doc.Backups, jb)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func jsonMatrixCell(column string, applies, differs bool, r Result) JSONMatrixCell {
	c := JSONMatrixCell{Column: column, Applies: applies, Differs: differs, Verdict: r.Verdict, Outcome: r.Outcome(),
		StoppedBy: append([]string{}, r.StoppedBy...), Service: string(r.Service), MainEvidence: r.MainEvidence(), Seed: r.Seed}
	if r.Err != nil {
		c.Error = r.Err.Error()
	}
	return c
}

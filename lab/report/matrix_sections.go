package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tlslab/tlslab/lab/matrix"
)

// writeMatrixSections writes, each under a heading prefixed with head
// ("" for terminals, "## " for Markdown): the attacks each defense decides
// (matrix.Result.Decisive), each decisive defense with its cell switched
// off (matrix.Result.Backups), the attacks no single change affects and how
// many cells errored. name formats scenario names.
func writeMatrixSections(w io.Writer, m matrix.Result, head string, name func(string) string) error {
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
func writeMatrixUnaffected(w io.Writer, m matrix.Result, name func(string) string) error {
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
func writeMatrixFindings(w io.Writer, findings []matrix.Finding, head string) error {
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

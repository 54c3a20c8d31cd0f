package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tlslab/tlslab/lab"
)

// evidenceWidth is the widest main-evidence cell WriteTable prints, in runes.
const evidenceWidth = 72

// WriteTable writes results as aligned columns — SCENARIO, VERDICT, EXPECTED,
// MATCH, SERVICE, EVIDENCE, DURATION — followed by the summary line, e.g.
// "2 scenarios: 2 matched, 0 differed, 0 errors". VERDICT is
// [lab.Result.Outcome] and EXPECTED [lab.Result.ExpectedOutcome], so a held result
// names its decisive defense: "held (chain-validation)". EVIDENCE is
// [lab.Result.MainEvidence] on one line, cut to evidenceWidth runes with "...".
// It returns the first write error.
func WriteTable(w io.Writer, results []lab.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tVERDICT\tEXPECTED\tMATCH\tSERVICE\tEVIDENCE\tDURATION")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(r.Scenario), cell(r.Outcome()), cell(r.ExpectedOutcome()), matchWord(r), r.Service,
			truncate(cell(r.MainEvidence()), evidenceWidth), formatDuration(r.Duration))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, lab.Summarize(results))
	return err
}

// WriteList writes a catalog listing: NAME, LABELS, SUMMARY.
func WriteList(w io.Writer, scenarios []lab.Scenario) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABELS\tSUMMARY")
	for _, s := range scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", cell(s.Name), orDash(joinLabels(s.Labels, ",")), cell(s.Summary))
	}
	return tw.Flush()
}

package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
)

// listFormats are the values of list's and show's --format.
var listFormats = []string{"table", "json"}

// checkListFormat validates --format of list and show.
func checkListFormat(format string) (string, error) {
	f := strings.ToLower(format)
	if !slices.Contains(listFormats, f) {
		return "", usagef("invalid --format %q; want %s", format, strings.Join(listFormats, ", "))
	}
	return f, nil
}

func newListCmd(st *state) *cobra.Command {
	var labelFlags, skip []string
	var format string
	cmd := &cobra.Command{
		Use:   "list [NAME|PATTERN]... [--label L]... [--skip PATTERN]... [--format table|json]",
		Short: "List the scenarios: names, labels, one-line summaries",
		Long: `List the scenarios in catalog order: name, labels and one-line summary.
The list includes the opt-in bridge scenarios (real OpenSSL and GnuTLS
programs), which 'tlslab run' runs only by name or with --label bridge.
NAMEs may be glob patterns ('mitm/*', '*/self-signed'; * never crosses the
/); --label keeps scenarios with a label, --label '!L' drops those with L,
--skip drops those whose name matches a pattern. --format json writes an
array of {name, labels, summary, expected, stopped_by}.`,
		Example: `  tlslab list
  tlslab list --label mitm
  tlslab list 'mitm/*' --label '!dns' --skip mitm/self-signed
  tlslab list --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := checkListFormat(format)
			if err != nil {
				return err
			}
			labels, err := parseLabels(labelFlags)
			if err != nil {
				return err
			}
			if err := st.validCatalog(); err != nil {
				return err
			}
			// Without names, list everything, opt-in scenarios (bridge)
			// included; a run would leave those out.
			picked, err := st.catalog.Select(args, labels.with)
			if err != nil {
				return selectionError(err)
			}
			if len(args) == 0 {
				picked = slices.DeleteFunc(slices.Clone([]lab.Scenario(st.catalog)), func(s lab.Scenario) bool { return !hasAll(s, labels.with) })
			}
			if picked, err = exclude(picked, st.catalog, labels, skip); err != nil {
				return err
			}
			if len(picked) == 0 {
				return nothingSelected(args, labels, skip, nil)
			}
			write := report.WriteList
			if format == "json" {
				write = report.WriteListJSON
			}
			if err := write(st.stdout, picked); err != nil {
				return &runtimeError{err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&labelFlags, "label", "l", nil, "show only scenarios with this label, or without it when written '!L' (repeat or comma-separate; all must hold)")
	registerSkip(fl, &skip)
	fl.StringVarP(&format, "format", "o", "table", "output format: table or json")
	return cmd
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab/report"
)

func newListCmd(st *state) *cobra.Command {
	var labelFlags []string
	cmd := &cobra.Command{
		Use:   "list [--label L]...",
		Short: "List the scenarios: names, labels, one-line summaries",
		Example: `  tlslab list
  tlslab list --label mitm`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("'tlslab list' takes no arguments, got %q; filter with --label", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			labels, err := parseLabels(labelFlags)
			if err != nil {
				return err
			}
			if err := st.validCatalog(); err != nil {
				return err
			}
			picked, err := st.catalog.Select(nil, labels)
			if err != nil {
				return selectionError(err)
			}
			if len(picked) == 0 {
				return nothingSelected(nil, labels, nil)
			}
			if err := report.WriteList(st.stdout, picked); err != nil {
				return &runtimeError{err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&labelFlags, "label", "l", nil, "show only scenarios with this label (repeat or comma-separate; all must match)")
	return cmd
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
)

func newShowCmd(st *state) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Describe a scenario before running it: story, topology, PKI, defenses",
		Long: `Describe one scenario without running it: its story; the declared topology
(segments and their prefixes, routers, hosts with their NICs, addresses, DNS
names and services, the certification authorities, which CA issued which
certificate, whose trust store holds which roots, the DNS zones, the SIP users);
and every defense switch, with a "*" on those the scenario changes from the
hardened defaults.

Exit status: 0, or 2 for an unknown scenario (the closest names are suggested).`,
		Example: `  tlslab show baseline/fe-to-fe-mtls
  tlslab show eavesdrop/plaintext`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("'tlslab show' takes one scenario name, got %d; see 'tlslab list'", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := st.validCatalog(); err != nil {
				return err
			}
			s, err := st.catalog.Lookup(args[0])
			if err != nil {
				return selectionError(err)
			}
			if err := lab.WriteShow(st.stdout, s, s.DefensesFor()); err != nil {
				return &runtimeError{err: err}
			}
			return nil
		},
	}
}

package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
)

type runFlags struct {
	labels    []string
	format    string
	pcapDir   string
	keyLogDir string
	timeout   time.Duration
	seed      uint64
	verbose   bool
}

func newRunCmd(st *state) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [NAME...] [--label L]... [--format table|json] [--pcap DIR] [--keylog DIR] [--timeout D]",
		Short: "Run scenarios (all by default) and report their verdicts",
		Long: `Run the named scenarios, or all of them, each in a fresh simulated network, and
report each verdict beside the expected one. --label keeps only scenarios that
carry every given label. With --pcap and --keylog, each scenario leaves
<family>-<name>.pcapng and <family>-<name>.keys; open them together in Wireshark
to see the decrypted traffic.

Exit status: 0 when every verdict matches its expectation, 1 when any differs
or errors, 2 for usage errors.`,
		Example: `  tlslab run
  tlslab run eavesdrop/tls mitm/arp-tls
  tlslab run --label mitm --format json
  tlslab run eavesdrop/tls --pcap out --keylog out`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.run(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "run only scenarios with this label (repeat or comma-separate; all must match)")
	fl.StringVarP(&f.format, "format", "o", "table", "output format: table or json")
	fl.StringVar(&f.pcapDir, "pcap", "", "write one pcapng capture per scenario into `DIR`")
	fl.StringVar(&f.keyLogDir, "keylog", "", "write one NSS key log per scenario into `DIR` (for Wireshark)")
	fl.DurationVar(&f.timeout, "timeout", lab.DefaultTimeout, "deadline per scenario")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for the simulated networks (0: random; each result reports its seed)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "after the table, print every evidence line of every scenario")
	return cmd
}

func (st *state) run(cmd *cobra.Command, names []string, f runFlags) error {
	format := strings.ToLower(f.format)
	if format != "table" && format != "json" {
		return usagef("invalid --format %q; want table or json", f.format)
	}
	if f.timeout <= 0 {
		return usagef("invalid --timeout %v; want a positive duration such as 10s", f.timeout)
	}
	labels, err := parseLabels(f.labels)
	if err != nil {
		return err
	}
	if err := st.validCatalog(); err != nil {
		return err
	}
	picked, err := st.catalog.Select(names, labels)
	if err != nil {
		return selectionError(err)
	}

	runner := lab.Runner{Timeout: f.timeout, PcapDir: f.pcapDir, KeyLogDir: f.keyLogDir, Seed: f.seed}
	results := runner.RunAll(cmd.Context(), picked)

	if format == "json" {
		err = lab.WriteJSON(st.stdout, results)
	} else {
		err = lab.WriteTable(st.stdout, results)
		if err == nil && f.verbose {
			err = writeEvidence(st, results)
		}
	}
	if err != nil {
		return &runtimeError{err: fmt.Errorf("writing the report: %w", err)}
	}
	st.notes(results, f)
	if !lab.Summarize(results).OK() {
		st.code = ExitMismatch
	}
	return nil
}

// writeEvidence prints every evidence line of every result, for people.
func writeEvidence(st *state, results []lab.Result) error {
	for _, r := range results {
		if _, err := fmt.Fprintf(st.stdout, "\n%s: %s (expected %s), seed %d\n", r.Scenario, r.Verdict, r.Expected, r.Seed); err != nil {
			return err
		}
		for _, line := range r.Evidence {
			fmt.Fprintf(st.stdout, "  %s\n", line)
		}
		if r.Err != nil {
			fmt.Fprintf(st.stdout, "  error: %v\n", r.Err)
		}
	}
	return nil
}

// notes tells people on stderr what the report cannot: where the artifacts
// went, and the stacks of scenarios that panicked.
func (st *state) notes(results []lab.Result, f runFlags) {
	for _, r := range results {
		var p *lab.PanicError
		if errors.As(r.Err, &p) {
			fmt.Fprintf(st.stderr, "tlslab: %v\n%s\n", p, p.Stack)
		}
	}
	if f.pcapDir != "" {
		fmt.Fprintf(st.stderr, "tlslab: pcapng captures in %s\n", f.pcapDir)
	}
	if f.keyLogDir != "" {
		fmt.Fprintf(st.stderr, "tlslab: TLS key logs in %s (Wireshark: Preferences > Protocols > TLS > (Pre)-Master-Secret log filename)\n", f.keyLogDir)
	}
}

// selectionError turns a lab selection error into a usage error with the
// "lab: " prefix dropped, since Run adds "tlslab: ".
func selectionError(err error) error {
	var use *lab.UnknownScenarioError
	if errors.As(err, &use) {
		if len(use.Closest) == 0 {
			return usagef("unknown scenario %q; the catalog is empty", use.Name)
		}
		return usagef("unknown scenario %q; closest: %s (see 'tlslab list')", use.Name, strings.Join(use.Closest, ", "))
	}
	return &usageError{msg: strings.TrimPrefix(err.Error(), "lab: ")}
}

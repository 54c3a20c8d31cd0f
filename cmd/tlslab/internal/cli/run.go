package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/report"
)

type runFlags struct {
	selectFlags
	format    string
	pcapDir   string
	keyLogDir string
	verbose   bool
}

func newRunCmd(st *state) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [NAME...] [--label L]... [--file FILE]... [--format table|json|junit|markdown] [--pcap DIR] [--keylog DIR]",
		Short: "Run scenarios (all by default) and report their verdicts",
		Long: `Run the named scenarios, or all of them, each in a fresh simulated network, and
report each verdict beside the expected one. --label keeps only scenarios that
carry every given label; --file adds a scenario written in YAML (see
scenarios/examples). With --pcap and --keylog, each scenario leaves
<family>-<name>.pcapng and <family>-<name>.keys; open them together in Wireshark
to see the decrypted traffic.

Formats: table (for people), json, junit (JUnit XML for CI: one testcase per
scenario, failures carrying the evidence), markdown (a training handout: per
scenario the story, the attacker, the defenses, the verdict, the evidence and
the capture files).

The verdict column names the decisive defense of a held result, "held
(chain-validation)"; it matches the expectation only when the verdict and, for
held, the decisive defense are the expected ones.

--baseline FILE compares verdicts, the defenses that stopped each attack (all of
them, in order) and service with a stored baseline and names every scenario
that changed; --update-baseline FILE writes one.

Exit status: 0 when every verdict matches its expectation (and the baseline,
if given), 1 when any differs or errors, 2 for usage errors.`,
		Example: `  tlslab run
  tlslab run eavesdrop/tls mitm/self-signed
  tlslab run --label mitm --format json --parallel 2
  tlslab run --file scenarios/examples/forged-ca-trusted.yaml
  tlslab run --baseline scenarios/testdata/baselines/run.json
  tlslab run --format markdown --pcap out/pcap --keylog out/keylog > handout.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.run(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	f.register(fl, 1)
	fl.StringVarP(&f.format, "format", "o", "table", "output format: table, json, junit or markdown")
	fl.StringVar(&f.pcapDir, "pcap", "", "write one pcapng capture per scenario into `DIR`")
	fl.StringVar(&f.keyLogDir, "keylog", "", "write one NSS key log per scenario into `DIR` (for Wireshark)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "after the table, print every evidence line of every scenario")
	return cmd
}

var runFormats = []string{"table", "json", "junit", "markdown"}

func (st *state) run(cmd *cobra.Command, names []string, f runFlags) error {
	format := strings.ToLower(f.format)
	if !slices.Contains(runFormats, format) {
		return usagef("invalid --format %q; want %s", f.format, strings.Join(runFormats, ", "))
	}
	sel, err := st.pick(names, f.selectFlags, baseline.KindRun)
	if err != nil {
		return err
	}

	bar := newProgress(st.stderr, "scenario")
	runner := lab.Runner{Timeout: f.timeout, PcapDir: f.pcapDir, KeyLogDir: f.keyLogDir, Seed: f.seed,
		Parallel: f.parallel, Progress: bar.update}
	results := runner.RunAll(cmd.Context(), sel.scenarios)
	bar.clear()

	switch format {
	case "json":
		err = report.WriteJSON(st.stdout, results)
	case "junit":
		err = report.WriteJUnit(st.stdout, sel.scenarios, results)
	case "markdown":
		err = report.WriteMarkdown(st.stdout, sel.scenarios, results)
	default:
		err = report.WriteTable(st.stdout, results)
		if err == nil && f.verbose {
			err = writeEvidence(st, results)
		}
	}
	if err != nil {
		return &runtimeError{err: fmt.Errorf("writing the report: %w", err)}
	}
	st.notes(results, f)
	changed, err := st.settleBaseline(sel, f.selectFlags, baseline.OfRun(results))
	if err != nil {
		return err
	}
	if changed || !lab.Summarize(results).OK() {
		st.code = ExitMismatch
	}
	return nil
}

// writeEvidence prints every evidence line of every result, for people,
// each result headed by "NAME: OUTCOME; expected OUTCOME; seed N" with
// the outcomes of Result.Outcome and Result.ExpectedOutcome.
func writeEvidence(st *state, results []lab.Result) error {
	for _, r := range results {
		if _, err := fmt.Fprintf(st.stdout, "\n%s: %s; expected %s; seed %d\n", r.Scenario, r.Outcome(), r.ExpectedOutcome(), r.Seed); err != nil {
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

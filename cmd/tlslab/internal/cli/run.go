package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/report"
)

type runFlags struct {
	selectFlags
	outputFlags
	shardFlags
	realPeerFlags
	htmlRunFlags
	format    string
	pcapDir   string
	keyLogDir string
	verbose   bool
}

func newRunCmd(st *state) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [NAME...] [--label L]... [--file FILE]... [--format table|json|junit|markdown] [--output FILE] [--pcap DIR] [--keylog DIR]",
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

--shard K/N runs only the K-th of N shards of the selection, for spreading a
large run over several machines: a scenario's shard depends on a hash of its
name alone, so it lands in the same shard whatever else is selected. A shard
that holds none of the selected scenarios runs nothing and succeeds (a CI job
matrix may have more shards than scenarios). Write each shard with --format
json and combine them with 'tlslab merge'.

--victim-cmd and --server-cmd run real programs (openssl, gnutls-cli, curl ...)
as the victim client (alice) and the victim server (fe01), from command
templates with {placeholders}, over a loopback-only bridge into the simulated
network; --peer-logs DIR keeps their output. The verdict still comes from
what the attacker observed (the canary, a completed handshake, the alert the
program sent). The scenarios labelled bridge run OpenSSL and GnuTLS with
templates of their own; they are opt-in: run them by name or --label bridge.

--output FILE writes the report to FILE instead of stdout. Files are written
under a temporary name in their directory and renamed into place when
complete; key logs are private (0600). Every output path is checked, and
every input read, before the first scenario starts.

SIGINT (Ctrl-C) or SIGTERM stops the run: the running scenarios are stopped
and their captures and key logs completed, the report of the scenarios that
completed goes to stdout, and no report file or baseline is written.

Exit status: 0 when every verdict matches its expectation (and the baseline,
if given), 1 when any differs or errors, 2 for usage errors (bad flags, input
files or output paths), 130 after SIGINT and 143 after SIGTERM.`,
		Example: `  tlslab run
  tlslab run eavesdrop/tls mitm/self-signed
  tlslab run --label mitm --format json --parallel 2
  tlslab run --file scenarios/examples/forged-ca-trusted.yaml
  tlslab run --baseline scenarios/testdata/baselines/run.json
  tlslab run --seed 7 --shard 2/4 --format json --output shard-2.json
  tlslab run --format markdown --pcap out/pcap --keylog out/keylog > handout.md
  tlslab run mitm/attacker-ca --victim-cmd 'openssl s_client -connect {addr} -servername {sni} -CAfile {ca} -verify_return_error -quiet -no_ign_eof <<< {canary}'
  tlslab run --label bridge`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.run(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	f.selectFlags.register(fl, 1)
	fl.StringVarP(&f.format, "format", "o", "table", "output format: table, json, junit or markdown")
	fl.StringVar(&f.pcapDir, "pcap", "", "write one pcapng capture per scenario into `DIR`")
	fl.StringVar(&f.keyLogDir, "keylog", "", "write one NSS key log per scenario into `DIR` (for Wireshark)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "after the table, print every evidence line of every scenario")
	f.outputFlags.register(fl)
	f.outputFlags.registerCapture(fl)
	f.shardFlags.register(fl)
	f.realPeerFlags.register(fl)
	f.htmlRunFlags.register(fl)
	return cmd
}

var runFormats = []string{"table", "json", "junit", "markdown"}

func (st *state) run(cmd *cobra.Command, names []string, f runFlags) error {
	format := strings.ToLower(f.format)
	if !slices.Contains(runFormats, format) {
		return usagef("invalid --format %q; want %s", f.format, strings.Join(runFormats, ", "))
	}
	shard, err := f.shardFlags.parse()
	if err != nil {
		return err
	}
	sel, err := st.pick(names, f.selectFlags, baseline.KindRun)
	if err != nil {
		return err
	}
	var shardInfo *report.Shard
	sel.scenarios, shardInfo = st.applyShard(shard, &sel, sel.scenarios, sel.complete)

	peers, err := f.realPeerFlags.peers(sel.scenarios)
	if err != nil {
		return err
	}
	if err := checkOutputs(&sel, f.selectFlags, f.outputFlags, f.pcapDir, f.keyLogDir, baseline.KindRun); err != nil {
		return err
	}

	ctx := cmd.Context()
	bar := newProgress(ctx, st.stderr, "scenario", f.progress)
	runner := lab.Runner{Timeout: f.timeout, PcapDir: f.pcapDir, KeyLogDir: f.keyLogDir, EmbedKeys: f.embedKeys, Seed: f.seed,
		Parallel: f.parallel, Progress: bar.update, Impair: sel.impair, RealPeers: peers, PeerLogDir: f.peerLogs}
	results, timelines, err := st.runAll(ctx, runner, sel.scenarios, f.htmlRunFlags, f.pcapDir, f.keyLogDir, format == "markdown")
	if err != nil {
		return err
	}
	var mattered *matrix.Result
	if format == "markdown" && ctx.Err() == nil {
		mattered = st.handoutMatrix(ctx, runner, sel.scenarios)
	}
	bar.clear()

	scenarios, done := sel.scenarios, results
	if ctx.Err() != nil {
		scenarios, done = completedRuns(ctx, sel.scenarios, results)
	}
	complete := len(done) == len(results)
	err = st.writeReport(f.outputFlags, complete, func(w io.Writer) error {
		switch format {
		case "json":
			return report.WriteShardJSON(w, done, shardInfo)
		case "junit":
			return report.WriteJUnit(w, scenarios, done)
		case "markdown":
			return report.WriteHandout(w, scenarios, done, report.HandoutOptions{Matrix: mattered, Timelines: timelines})
		default:
			if err := report.WriteTable(w, done); err != nil || !f.verbose {
				return err
			}
			return writeEvidence(w, done)
		}
	})
	if err != nil {
		return err
	}
	st.notes(done, f)
	if !complete {
		st.interrupted(ctx, len(done), len(results), "scenarios")
		return nil
	}
	changed, err := st.settleBaseline(sel, f.selectFlags, baseline.OfRun(results))
	if err != nil {
		return err
	}
	if changed || !lab.Summarize(results).OK() {
		st.code = ExitMismatch
	}
	return nil
}

// handoutMatrix runs the defense matrix over the attacks among
// scenarios (each switch changed alone, as 'tlslab matrix' does), for the
// handout's "which defenses mattered": about fourteen more runs per
// attack, a few seconds for the whole catalog. Nil when no attack was
// selected or the run was interrupted.
func (st *state) handoutMatrix(ctx context.Context, runner lab.Runner, scenarios []lab.Scenario) *matrix.Result {
	var attacks []lab.Scenario
	for _, s := range scenarios {
		if s.Attacker != "" && len(s.Requires) == 0 { // bridge scenarios run real programs: not in the matrix
			attacks = append(attacks, s)
		}
	}
	if len(attacks) == 0 {
		return nil
	}
	fmt.Fprintf(st.stderr, "tlslab: running the defense matrix of %d attacks for the handout\n", len(attacks))
	cells := runner
	cells.Progress, cells.RealPeers, cells.PcapDir, cells.KeyLogDir, cells.PeerLogDir, cells.EmbedKeys = nil, lab.RealPeers{}, "", "", "", false
	m := matrix.Runner{Cells: cells}.Run(ctx, attacks)
	if ctx.Err() != nil {
		return nil
	}
	return &m
}

// completedRuns returns the scenarios and results of the runs that
// completed, leaving out those ctx's cancellation stopped or kept from
// starting, in the order given.
func completedRuns(ctx context.Context, scenarios []lab.Scenario, results []lab.Result) ([]lab.Scenario, []lab.Result) {
	var ss []lab.Scenario
	var rs []lab.Result
	for i, r := range results {
		if !wasInterrupted(ctx, r) {
			ss, rs = append(ss, scenarios[i]), append(rs, r)
		}
	}
	return ss, rs
}

// writeEvidence prints every evidence line of every result, for people,
// each result headed by "NAME: OUTCOME; expected OUTCOME; seed N" with
// the outcomes of Result.Outcome and Result.ExpectedOutcome.
func writeEvidence(w io.Writer, results []lab.Result) error {
	for _, r := range results {
		if _, err := fmt.Fprintf(w, "\n%s: %s; expected %s; seed %d\n", r.Scenario, r.Outcome(), r.ExpectedOutcome(), r.Seed); err != nil {
			return err
		}
		for _, line := range r.Evidence {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if r.Err != nil {
			fmt.Fprintf(w, "  error: %v\n", r.Err)
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
	if f.peerLogs != "" {
		fmt.Fprintf(st.stderr, "tlslab: real programs' output in %s\n", f.peerLogs)
	}
	if f.keyLogDir != "" {
		fmt.Fprintf(st.stderr, "tlslab: TLS key logs in %s (Wireshark: Preferences > Protocols > TLS > (Pre)-Master-Secret log filename)\n", f.keyLogDir)
	}
}

// selectionError turns a lab selection error into a usage error with the
// "lab: " prefix dropped, since Run adds "tlslab: ".
func selectionError(err error) error {
	if pe := patternError(err); pe != nil {
		return pe
	}
	var use *lab.UnknownScenarioError
	if errors.As(err, &use) {
		if len(use.Closest) == 0 {
			return usagef("unknown scenario %q; the catalog is empty", use.Name)
		}
		return usagef("unknown scenario %q; closest: %s (see 'tlslab list')", use.Name, strings.Join(use.Closest, ", "))
	}
	return &usageError{msg: strings.TrimPrefix(err.Error(), "lab: ")}
}

package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
	"github.com/tlslab/tlslab/lab/timeline"
)

type showFlags struct {
	format string
	// runFormat is what --run prints: "text" (the timeline and verdict
	// line) or "markdown" (a handout of the run).
	runFormat string
	run       bool
	timeout   time.Duration
	seed      uint64
	file      string // --file: show the scenario in this file instead of a catalog one
	htmlShowFlags
}

func newShowCmd(st *state) *cobra.Command {
	var f showFlags
	cmd := &cobra.Command{
		Use:   "show NAME|--file FILE [--format table|json] | show NAME|--file FILE --run [--format text|markdown] [--seed N] [--timeout D]",
		Short: "Describe a scenario before running it, or run it and show its timeline",
		Long: `Describe one scenario without running it: its expected outcome, with the
decisive defense when held is expected ("expected: held (chain-validation)");
its story; what the attacker does; the declared topology as the scenario builds it,
its own changes to the preset included (segments and their prefixes, routers,
hosts with their NICs, addresses, DNS names and services, the attacker's
machine, the certification authorities, which CA issued which certificate,
the attacker's among them, whose trust store holds which roots, the DNS zones,
the SIP users); and every defense switch, with a "*" on
those the scenario changes from the hardened defaults.

With --run, run the scenario once instead and print its timeline, step by step,
each line with the simulation time (an offset from the start of the simulated
network) and the host it happened on: ARP requests and replies (spoofed ones
marked), DNS queries and answers (forged answers marked, from what the wire
shows: an answer before its query, or from another host's MAC), TCP
connections (SYN, SYN-ACK, RST when refused or reset, FIN), the TLS handshakes
(ClientHello with SNI and offered versions, ServerHello with version and cipher
suite, the other handshake messages and alerts; TLS 1.3, and TLS 1.2 with an
AEAD or CBC suite, decrypted with the run's own key log), the SIP requests and
responses read from the decrypted application data (the lab's key log opens
them: what the attacker read is in her evidence lines), every certificate a peer presented with its
subject, issuer and validity and what the side it was presented to decided
(accepted, or refused and with which alert; crypto/tls's exact reason is in that
side's evidence line), and the scenario's evidence lines. Then one line with the
outcome ("held (chain-validation)" names the decisive defense), the expected
outcome, whether they match, the service and the seed, and the main evidence.
--seed replays a run: the same seed makes the simulated network take the same
random choices. With --run --format markdown, print the run as a handout
section instead (as 'tlslab run --format markdown' does), with a sequence
diagram of the messages between hosts (Mermaid, which GitHub draws) and the
timeline.

With --file FILE instead of NAME, describe or run the scenario in the YAML
scenario file FILE, as 'tlslab run --file' reads it.

Exit status: without --run 0; with --run 0 when the verdict matches the
expectation, 1 when it differs or the run errored; 2 for usage errors and an
unknown scenario (the closest names are suggested) and a malformed
--file (the message names its line and column); 130 or 143 when SIGINT or
SIGTERM stopped the run (nothing is printed but that).`,
		Example: `  tlslab show baseline/fe-to-fe-mtls
  tlslab show eavesdrop/plaintext
  tlslab show eavesdrop/plaintext --format json
  tlslab show mitm/self-signed --run
  tlslab show mitm/self-signed --run --seed 42
  tlslab show dns/on-path-spoof --run --format markdown > on-path-spoof.md
  tlslab show --file scenarios/examples/forged-ca-trusted.yaml --run`,
		Args: func(cmd *cobra.Command, args []string) error {
			return showArgs(args, f)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !f.run {
				for _, name := range []string{"seed", "timeout"} {
					if cmd.Flags().Changed(name) {
						return usagef("--%s applies only with --run", name)
					}
				}
			}
			var format string
			if f.run {
				f.runFormat = "text"
				if cmd.Flags().Changed("format") {
					f.runFormat = strings.ToLower(f.format)
					if f.runFormat != "text" && f.runFormat != "markdown" {
						return usagef("invalid --format %q with --run; want text or markdown", f.format)
					}
				}
			} else {
				var err error
				if format, err = checkListFormat(f.format); err != nil {
					return err
				}
			}
			if err := f.htmlShowFlags.check(f.run); err != nil {
				return err
			}
			if f.run && f.timeout <= 0 {
				return usagef("invalid --timeout %v; want a positive duration such as 10s", f.timeout)
			}
			if err := st.validCatalog(); err != nil {
				return err
			}
			s, err := st.showTarget(args, f)
			if err != nil {
				return err
			}
			if f.run {
				return st.showRun(cmd, s, f)
			}
			write := report.WriteShow
			if format == "json" {
				write = report.WriteShowJSON
			}
			if err := write(st.stdout, s, s.DefensesFor()); err != nil {
				return &runtimeError{err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "o", "table", "output format of the description: table or json (name, labels, summary, expected, stopped_by, expected_outcome, attacker, story, defenses); with --run, text or markdown (default text)")
	fl.BoolVar(&f.run, "run", false, "run the scenario once and print its timeline and verdict")
	fl.DurationVar(&f.timeout, "timeout", lab.DefaultTimeout, "deadline of the run (with --run)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for the simulated network (with --run; 0: random, reported in the verdict line)")
	fl.StringVarP(&f.file, "file", "f", "", "show the scenario in the YAML scenario `FILE` instead of a catalog scenario NAME")
	f.htmlShowFlags.register(fl)
	return cmd
}

// showRun runs s once with a timeline and prints it, then the verdict
// line "NAME: OUTCOME; expected OUTCOME, as expected; service S, seed N"
// ("NOT as expected" when Result.OK is false) and the main evidence.
func (st *state) showRun(cmd *cobra.Command, s lab.Scenario, f showFlags) error {
	runner := lab.Runner{Timeout: f.timeout, Seed: f.seed}
	var (
		res lab.Result
		tl  timeline.Events
		err error
	)
	if f.html != "" {
		res, err = st.showHTML(cmd, s, runner, f.htmlShowFlags)
	} else {
		res, tl = timeline.Record(cmd.Context(), runner, s)
	}
	if wasInterrupted(cmd.Context(), res) {
		st.interrupted(cmd.Context(), 0, 1, "scenarios")
		return nil
	}
	if err != nil {
		return err
	}
	if f.runFormat == "markdown" {
		err := report.WriteHandout(st.stdout, []lab.Scenario{s}, []lab.Result{res},
			report.HandoutOptions{Timelines: map[string]timeline.Events{s.Name: tl}})
		if err != nil {
			return &runtimeError{err: fmt.Errorf("writing the handout: %w", err)}
		}
		st.reportPanic(res)
		if !res.OK {
			st.code = ExitMismatch
		}
		return nil
	}
	if err := timeline.Write(st.stdout, tl); err != nil {
		return &runtimeError{err: fmt.Errorf("writing the timeline: %w", err)}
	}
	match := "as expected"
	if !res.OK {
		match = "NOT as expected"
	}
	_, err = fmt.Fprintf(st.stdout, "\n%s: %s; expected %s, %s; service %s, seed %d\n  %s\n",
		res.Scenario, res.Outcome(), res.ExpectedOutcome(), match, res.Service, res.Seed, res.MainEvidence())
	if err != nil {
		return &runtimeError{err: fmt.Errorf("writing the verdict: %w", err)}
	}
	st.reportPanic(res)
	if !res.OK {
		st.code = ExitMismatch
	}
	return nil
}

// reportPanic prints the stack of a scenario that panicked to stderr.
func (st *state) reportPanic(res lab.Result) {
	var p *lab.PanicError
	if errors.As(res.Err, &p) {
		fmt.Fprintf(st.stderr, "tlslab: %v\n%s\n", p, p.Stack)
	}
}

// Package cli is the tlslab command line: flags and arguments in, lab API
// calls, reports out. It lives apart from package main so tests can drive it
// with a fake catalog.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/internal/suggest"
	"github.com/tlslab/tlslab/lab"
)

// Exit codes returned by Run; an interrupted run returns 128 + the
// signal's number (see ExitInterrupted).
const (
	ExitOK       = 0 // every verdict matched its expectation (or nothing was run: list, help)
	ExitMismatch = 1 // a verdict differed from its expectation, a scenario errored, or output failed
	ExitUsage    = 2 // the command line was wrong: unknown command, flag, value, label or scenario, a bad input file or output path
)

// Run executes the tlslab command line args (without the program name) against
// catalog, writing reports to stdout and messages to stderr, and returns the
// process exit code. It never panics on bad input and never prints cobra's
// usage dump for errors: a usage error gets one line saying what was wrong and
// where, and a hint naming the help to read. ctx cancels running scenarios:
// when it is canceled before a run or matrix completes, Run reports what
// completed, writes no report file and no baseline, says on stderr how far
// it got, and returns 128 + the signal's number when ctx came from
// NotifyContext (ExitInterrupted otherwise).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, l Lab) int {
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	st := &state{catalog: l.Catalog, parseFile: l.parseFileNotes(), stdout: stdout, stderr: stderr}
	root := newRoot(st)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return st.code
	}
	var rt *runtimeError
	if errors.As(err, &rt) {
		fmt.Fprintf(stderr, "tlslab: %v\n", rt.err)
		return ExitMismatch
	}
	fmt.Fprintf(stderr, "tlslab: %s\n", usageMessage(cmd, err))
	fmt.Fprintf(stderr, "run '%s' for usage\n", helpCommand(cmd))
	return ExitUsage
}

// Lab is what the command line works on.
type Lab struct {
	Catalog lab.Catalog
	// ParseFile parses the contents of a YAML scenario file for --file;
	// name is the path messages should give. Nil means --file is refused.
	// Its errors name the file, line and field. The command line reads the
	// file itself (see MaxScenarioFileSize).
	ParseFile func(name string, data []byte) (lab.Scenario, error)
	// ParseFileNotes, when set, is used instead of ParseFile: it also
	// returns notes on a valid file (a deprecated key, say), each
	// "FILE:LINE:COL: FIELD: MSG", which the command line prints on stderr.
	ParseFileNotes func(name string, data []byte) (lab.Scenario, []string, error)
}

// parseFileNotes returns ParseFileNotes, or ParseFile with no notes, or
// nil.
func (l Lab) parseFileNotes() func(name string, data []byte) (lab.Scenario, []string, error) {
	if l.ParseFileNotes != nil || l.ParseFile == nil {
		return l.ParseFileNotes
	}
	return func(name string, data []byte) (lab.Scenario, []string, error) {
		s, err := l.ParseFile(name, data)
		return s, nil, err
	}
}

// state is what the commands share during one Run.
type state struct {
	catalog        lab.Catalog
	parseFile      func(name string, data []byte) (lab.Scenario, []string, error)
	stdout, stderr io.Writer
	code           int // exit code when no error is returned
}

func newRoot(st *state) *cobra.Command {
	root := &cobra.Command{
		Use:   "tlslab",
		Short: "Simulate attacks on a TLS/SIP deployment and measure whether its defenses hold",
		Long: `tlslab runs attack scenarios against a simulated enterprise SIP deployment
(clients, Front End pools, Edge servers, federated partners) and judges each one
from what it observed: "broken" when the attacker demonstrably got what it
wanted (a planted canary, an accepted identity, an accepted injected message);
"held (DEFENSE)" when the attack was carried out and a defense that is on was
seen refusing it, the decisive defense named; "passed" when a baseline without
an attacker delivered its canary; "error" when the scenario could not be
carried out or the evidence was inconclusive (the attack was not carried out,
no defense was seen refusing it). The expected outcome, a held one with its
decisive defense, is compared only afterwards.

Exit status: 0 when every verdict matches its expectation, 1 when any differs
or errors, 2 for usage errors.`,
		Example: `  tlslab list
  tlslab run
  tlslab run eavesdrop/tls --format json
  tlslab run --label mitm --pcap out --keylog out
  tlslab matrix --format markdown
  tlslab show baseline/fe-to-fe-mtls`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("missing command; want one of: %s", strings.Join(commandNames(cmd), ", "))
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &flagError{err: err}
	})
	root.AddCommand(newListCmd(st), newRunCmd(st), newMatrixCmd(st), newShowCmd(st), newMergeCmd(st))
	root.AddCommand(newVersionCmd(st), newServeCmd(st))
	setVersion(root)
	return root
}

func commandNames(root *cobra.Command) []string {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			names = append(names, c.Name())
		}
	}
	return names
}

func unknownCommand(root *cobra.Command, name string) error {
	names := commandNames(root)
	msg := fmt.Sprintf("unknown command %q; want one of: %s", name, strings.Join(names, ", "))
	if best, ok := suggest.Typo(name, names); ok {
		msg = fmt.Sprintf("unknown command %q; did you mean %q?", name, best)
	}
	return &usageError{msg: msg}
}

// validCatalog refuses to work with a catalog that breaks lab's rules: that
// is a bug in the scenarios package, not in the command line.
func (st *state) validCatalog() error {
	if err := st.catalog.Validate(); err != nil {
		return &runtimeError{err: fmt.Errorf("the scenario catalog is invalid:\n%w", err)}
	}
	return nil
}

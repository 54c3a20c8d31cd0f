// Command tlslab runs the lab's attack scenarios and reports their verdicts.
// See 'tlslab help'.
//
// SIGINT and SIGTERM stop a run: the scenarios running are stopped and
// their files completed, what completed is reported, and the exit code is
// 130 for SIGINT, 143 for SIGTERM (see cli.Run).
package main

import (
	"context"
	"os"

	"github.com/tlslab/tlslab/cmd/tlslab/internal/cli"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/scenarios"
)

func main() {
	ctx, stop := cli.NotifyContext(context.Background())
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.Lab{Catalog: scenarios.Catalog(), ParseFileNotes: parseFileNotes})
	stop()
	os.Exit(code)
}

// parseFileNotes is scenarios.ParseFileNotes with its notes as text.
func parseFileNotes(name string, data []byte) (lab.Scenario, []string, error) {
	s, notes, err := scenarios.ParseFileNotes(name, data)
	lines := make([]string, len(notes))
	for i, n := range notes {
		lines[i] = n.String()
	}
	return s, lines, err
}

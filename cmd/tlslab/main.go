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
	"github.com/tlslab/tlslab/scenarios"
)

func main() {
	ctx, stop := cli.NotifyContext(context.Background())
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.Lab{Catalog: scenarios.Catalog(), ParseFile: scenarios.ParseFile})
	stop()
	os.Exit(code)
}

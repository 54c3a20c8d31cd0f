// Command tlslab runs the lab's attack scenarios and reports their verdicts.
// See 'tlslab help'.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/tlslab/tlslab/cmd/tlslab/internal/cli"
	"github.com/tlslab/tlslab/scenarios"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.Lab{Catalog: scenarios.Catalog(), LoadFile: scenarios.LoadFile})
	stop()
	os.Exit(code)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/viewer"
)

// serveHost is the only address serve listens on: it runs scenarios for
// whoever connects, so it is for the machine it runs on.
const serveHost = "127.0.0.1"

type serveFlags struct {
	addr    string
	files   []string
	timeout time.Duration
}

func newServeCmd(st *state) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:PORT] [--file FILE]... [--timeout D]",
		Short: "Browse the catalog in a web browser, switch defenses, run and see each run drawn",
		Long: `Serve the catalog on http://127.0.0.1:PORT/ for a web browser: the scenarios and
the scenario files given with --file; for each scenario its story and a form
of every defense switch, set as the scenario declares it; Run runs it with
the switches as set and shows the run's page below the form (the ladder
diagram of the timeline, each arrow opening its frame's annotated bytes, the
verdict and decisive defense, the evidence, the topology, and the capture
and key log to download). Change a switch and run again to see the verdict
change. Pages load nothing from elsewhere and work from the keyboard.

serve listens on 127.0.0.1 only, since it runs scenarios for whoever
connects: any other address is refused. --addr 127.0.0.1:0 picks a free
port. The address it serves is printed on stdout. SIGINT (Ctrl-C) or SIGTERM
stops it: running scenarios are canceled and it exits 0.

Exit status: 0 when stopped by a signal, 2 for usage errors (another
address, a port in use, a bad scenario file), 1 when serving failed.`,
		Example: `  tlslab serve
  tlslab serve --addr 127.0.0.1:9000 --file scenarios/examples/forged-ca-trusted.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return st.serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", serveHost+":8080", "address to listen on: 127.0.0.1:PORT (no other host)")
	fl.StringArrayVar(&f.files, "file", nil, "also offer the scenario in this YAML `FILE` (repeatable)")
	fl.DurationVar(&f.timeout, "timeout", lab.DefaultTimeout, "deadline of each run")
	return cmd
}

// checkServeAddr accepts 127.0.0.1:PORT only.
func checkServeAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("invalid --addr %q: %v; want 127.0.0.1:PORT", addr, err)
	}
	if host != serveHost {
		return usagef("serve listens on 127.0.0.1 only (it runs scenarios for whoever connects); --addr %q names host %q; want 127.0.0.1:%s", addr, host, port)
	}
	return nil
}

func (st *state) serve(ctx context.Context, f serveFlags) error {
	if err := checkServeAddr(f.addr); err != nil {
		return err
	}
	if f.timeout <= 0 {
		return usagef("invalid --timeout %v; want a positive duration such as 10s", f.timeout)
	}
	if err := st.validCatalog(); err != nil {
		return err
	}
	fromFiles, err := st.loadFiles(f.files)
	if err != nil {
		return err
	}
	catalog := append(append(lab.Catalog(nil), st.catalog...), fromFiles...)
	var files []viewer.ScenarioFile
	for i, p := range f.files {
		data, err := safefile.ReadRegular(p, MaxScenarioFileSize)
		if err != nil {
			return usagef("scenario file %v", err)
		}
		files = append(files, viewer.ScenarioFile{Name: p, Scenario: fromFiles[i].Name, Text: string(data)})
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usagef("cannot listen on %s: %v", f.addr, err)
	}
	dir, err := os.MkdirTemp("", "tlslab-serve-")
	if err != nil {
		ln.Close()
		return &runtimeError{err: err}
	}
	defer os.RemoveAll(dir)
	addr := ln.Addr().String()
	srv := &http.Server{
		Handler: viewer.NewServer(viewer.ServerConfig{
			Catalog: catalog, Files: files, Dir: dir, Host: addr,
			Runner: lab.Runner{Timeout: f.timeout},
		}),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(st.stdout, "tlslab: serving http://%s/ (Ctrl-C stops)\n", addr)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return &runtimeError{err: fmt.Errorf("serving %s: %w", addr, err)}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &runtimeError{err: err}
	}
	fmt.Fprintln(st.stderr, "tlslab: stopped serving")
	return nil
}

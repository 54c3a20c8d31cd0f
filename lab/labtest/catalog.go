package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
	"github.com/tlslab/tlslab/netsim"
)

// WithJUnit makes RunCatalog write a JUnit XML report of every scenario,
// as testsuite suite, to path ("" for <suite>.xml in the parent test's
// artifact directory).
func WithJUnit(suite, path string) Option {
	return func(c *config) { c.suite, c.junit = suite, path }
}

// WithReplayHint is the command RunCatalog's reports give to replay a
// result; %s is replaced by the scenario's name and %d by its seed, e.g.
// "go test -run 'TestCatalog/%s' ./... -args -seed=%d".
func WithReplayHint(format string) Option { return func(c *config) { c.replay = format } }

// RunCatalog runs each scenario of catalog as a subtest of t (named after
// the scenario), each in a fresh World judged by the lab oracle, and fails
// the subtest whose verdict is not the expected one (for held, by the
// expected defense). Every scenario's pcapng and key log go to its
// subtest's artifact directory. WithSeed, WithImpair, WithJUnit and
// WithReplayHint apply.
func RunCatalog(t *testing.T, catalog []lab.Scenario, opts ...Option) []lab.Result {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	var impair netsim.ImpairSpec
	for _, s := range c.impair {
		spec, err := netsim.ParseImpairSpec(s)
		if err != nil {
			t.Fatalf("labtest: WithImpair(%q): %v", s, err)
		}
		impair.Rules = append(impair.Rules, spec.Rules...)
	}
	if err := lab.Catalog(catalog).Validate(); err != nil {
		t.Fatalf("labtest: catalog: %v", err)
	}
	var mu sync.Mutex
	results := make([]lab.Result, 0, len(catalog))
	for _, s := range catalog {
		t.Run(s.Name, func(t *testing.T) {
			dir := artifactDir(t)
			r := lab.Runner{Seed: c.seed, Impair: impair, PcapDir: dir, KeyLogDir: dir}.Run(context.Background(), s)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
			if !r.OK {
				t.Errorf("labtest: %s: want %s, got %s", s.Name, r.ExpectedOutcome(), describe(r))
			}
			if r.Pcap != "" {
				t.Logf("labtest: capture %s, key log %s", r.Pcap, r.KeyLog)
			}
		})
	}
	if c.junit != "" || c.suite != "" {
		path := c.junit
		if path == "" {
			path = filepath.Join(artifactDir(t), c.suite+".xml")
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatalf("labtest: JUnit report: %v", err)
		}
		defer f.Close()
		jo := report.JUnitOptions{Suite: c.suite}
		if c.replay != "" {
			jo.Replay = func(r lab.Result) string {
				return strings.NewReplacer("%s", r.Scenario, "%d", fmt.Sprint(r.Seed)).Replace(c.replay)
			}
		}
		if err := report.WriteJUnitWith(f, catalog, results, jo); err != nil {
			t.Fatalf("labtest: JUnit report: %v", err)
		}
		t.Logf("labtest: JUnit report %s", path)
	}
	return results
}

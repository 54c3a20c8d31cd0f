package labtest

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/tlslab/tlslab/lab"
)

// Scenario returns s with its Run written as body, on a World built on the
// run's lab.Env: the Runner's network, seed, impairments, evidence,
// canaries, key log and capture. It is how a catalog of your own
// scenarios, with your own topology, uses the same hosts, servers and
// attacks as a test (run them with RunCatalog, lab.Runner or tlslab's
// reports):
//
//	labtest.Scenario(lab.Scenario{Name: "api/mitm", Attacker: "mallory, ARP spoofing",
//		Expected: lab.Held, StoppedBy: []string{lab.DefenseHostnameCheck}}, func(w *labtest.World) {
//		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
//		api.ServeHTTP(443, ca.ServerConfig("api.lan"), handler)
//		w.MITM(client, api, 443, labtest.Presenting(ca.OtherName("mallory.lan")))
//		client.HTTPClient(myTLSConfig(ca.Pool())).Get("https://api.lan/?" + w.Canary("client").String())
//	})
//
// The Runner judges the run as any other (lab.Decide): the scenario is an
// attack when s.Attacker is set, a baseline otherwise. When body returns,
// what the attacks obtained is collected and everything the World started
// is stopped. A fatal error (a labtest call that fails, or World.Fatalf)
// ends body at once and becomes the run's error; so does the run's
// deadline, after which body is abandoned.
func Scenario(s lab.Scenario, body func(w *World)) lab.Scenario {
	s.Run = func(ctx context.Context, env *lab.Env) error {
		run := &scenarioRun{name: s.Name}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := newWorld(run, ctx, env.World, env.Evidence)
		w.env, w.keyLog = env, env.KeyLog
		done := make(chan struct{})
		go func() {
			defer close(done)
			body(w)
			w.collect()
		}()
		select {
		case <-done:
		case <-ctx.Done():
			run.fail(context.Cause(ctx))
		}
		w.stop()
		return run.err()
	}
	return s
}

// Fatalf ends the World's test (t.Fatalf) or scenario body with the
// formatted error, from the goroutine running it.
func (w *World) Fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf(format, args...)
}

// scenarioRun is the owner of a Scenario's World: a fatal error is kept
// as the run's error and ends the goroutine that raised it.
type scenarioRun struct {
	name string

	mu    sync.Mutex
	fatal error
}

func (r *scenarioRun) Helper()      {}
func (r *scenarioRun) Name() string { return r.name }

func (r *scenarioRun) Fatalf(format string, args ...any) {
	r.fail(fmt.Errorf(format, args...))
	runtime.Goexit()
}

// fail keeps err unless an error is already kept.
func (r *scenarioRun) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

func (r *scenarioRun) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

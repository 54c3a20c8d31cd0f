package timeline_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// recordingObserver counts what a run showed it.
type recordingObserver struct {
	mu       sync.Mutex
	starts   int
	world    *netsim.World
	frames   int
	keyLines int
	checks   []lab.CertificateCheck
	evidence []lab.EvidenceEntry
	finishes int
}

func (o *recordingObserver) Start(w *netsim.World) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts++
	o.world = w
}

func (o *recordingObserver) ObserveFrame(time.Time, []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.frames++
}

func (o *recordingObserver) KeyLogged(lines []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keyLines += bytes.Count(lines, []byte("\n"))
}

func (o *recordingObserver) CertificateChecked(c lab.CertificateCheck) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checks = append(o.checks, c)
}

func (o *recordingObserver) Finish(evidence []lab.EvidenceEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finishes++
	o.evidence = evidence
}

// TestRunObserved runs the timeline's test scenario with an observer of its
// own: it hears the run through the Observer interface alone, and the run
// is judged exactly as without it.
func TestRunObserved(t *testing.T) {
	p := newTLPKI(t)
	s := tlScenario(p)
	plain := lab.Runner{}.Run(context.Background(), s)
	obs := &recordingObserver{}
	observed := lab.Runner{}.RunObserved(context.Background(), s, obs)

	if observed.Verdict != plain.Verdict || strings.Join(observed.Evidence, "\n") != strings.Join(plain.Evidence, "\n") {
		t.Errorf("observed run: %s %q, want as unobserved: %s %q", observed.Verdict, observed.Evidence, plain.Verdict, plain.Evidence)
	}
	if obs.starts != 1 || obs.finishes != 1 || obs.world == nil {
		t.Fatalf("Start called %d times, Finish %d, want 1 each", obs.starts, obs.finishes)
	}
	if obs.frames == 0 || obs.keyLines == 0 {
		t.Errorf("observer saw %d frames and %d key log lines, want some of each", obs.frames, obs.keyLines)
	}
	// crypto/tls refuses the untrusted chain itself, before VerifyConnection;
	// the policy's configs report the chains they accepted.
	if len(obs.checks) == 0 {
		t.Error("no certificate check reported")
	}
	// TLS 1.3 logs its handshake secrets before the peer's Certificate
	// arrives, so those checks know their handshake; TLS 1.2 logs after.
	var withRandom int
	for _, c := range obs.checks {
		if c.ServerName != "srv.lab.test" || len(c.Chain) == 0 || c.At.IsZero() || c.ByServer || c.Err != nil {
			t.Errorf("check %+v: want alice accepting srv.lab.test's chain, timed", c)
		}
		if len(c.ClientRandom) == 32 {
			withRandom++
		}
	}
	if withRandom == 0 {
		t.Error("no check named its handshake's client random")
	}
	if len(obs.evidence) != len(observed.Evidence) {
		t.Fatalf("Finish gave %d evidence lines, the result has %d", len(obs.evidence), len(observed.Evidence))
	}
	for i, e := range obs.evidence {
		if line := e.Actor + ": " + e.Text; e.Actor != "" && line != observed.Evidence[i] {
			t.Errorf("evidence %d: %q, result says %q", i, line, observed.Evidence[i])
		}
	}
}

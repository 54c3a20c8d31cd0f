package lab

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"

	"github.com/tlslab/tlslab/netsim"
)

// Env is everything a scenario's Run gets from the [Runner]: a fresh world,
// optional artifacts, and the place to record evidence. One Env belongs to one
// run; its methods are safe for concurrent use by the scenario's goroutines.
type Env struct {
	// World is a fresh simulated network, closed by the Runner when Run
	// returns or the deadline passes. Run must not close it.
	World *netsim.World

	// KeyLog receives TLS secrets in NSS key log format. It is nil unless a
	// key log directory, or keys embedded in the capture (Runner.EmbedKeys),
	// were requested; put it into tls.Config.KeyLogWriter
	// (a nil KeyLog leaves key logging off). Writes are serialized and
	// never fail: a write error (a full disk) is kept, not returned to the
	// TLS stack, which would abort the handshake, and the Runner turns it
	// into an Error result.
	KeyLog io.Writer

	// Evidence is where Run records what it observed. Never nil.
	Evidence *Evidence

	// Defenses are the switches in force for this run: Hardened(), then the
	// scenario's own changes (Scenario.Defenses), then the Runner's
	// Override. Topology presets read them when they build the world (see
	// ContosoConfig.Build); Run may read them too, and must not change them
	// (the Runner reports on the value it set).
	Defenses Defenses

	// Distrusted is the run's enterprise distrust list, empty at the
	// start: a scenario adds the roots the enterprise distrusts, and every
	// config of TLSPolicy refuses them while the distrust-list defense is
	// on.
	Distrusted DistrustList

	// RealPeers are the real programs the Runner put in place of the
	// scenario's simulated peers (Runner.RealPeers), within the roles the
	// scenario offers; empty templates leave a peer simulated.
	RealPeers RealPeers

	rand     io.Reader // source of canary tokens
	sabotage Sabotage
	keys     *lockedWriter // the key log file's writer, nil without one

	mu         sync.Mutex
	capture    *netsim.Capture // nil when no pcap was requested or after teardown
	captureErr error           // first error from AttachSegment
	canaries   []Canary
	scenario   string   // the scenario's name, for artifact names
	peerLogDir string   // Runner.PeerLogDir
	peerLogs   []string // files ProgramLog wrote

	observer Observer // nil unless the run is observed (Runner.RunObserved)
	untap    []func() // removes the observer's taps
}

// newEnv builds the Env for one run. capture, keyLog and obs may be nil;
// rnd nil means crypto/rand. With obs, KeyLog is never nil: every line a TLS
// stack logs also goes to obs.KeyLogged.
func newEnv(world *netsim.World, capture *netsim.Capture, keyLog io.Writer, rnd io.Reader, d Defenses, obs Observer) *Env {
	if rnd == nil {
		rnd = rand.Reader
	}
	env := &Env{World: world, Evidence: &Evidence{clock: world.Now}, Defenses: d, rand: rnd, capture: capture, observer: obs}
	if keyLog != nil {
		env.keys = &lockedWriter{w: keyLog}
		env.KeyLog = env.keys
	}
	if capture != nil {
		env.Evidence.refused = env.noteRefusal
	}
	if obs != nil {
		env.KeyLog = &observedKeyLog{w: env.KeyLog, obs: obs}
	}
	return env
}

// TLSPolicy returns the policy of the run's defenses: judged on the World's
// clock, logging secrets to KeyLog, and reporting its configs' certificate
// decisions to the run's Observer, if any. Topology presets and scenarios
// build every TLS config of the defended deployment from it.
func (e *Env) TLSPolicy() TLSPolicy {
	return TLSPolicy{Defenses: e.Defenses, Now: e.World.Now, KeyLog: e.KeyLog, Observer: e.observer, Distrusted: &e.Distrusted}
}

// Capture adds seg to the scenario's pcapng capture as one more interface,
// and, when the run is observed (Runner.RunObserved), to the frames the
// Observer sees. It does nothing when neither was requested, or after
// the run was torn down. A failure to attach is reported by the Runner as an
// Error result, since the capture the user asked for would be incomplete.
func (e *Env) Capture(seg *netsim.Segment) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if seg == nil {
		return
	}
	if e.observer != nil {
		e.untap = append(e.untap, seg.AddTap(e.observer))
	}
	if e.capture == nil {
		return
	}
	if err := e.capture.AttachSegment(seg); err != nil && e.captureErr == nil {
		e.captureErr = fmt.Errorf("lab: pcap: attaching segment %q: %w", seg.Name(), err)
	}
}

// Recorded reports whether the run's frames are being recorded: a pcapng
// capture was asked for, or the run is observed (a timeline, a page).
// A scenario may then wait for trailing traffic that changes no verdict
// but that a recording should show (a genuine DNS answer arriving after a
// forgery); unrecorded runs, such as the matrix's cells, need not.
func (e *Env) Recorded() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.capture != nil || e.observer != nil
}

// detachCapture stops further Capture calls and returns the capture (maybe nil)
// and the first attach error.
func (e *Env) detachCapture() (*netsim.Capture, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.capture
	e.capture = nil
	for _, remove := range e.untap {
		remove()
	}
	e.untap, e.observer = nil, nil
	return c, e.captureErr
}

// NewCanary returns a new canary for owner with a token that is unique within
// this Env, and registers it so [Env.Canaries] returns it. Tokens come from
// crypto/rand unless the Runner was given another source. NewCanary panics if
// the randomness source fails, which crypto/rand does not.
func (e *Env) NewCanary(owner string) Canary {
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		tok, err := newCanaryToken(e.rand)
		if err != nil {
			panic(err)
		}
		if !e.hasTokenLocked(tok) {
			c := Canary{Owner: owner, Token: tok}
			e.canaries = append(e.canaries, c)
			return c
		}
	}
}

func (e *Env) hasTokenLocked(tok string) bool {
	for _, c := range e.canaries {
		if c.Token == tok {
			return true
		}
	}
	return false
}

// Canaries returns a copy of every canary created so far, in creation order.
func (e *Env) Canaries() []Canary {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Canary(nil), e.canaries...)
}

// Sabotage returns how the Runner asked to break the scenario's attacker
// (Runner.Sabotage); SabotageNone normally.
func (e *Env) Sabotage() Sabotage { return e.sabotage }

// programLogs returns the paths ProgramLog wrote.
func (e *Env) programLogs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.peerLogs...)
}

// keyLogErr returns the first error writing the key log, or nil.
func (e *Env) keyLogErr() error {
	if e.keys == nil {
		return nil
	}
	e.keys.mu.Lock()
	defer e.keys.mu.Unlock()
	return e.keys.err
}

// observedKeyLog is Env.KeyLog in an observed run: it passes key log lines
// to the run's key log file, if any, and to the Observer.
type observedKeyLog struct {
	w   io.Writer // nil: no key log file was asked for
	obs Observer
}

func (k *observedKeyLog) Write(p []byte) (int, error) {
	k.obs.KeyLogged(p)
	if k.w == nil {
		return len(p), nil
	}
	return k.w.Write(p)
}

// lockedWriter serializes writes from the TLS stacks of several actors. It
// never fails: the first write error is kept in err and later writes are
// dropped, so a key log that cannot be written never aborts a handshake.
type lockedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		if _, err := l.w.Write(p); err != nil {
			l.err = err
		}
	}
	return len(p), nil
}

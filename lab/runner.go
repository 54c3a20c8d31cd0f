package lab

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// Defaults for the zero Runner.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultStopGrace = time.Second
)

// Runner runs scenarios, each in a fresh World, and judges them with [Decide].
// The zero value is ready to use: 30 s per scenario, no artifacts, a random
// seed per scenario. A Runner holds no state between runs; it may be used from
// several goroutines if Rand is safe for concurrent use and the same scenario
// is not run twice at once into the same directories.
type Runner struct {
	// Timeout bounds each scenario's Run. Zero or negative means DefaultTimeout.
	Timeout time.Duration
	// StopGrace is how long the Runner waits for Run to return after the
	// deadline passed and the World was closed, before abandoning it with a
	// *NotStoppedError. Zero or negative means DefaultStopGrace.
	StopGrace time.Duration
	// PcapDir, when not "", receives one pcapng file per scenario,
	// "<PcapDir>/<family>-<name>.pcapng" (mode 0644), holding every segment
	// the scenario passed to Env.Capture. The directory is created (0755)
	// if missing. Each artifact is written under a new temporary name in
	// its directory and renamed to its final name when the run ends, even
	// an errored or canceled one, so a final name only ever holds a
	// complete file; the rename replaces whatever had that name, a symlink
	// included, and never writes through it (see CreateArtifact).
	PcapDir string
	// KeyLogDir, when not "", receives one NSS key log per scenario,
	// "<KeyLogDir>/<family>-<name>.keys", fed through Env.KeyLog. Wireshark
	// decrypts the pcapng with it. Key logs hold TLS secrets: they are mode
	// 0600, and the directory is created 0700 if missing (an existing one
	// keeps its mode). Written like the pcapng files.
	KeyLogDir string
	// EmbedKeys, with PcapDir, also writes the run's TLS secrets into
	// each pcapng (Decryption Secrets Blocks, ahead of the frames they
	// decrypt), so the capture opens decrypted with no separate key log;
	// the file then holds TLS secrets too. Every run's capture also
	// carries packet comments: the frames its attackers forged and the
	// frames on which a defense refused a handshake.
	EmbedKeys bool
	// CreateArtifact, when non-nil, creates each artifact file in place of
	// the default, a temporary file renamed into place by Commit (see
	// internal/safefile). path is the final name; its directory exists.
	// It is for tests that need a file that fails, such as a key log on a
	// full disk (/dev/full); the error of a failing write is reported as
	// the default file's would be.
	CreateArtifact func(path string, perm fs.FileMode) (ArtifactFile, error)
	// Seed seeds every scenario's World (each scenario gets a fresh World
	// with this same seed, so a scenario replays alike whatever else runs).
	// Zero means a random seed per World; Result.Seed reports the one used.
	Seed uint64
	// Rand is the source of canary tokens. Nil means crypto/rand.
	Rand io.Reader
	// Override, when non-nil, changes every scenario's defenses after the
	// scenario's own changes: a matrix run turns one switch off across the
	// catalog with it. Each run gets Hardened().With(s.Defenses, Override)
	// as Env.Defenses. It is called once per run, possibly from several
	// goroutines when the Runner is shared, and must only assign fields.
	Override func(*Defenses)
	// Parallel is how many scenarios RunAll runs at once, each in its own
	// World. Zero or one means one after another. Verdicts do not depend on
	// it: worlds share nothing.
	Parallel int
	// Sabotage, for tests of the oracle, breaks every scenario's attacker
	// the same way (see Sabotage); SabotageNone (the zero value) runs
	// attackers as written.
	Sabotage Sabotage
	// Impair impairs every run's network (see netsim.ImpairSpec: loss,
	// delay, reordering, a host cut off ...), after the scenario's own
	// Scenario.Impair, so its rules win for the targets both name. The
	// zero value impairs nothing.
	Impair netsim.ImpairSpec
	// RealPeers puts real programs (openssl, gnutls-cli ...) in place of
	// simulated peers, in the scenarios that offer those roles
	// (Scenario.RealPeers); another scenario's result is an Error with a
	// *RealPeerError.
	RealPeers RealPeers
	// PeerLogDir, when not "", receives the output of every real program
	// a scenario runs, "<PeerLogDir>/<family>-<name>.<role>.log" (see
	// Env.ProgramLog); Result.PeerLogs lists them.
	PeerLogDir string
	// Progress, when non-nil, is called by RunAll after each scenario
	// finishes, with the number finished so far, the total, and the result.
	// Calls are serialized (never concurrent), in completion order.
	Progress func(done, total int, r Result)
}

// Defenses returns the switches s runs with under this Runner:
// Hardened(), then s.Defenses, then r.Override.
func (r Runner) Defenses(s Scenario) Defenses { return Hardened().With(s.Defenses, r.Override) }

// RunAll runs scenarios, Parallel at a time (one after another by default),
// and returns one result per scenario in the order given, whatever order they
// finished in. When ctx is canceled the scenarios not yet started are not
// started; each of them gets an Error result.
func (r Runner) RunAll(ctx context.Context, scenarios []Scenario) []Result {
	results := make([]Result, len(scenarios))
	workers := min(max(r.Parallel, 1), max(len(scenarios), 1))
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // serializes Progress
		done int
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] = r.Run(ctx, scenarios[i])
				if r.Progress != nil {
					mu.Lock()
					done++
					r.Progress(done, len(scenarios), results[i])
					mu.Unlock()
				}
			}
		})
	}
	for i := range scenarios {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// Run runs one scenario and returns its result; it never panics because of
// the scenario.
//
// It creates a fresh World and the requested artifacts, calls s.Run with an
// Env under a context that expires after Timeout, and closes the World as soon
// as Run returns or the deadline passes (closing stops every goroutine of the
// World and unblocks all its connections). If Run has not returned StopGrace
// after that, it is abandoned and the result is an Error with a
// *NotStoppedError. A panic in Run becomes an Error with a *PanicError. The
// verdict then comes from [Decide]; the scenario's Expected is only compared
// with it afterwards.
func (r Runner) Run(ctx context.Context, s Scenario) Result { return r.RunObserved(ctx, s, nil) }

// RunObserved runs s exactly as Run does while obs, when not nil, watches
// the run (see Observer): obs sees the frames of every segment the
// scenario captures, every key log line, the certificate decisions of the
// run's TLSPolicy and, at the end, the evidence. Observing changes nothing
// the scenario can see but this: Env.KeyLog is never nil (it discards the
// secrets unless KeyLogDir asks for them).
func (r Runner) RunObserved(ctx context.Context, s Scenario, obs Observer) Result {
	start := time.Now()
	res := Result{
		Scenario: s.Name,
		Source:   s.Source,
		Labels:   slices.Clone(s.Labels),
		Expected: s.Expected,
		Service:  ServiceUnknown,
	}
	if s.Expected == Held {
		res.ExpectedStoppedBy = s.StoppedBy
	}
	err := r.run(ctx, s, &res, obs)
	j := Decide(err, Observation{
		Attack:      s.Attacker != "",
		Defenses:    r.Defenses(s),
		Compromises: res.Compromises,
		Refusals:    res.Refusals,
		Milestones:  res.Milestones,
		Delivered:   res.delivered,
	})
	res.Verdict, res.StoppedBy, res.Err = j.Verdict, j.StoppedBy, j.Err
	if j.Refusals != nil { // judged: the refusals now say which were credited
		res.Refusals = j.Refusals
	}
	res.OK = Matches(res.Verdict, res.StoppedBy, res.Expected, res.ExpectedStoppedBy)
	res.Duration = time.Since(start)
	return res
}

// run does the work of Run and fills res's evidence and artifact fields;
// obs, when not nil, watches the run. The error it returns is the one
// handed to Decide.
func (r Runner) run(ctx context.Context, s Scenario, res *Result, obs Observer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lab: scenario %q not started: %w", s.Name, context.Cause(ctx))
	}
	if s.Run == nil {
		return fmt.Errorf("lab: scenario %q has no Run function", s.Name)
	}
	if err := checkRealPeers(s, r.RealPeers); err != nil {
		return err
	}
	world := netsim.NewWorld(netsim.Config{Seed: r.Seed})
	res.Seed = world.Seed()
	impair := netsim.ImpairSpec{Rules: append(slices.Clone(s.Impair.Rules), r.Impair.Rules...)}
	res.Impair = impair.String()
	if err := impair.Apply(world); err != nil {
		world.Close()
		return fmt.Errorf("lab: scenario %q: impairments %q: %w", s.Name, res.Impair, err)
	}
	art, err := r.openArtifacts(s.Name)
	if err != nil {
		world.Close()
		return err
	}
	res.Pcap, res.KeyLog = art.pcapPath, art.keyLogPath
	var keyLog io.Writer
	if art.keyLog != nil {
		keyLog = art.keyLog
	}
	if r.EmbedKeys && art.capture != nil {
		keyLog = embeddedKeyLog{capture: art.capture.KeyLogWriter(), file: keyLog}
	}
	if obs != nil {
		obs.Start(world)
	}
	env := newEnv(world, art.capture, keyLog, r.Rand, r.Defenses(s), obs)
	env.sabotage = r.Sabotage
	env.RealPeers, env.peerLogDir, env.scenario = r.RealPeers, r.PeerLogDir, s.Name

	runErr := r.execute(ctx, s, env, world)
	if err := env.keyLogErr(); err != nil && runErr == nil {
		runErr = fmt.Errorf("lab: key log %s: %w", art.keyLogPath, err)
	}

	capture, captureErr := env.detachCapture()
	closeErr := art.close(capture)
	res.Evidence = env.Evidence.Lines()
	res.Compromises = env.Evidence.Compromises()
	res.Refusals = env.Evidence.Refusals()
	res.Milestones = env.Evidence.Milestones()
	res.delivered = env.Evidence.WasDelivered()
	res.Service = env.Evidence.Service()
	res.PeerLogs = env.programLogs()
	if obs != nil {
		obs.Finish(env.Evidence.timedEntries())
	}
	for _, err := range []error{runErr, captureErr, closeErr} {
		if err != nil {
			return err
		}
	}
	return nil
}

// outcome is what the goroutine running s.Run reports.
type outcome struct {
	err    error
	ctxErr error // runCtx.Err() right after Run returned: was it stopped?
}

// execute calls s.Run under the deadline, closes the World, and waits for Run
// to stop. It returns Run's error, or why the run was incomplete.
func (r Runner) execute(ctx context.Context, s Scenario, env *Env, world *netsim.World) error {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	grace := r.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	done := make(chan outcome, 1) // buffered: an abandoned Run must not block
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{err: &PanicError{Scenario: s.Name, Value: v, Stack: debug.Stack()}, ctxErr: runCtx.Err()}
			}
		}()
		err := s.Run(runCtx, env)
		done <- outcome{err: err, ctxErr: runCtx.Err()}
	}()

	var out outcome
	returned := false
	select {
	case out = <-done:
		returned = true
	case <-runCtx.Done():
	}
	closeErr := world.Close()

	if !returned {
		cause := stopCause(ctx, s.Name, timeout, nil)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case out = <-done:
		case <-t.C:
			return &NotStoppedError{Scenario: s.Name, Grace: grace, Cause: cause}
		}
	}
	if out.ctxErr != nil {
		// Run was still going when the deadline passed or the caller gave
		// up: whatever it returned, the attack did not run to completion.
		return stopCause(ctx, s.Name, timeout, out.err)
	}
	if out.err != nil {
		return out.err
	}
	if closeErr != nil {
		return fmt.Errorf("lab: scenario %q: closing its world: %w", s.Name, closeErr)
	}
	return nil
}

// stopCause explains why a run was stopped: the caller's context, or the
// scenario's own deadline. runErr is what Run returned, if it did.
func stopCause(ctx context.Context, name string, timeout time.Duration, runErr error) error {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if runErr != nil {
			return fmt.Errorf("lab: scenario %q stopped by the caller (%w): %w", name, cause, runErr)
		}
		return fmt.Errorf("lab: scenario %q stopped by the caller: %w", name, cause)
	}
	return &TimeoutError{Scenario: name, Limit: timeout, Err: runErr}
}

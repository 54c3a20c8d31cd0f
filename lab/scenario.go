package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tlslab/tlslab/netsim"
)

// Scenario is one attack (or baseline) the lab can run and judge.
//
// Run builds its topology on env.World, starts the actors, lets the attack play
// out and records what it OBSERVED in env.Evidence: canaries found by the
// attacker, identities or injected messages a victim accepted, and the exact
// reasons defenses gave. It never decides a verdict; [Decide] does that from
// the evidence. Run must return when ctx is done (closing env.World unblocks
// every connection in it) and must not close env.World itself. A non-nil error
// means the scenario could not be carried out (setup failed, an actor crashed)
// and yields an Error verdict, so a defense stopping the attack is evidence,
// not an error.
type Scenario struct {
	Name    string  // "family/name", e.g. "eavesdrop/tls"; unique in a catalog
	Labels  []Label // from the checked list, see KnownLabels
	Summary string  // one line for tables
	Story   string  // a few sentences for people: the setup, the attack, what should happen
	// Attacker says who attacks from where and how, for handouts: "mallory
	// (10.0.0.66) on contoso-lan, ARP-spoofing alice and fe01, terminating
	// TLS on 5061 with a self-signed certificate". "" for baselines
	// without an attacker.
	Attacker string
	// Expected is Held or Broken for an attack, Passed for a baseline
	// (Attacker ""); it is compared with the outcome only after the
	// outcome is decided.
	Expected Verdict
	// StoppedBy names, when Expected is Held, the defense that must stop
	// the attack (a `show` name, see DefenseNames): where two act, the
	// decisive one, which refuses first. A held result matches only when
	// its first refusal is by this defense.
	StoppedBy string

	// Defenses changes the hardened defaults (Hardened) for this scenario,
	// e.g. func(d *Defenses) { d.TrustedServerList = false }. Nil changes
	// nothing. The Runner applies it, then Runner.Override, and hands the
	// result to Run as Env.Defenses; tlslab show marks what it changed. It
	// must only assign fields: it is called once per run and once per show.
	Defenses func(*Defenses)
	// Topology declares the world Run builds (a preset such as
	// contoso.Config, with the options the scenario picked), so tlslab show
	// can print it before anything runs. Nil means the scenario builds an
	// undeclared world of its own; Run should build from this same value.
	Topology Topology
	// Impair impairs the scenario's network from its start (loss, delay,
	// reordering, a host cut off ...; see netsim.ImpairSpec); a Runner's
	// own Impair rules come after it. The zero value impairs nothing.
	Impair netsim.ImpairSpec
	// RealPeers says which of the scenario's peers a real program may
	// play (Runner.RealPeers; Run reads the templates from Env.RealPeers).
	// Zero means none: a Runner asking for one gives an Error result.
	RealPeers RealPeerRole
	// Requires names programs the scenario runs whatever the Runner asks
	// ("openssl", "gnutls-cli"): where one is missing, the result is an
	// Error naming it and its Debian package, and Run is not called.
	Requires []string
	// Source is the scenario file it was loaded from ("" for a scenario
	// declared in Go), so reports can say how to run it again.
	Source string

	Run func(ctx context.Context, env *Env) error
}

// DefensesFor returns the defenses the scenario runs with when nothing
// overrides them: Hardened() changed by s.Defenses.
func (s Scenario) DefensesFor() Defenses { return Hardened().With(s.Defenses) }

// Family returns the part of the name before "/" ("eavesdrop" for
// "eavesdrop/tls"), or the whole name when there is no "/".
func (s Scenario) Family() string {
	family, _, _ := strings.Cut(s.Name, "/")
	return family
}

// HasLabel reports whether s carries label l.
func (s Scenario) HasLabel(l Label) bool {
	for _, have := range s.Labels {
		if have == l {
			return true
		}
	}
	return false
}

// Validate checks the scenario's declaration: a "family/name" name without
// spaces, known labels, a one-line summary, an expected verdict of Held or
// Broken for an attack and Passed for a baseline, a StoppedBy defense
// exactly when Held is expected, a Run function, and a Topology that validates itself when it
// has a Validate() error method (ContosoConfig does). It returns every
// problem found, joined.
func (s Scenario) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("lab: scenario %q: "+format, append([]any{s.Name}, args...)...))
	}
	family, name, ok := strings.Cut(s.Name, "/")
	if !ok || family == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(s.Name, " \t\r\n") {
		bad(`name must look like "family/name" without spaces`)
	}
	for _, l := range s.Labels {
		if !l.Known() {
			bad("unknown label %q; valid labels: %s", l, labelList())
		}
	}
	if s.Summary == "" || strings.ContainsAny(s.Summary, "\r\n") {
		bad("summary must be one non-empty line")
	}
	switch {
	case s.Attacker == "" && s.Expected != Passed:
		bad("expected verdict is %q; a scenario without an attacker is a baseline and must expect %q", s.Expected, Passed)
	case s.Attacker != "" && s.Expected != Held && s.Expected != Broken:
		bad("expected verdict is %q, want %q or %q", s.Expected, Held, Broken)
	}
	switch {
	case s.Expected == Held && !IsDefense(s.StoppedBy):
		bad("expected held, but StoppedBy %q names no defense; valid: %s", s.StoppedBy, strings.Join(knownDefenses(), ", "))
	case s.Expected != Held && s.StoppedBy != "":
		bad("StoppedBy %q is set, but the expected verdict is %q, not held", s.StoppedBy, s.Expected)
	}
	if s.Run == nil {
		bad("Run is nil")
	}
	if v, ok := s.Topology.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			bad("topology: %v", err)
		}
	}
	return errors.Join(errs...)
}

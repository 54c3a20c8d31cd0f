package labtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Result closes the connections of the hosts' HTTPClients, collects what
// the World's attacks obtained so far (waiting for handshakes and
// intercepted sessions under way to end) and returns the
// lab oracle's judgement of the evidence (lab.Decide): broken if a
// compromise was seen (a canary in the attacker's bytes, an accepted
// attacker identity), held only if a defense was seen refusing an attack
// that was carried out, else error. Without an attack (MITM, Eavesdrop,
// ImpersonateClient) the World is a baseline: passed if something was
// delivered (Evidence().Delivered) and nothing refused.
func (w *World) Result() lab.Result {
	w.collect()
	w.mu.Lock()
	attacked := w.attacked
	w.mu.Unlock()
	d := lab.Hardened()
	// Every refusal the World records was made by a defense that was on
	// where it was seen: the host's own configuration.
	d.ARPPolicy = netsim.ARPAcceptSolicited
	j := lab.Decide(nil, lab.Observation{Attack: attacked, Defenses: d, Compromises: w.ev.Compromises(),
		Refusals: w.ev.Refusals(), Milestones: w.ev.Milestones(), Delivered: w.ev.WasDelivered()})
	refusals := j.Refusals
	if refusals == nil {
		refusals = w.ev.Refusals()
	}
	return lab.Result{Scenario: w.t.Name(), Verdict: j.Verdict, StoppedBy: j.StoppedBy, Service: w.ev.Service(),
		Evidence: w.ev.Lines(), Compromises: w.ev.Compromises(), Refusals: refusals, Milestones: w.ev.Milestones(),
		Seed: w.net.Seed(), Err: j.Err}
}

// collect ends the connections of the hosts' HTTPClients (the victims'
// exchanges are over, so the attackers' sessions end and their records
// are complete), waits for the handshakes under way, and records what the
// World's attacks obtained since the last collection.
func (w *World) collect() {
	w.closeClients()
	w.awaitHandshakes()
	var tokens []string
	for _, c := range w.Canaries() {
		tokens = append(tokens, c.Token)
	}
	w.mu.Lock()
	attacks := slices.Clone(w.attacks)
	w.mu.Unlock()
	for _, a := range attacks {
		a.collect(tokens)
	}
}

// describe is a result's verdict and evidence, for failure messages.
func describe(r lab.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s", r.Verdict)
	if len(r.StoppedBy) > 0 {
		fmt.Fprintf(&b, " (stopped by %s)", strings.Join(r.StoppedBy, ", "))
	}
	if r.Err != nil {
		fmt.Fprintf(&b, ": %v", r.Err)
	}
	fmt.Fprintf(&b, "; seed %d; evidence:", r.Seed)
	for _, l := range r.Evidence {
		b.WriteString("\n    " + l)
	}
	return b.String()
}

// stoppedBy reports whether r was stopped by defenses: the first named is
// the decisive one, and every one was credited.
func stoppedBy(r lab.Result, defenses []string) bool {
	if len(defenses) == 0 {
		return true
	}
	if len(r.StoppedBy) == 0 || r.StoppedBy[0] != defenses[0] {
		return false
	}
	for _, d := range defenses {
		if !slices.Contains(r.StoppedBy, d) {
			return false
		}
	}
	return true
}

// RequireHeld fails t now unless r is held and, when defenses are named,
// the first is the decisive defense and every one refused.
func RequireHeld(t testing.TB, r lab.Result, defenses ...string) {
	t.Helper()
	if r.Verdict != lab.Held || !stoppedBy(r, defenses) {
		want := "held"
		if len(defenses) > 0 {
			want += " by " + strings.Join(defenses, ", ")
		}
		t.Fatalf("labtest: want %s, got %s", want, describe(r))
	}
}

// RequireBroken fails t now unless r is broken.
func RequireBroken(t testing.TB, r lab.Result) {
	t.Helper()
	if r.Verdict != lab.Broken {
		t.Fatalf("labtest: want broken, got %s", describe(r))
	}
}

// RequireVerdict fails t now unless r's verdict is want; for held, when
// defenses are named, the first must be the decisive defense and every
// one must have refused. Other verdicts ignore defenses, so one call
// checks a table whose rows expect held or broken.
func RequireVerdict(t testing.TB, r lab.Result, want lab.Verdict, defenses ...string) {
	t.Helper()
	switch want {
	case lab.Held:
		RequireHeld(t, r, defenses...)
	default:
		if r.Verdict != want {
			t.Fatalf("labtest: want %s, got %s", want, describe(r))
		}
	}
}

// BeHeld is a gomega matcher for a lab.Result that is held.
func BeHeld() types.GomegaMatcher {
	return &resultMatcher{want: "be held", match: func(r lab.Result) bool { return r.Verdict == lab.Held }}
}

// BeBroken is a gomega matcher for a lab.Result that is broken.
func BeBroken() types.GomegaMatcher {
	return &resultMatcher{want: "be broken", match: func(r lab.Result) bool { return r.Verdict == lab.Broken }}
}

// HaveStoppedBy is a gomega matcher for a held lab.Result whose decisive
// defense is the first of defenses, each of which refused.
func HaveStoppedBy(defenses ...string) types.GomegaMatcher {
	return &resultMatcher{want: "be held by " + strings.Join(defenses, ", "),
		match: func(r lab.Result) bool { return r.Verdict == lab.Held && stoppedBy(r, defenses) }}
}

// HaveEvidence is a gomega matcher for a lab.Result with an evidence line
// containing substr.
func HaveEvidence(substr string) types.GomegaMatcher {
	return &resultMatcher{want: fmt.Sprintf("have evidence containing %q", substr), match: func(r lab.Result) bool {
		return slices.ContainsFunc(r.Evidence, func(l string) bool { return strings.Contains(l, substr) })
	}}
}

type resultMatcher struct {
	want  string
	match func(lab.Result) bool
}

func (m *resultMatcher) result(actual any) (lab.Result, error) {
	switch r := actual.(type) {
	case lab.Result:
		return r, nil
	case *lab.Result:
		return *r, nil
	}
	return lab.Result{}, fmt.Errorf("labtest: matcher expects a lab.Result, got %T", actual)
}

func (m *resultMatcher) Match(actual any) (bool, error) {
	r, err := m.result(actual)
	if err != nil {
		return false, err
	}
	return m.match(r), nil
}

func (m *resultMatcher) FailureMessage(actual any) string {
	r, _ := m.result(actual)
	return "Expected the result to " + m.want + ", got " + describe(r)
}

func (m *resultMatcher) NegatedFailureMessage(actual any) string {
	r, _ := m.result(actual)
	return "Expected the result not to " + m.want + ", got " + describe(r)
}

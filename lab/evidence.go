package lab

import (
	"fmt"
	"sync"
	"time"
)

// CompromiseKind names the four ways an attack can be shown to have worked.
type CompromiseKind string

const (
	// CompromiseCanary: a canary appeared in bytes the attacker captured or
	// decrypted.
	CompromiseCanary CompromiseKind = "canary"
	// CompromiseIdentity: the victim accepted the attacker as someone else.
	CompromiseIdentity CompromiseKind = "identity"
	// CompromiseInjection: the victim accepted a message the attacker injected.
	CompromiseInjection CompromiseKind = "injection"
	// CompromiseCredential: the attacker obtained a user's credential: an
	// NTLM response she captured verified against the user's planted
	// password, or the password reached her in clear.
	CompromiseCredential CompromiseKind = "credential"
)

// Compromise is one observed success of the attacker. Line is the evidence
// line that was recorded for it, identical to the one in [Evidence.Lines].
type Compromise struct {
	Kind  CompromiseKind
	Actor string // who lost something: the victim, or the attacker for canaries
	Line  string
}

// Evidence is what a scenario observed, in the order it was recorded. A
// scenario records facts; it never records a verdict. All methods are safe for
// concurrent use, and the zero value is ready to use.
type Evidence struct {
	mu          sync.Mutex
	lines       []string
	compromises []Compromise
	refusals    []Refusal
	milestones  []MilestoneReached
	delivered   bool
	service     Availability

	// clock stamps each line for the run's timeline (newEnv sets the
	// World's); nil stamps nothing. The lines do not change with it.
	clock   func() time.Time
	entries []EvidenceEntry // parallel to lines

	// refused, when not nil, hears each refusal as it is recorded,
	// outside the lock (newEnv sets it to note the capture).
	refused func(Refusal)
}

// record appends one line and, when kind is not "", the compromise it proves,
// under one lock so Lines and Compromises never disagree.
func (e *Evidence) record(kind CompromiseKind, actor, msg string) {
	e.recordFact(actor, msg, func(line string) {
		if kind != "" {
			e.compromises = append(e.compromises, Compromise{Kind: kind, Actor: actor, Line: line})
		}
	})
}

// recordFact appends one line and calls fact (when not nil) with it under
// the same lock, so the facts and Lines never disagree.
func (e *Evidence) recordFact(actor, msg string, fact func(line string)) {
	e.recordFactAt(time.Time{}, actor, msg, fact)
}

// recordFactAt is recordFact for an event that happened at occurred
// (zero: unknown).
func (e *Evidence) recordFactAt(occurred time.Time, actor, msg string, fact func(line string)) {
	line := msg
	if actor != "" {
		line = actor + ": " + msg
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var at time.Time
	if e.clock != nil {
		at = e.clock() // under the lock, so times follow the order of lines
	}
	e.lines = append(e.lines, line)
	e.entries = append(e.entries, EvidenceEntry{At: at, Occurred: occurred, Actor: actor, Text: msg})
	if fact != nil {
		fact(line)
	}
}

// Refused records that host's defense switch named defense (a `show` name,
// see DefenseNames) refused the attack, with the exact reason as the line
// "host: <formatted reason>". Call it only where the refusal was seen: the
// defense's own error, an ignored spoofed reply, a dropped forgery. It
// panics on a name that is not a defense switch, which is a bug in the
// scenario.
func (e *Evidence) Refused(host, defense, format string, args ...any) {
	if !IsDefense(defense) {
		panic("lab: Refused: " + defense + " is not a defense switch")
	}
	reason := fmt.Sprintf(format, args...)
	var r Refusal
	e.recordFact(host, reason, func(line string) {
		r = Refusal{Defense: defense, Host: host, Reason: reason, Line: line}
		e.refusals = append(e.refusals, r)
	})
	if e.refused != nil {
		e.refused(r)
	}
}

// NoteFailure records the line "host: <formatted message>" for a failure
// host saw, err being its cause. When ClassifyRefusal names a defense for
// err, the line is recorded as that defense's refusal and NoteFailure
// reports true; otherwise (a time-out, EOF, a reset, a remote alert) the
// line is only a note and it reports false.
func (e *Evidence) NoteFailure(host string, err error, format string, args ...any) bool {
	if defense, ok := ClassifyRefusal(err); ok {
		e.Refused(host, defense, format, args...)
		return true
	}
	e.Notef(host, format, args...)
	return false
}

// Reached records that the attack reached milestone m, with the line
// "actor: <formatted message>" saying how (actor is normally the
// attacker).
func (e *Evidence) Reached(actor string, m Milestone, format string, args ...any) {
	e.recordFact(actor, fmt.Sprintf(format, args...), func(line string) {
		e.milestones = append(e.milestones, MilestoneReached{Milestone: m, Actor: actor, Line: line})
	})
}

// Delivered records that host delivered the run's canary to its
// recipient, with the line "host: <formatted message>". A baseline (a
// scenario without an attacker) passes only with it.
func (e *Evidence) Delivered(host, format string, args ...any) {
	e.recordFact(host, fmt.Sprintf(format, args...), func(string) { e.delivered = true })
}

// Notef records the line "actor: <formatted message>" (just the message when
// actor is ""): what actors saw, e.g.
//
//	env.Evidence.Notef("alice", "connected to %s over %s", target, version)
//
// Notef records no fact the verdict reads: a defense's refusal goes
// through Refused or NoteFailure, a step of the attack through Reached, a
// compromise through CanariesObtained, IdentityAccepted or
// InjectionAccepted.
func (e *Evidence) Notef(actor, format string, args ...any) {
	e.record("", actor, fmt.Sprintf(format, args...))
}

// CanariesObtained records how many of the env's canaries an attacker found,
// as "actor: <found> of <total> canaries in <where>", where where describes the
// bytes searched, e.g. FormatBytes(n)+" of captured TCP payload". It records a
// compromise of kind CompromiseCanary when found > 0.
func (e *Evidence) CanariesObtained(actor string, found, total int, where string) {
	noun := "canaries"
	if total == 1 {
		noun = "canary"
	}
	msg := fmt.Sprintf("%d of %d %s in %s", found, total, noun, where)
	kind := CompromiseKind("")
	if found > 0 {
		kind = CompromiseCanary
	}
	e.record(kind, actor, msg)
}

// IdentityAccepted records a compromise: victim accepted the attacker as
// identity (a DNS name, a SIP URI ...). detail says how, e.g. which
// certificate was presented; it may be "".
func (e *Evidence) IdentityAccepted(victim, identity, detail string) {
	msg := fmt.Sprintf("accepted the attacker as %q", identity)
	if detail != "" {
		msg += ": " + detail
	}
	e.record(CompromiseIdentity, victim, msg)
}

// InjectionAccepted records a compromise: victim accepted a message the
// attacker injected. detail describes the message; it may be "".
func (e *Evidence) InjectionAccepted(victim, detail string) {
	msg := "accepted an injected message"
	if detail != "" {
		msg += ": " + detail
	}
	e.record(CompromiseInjection, victim, msg)
}

// CredentialObtained records a compromise: attacker obtained user's
// credential. how says by what proof, e.g. "NTLMv2 response to her proxy's
// 407 verifies with alice's password"; it may not be "". Record it only
// from such a proof (ntlm.Verify with the planted password,
// ntlm.Credential.FindCleartext), never from the exchange alone.
func (e *Evidence) CredentialObtained(attacker, user, how string) {
	e.record(CompromiseCredential, attacker, fmt.Sprintf("obtained %s's credential: %s", user, how))
}

// SetService records the victim's availability; the last call wins. Until it
// is called the availability is ServiceUnknown.
func (e *Evidence) SetService(a Availability) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.service = a
}

// Service returns the availability last set, or ServiceUnknown.
func (e *Evidence) Service() Availability {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.service == "" {
		return ServiceUnknown
	}
	return e.service
}

// At returns a recorder for facts that happened at t, on the World's
// clock: an intercepted session's start, a delivery, a refused handshake.
// Its lines go into e in the order recorded, as any other; a timeline
// places them at t rather than at the time they were recorded (usually
// after the run, when the scenario observes). A zero t is no time.
func (e *Evidence) At(t time.Time) EvidenceAt { return EvidenceAt{e: e, t: t} }

// EvidenceAt records facts that happened at one time (Evidence.At); each
// method is the Evidence method of the same name.
type EvidenceAt struct {
	e *Evidence
	t time.Time
}

// Notef is Evidence.Notef for an event at the recorder's time.
func (a EvidenceAt) Notef(actor, format string, args ...any) {
	a.e.recordFactAt(a.t, actor, fmt.Sprintf(format, args...), nil)
}

// Reached is Evidence.Reached for an event at the recorder's time.
func (a EvidenceAt) Reached(actor string, m Milestone, format string, args ...any) {
	a.e.recordFactAt(a.t, actor, fmt.Sprintf(format, args...), func(line string) {
		a.e.milestones = append(a.e.milestones, MilestoneReached{Milestone: m, Actor: actor, Line: line})
	})
}

// Refused is Evidence.Refused for a refusal at the recorder's time.
func (a EvidenceAt) Refused(host, defense, format string, args ...any) {
	if !IsDefense(defense) {
		panic("lab: Refused: " + defense + " is not a defense switch")
	}
	reason := fmt.Sprintf(format, args...)
	var r Refusal
	a.e.recordFactAt(a.t, host, reason, func(line string) {
		r = Refusal{Defense: defense, Host: host, Reason: reason, Line: line}
		a.e.refusals = append(a.e.refusals, r)
	})
	if a.e.refused != nil {
		a.e.refused(r)
	}
}

// Delivered is Evidence.Delivered for an event at the recorder's time.
func (a EvidenceAt) Delivered(host, format string, args ...any) {
	a.e.recordFactAt(a.t, host, fmt.Sprintf(format, args...), func(string) { a.e.delivered = true })
}

// Lines returns a copy of every line recorded so far, in order.
func (e *Evidence) Lines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lines...)
}

// timedEntries returns a copy of every line recorded so far with its time
// and actor, in order.
func (e *Evidence) timedEntries() []EvidenceEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]EvidenceEntry(nil), e.entries...)
}

// Compromises returns a copy of the compromises recorded so far, in order.
func (e *Evidence) Compromises() []Compromise {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Compromise(nil), e.compromises...)
}

// Refusals returns a copy of the refusals recorded so far, in order.
func (e *Evidence) Refusals() []Refusal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Refusal(nil), e.refusals...)
}

// Milestones returns a copy of the milestones recorded so far, in order.
func (e *Evidence) Milestones() []MilestoneReached {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]MilestoneReached(nil), e.milestones...)
}

// WasDelivered reports whether Delivered was called.
func (e *Evidence) WasDelivered() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.delivered
}

// FormatBytes formats a byte count for people: "512 B", "9.1 KiB", "3.0 MiB",
// "1.5 GiB" (binary units, one decimal above bytes).
func FormatBytes(n int) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	suffixes := []string{"KiB", "MiB", "GiB", "TiB"}
	v := float64(n) / unit
	i := 0
	// Move up a unit before printing if the value would round to "1024.0".
	for v >= unit-0.05 && i < len(suffixes)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, suffixes[i])
}

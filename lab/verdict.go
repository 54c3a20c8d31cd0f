package lab

import "slices"

// Verdict is the outcome of one scenario run, decided by [Decide] from what the
// run observed.
type Verdict string

const (
	// Held means a defense was seen refusing an attack that was really
	// carried out: the attacker reached its position (or, for a defense
	// that refuses positioning itself, attempted it), and a defense that
	// is on in the run refused it, by name and exact reason.
	Held Verdict = "held"
	// Broken means at least one compromise was observed: a canary in bytes
	// the attacker obtained, an attacker identity the victim accepted, or an
	// injected message the victim accepted.
	Broken Verdict = "broken"
	// Passed is a baseline's success: a scenario without an attacker
	// delivered its canary.
	Passed Verdict = "passed"
	// Error means the run did not produce a trustworthy observation: Run
	// returned an error, panicked or missed its deadline; the runner could
	// not set up or tear down its artifacts; or the evidence was
	// inconclusive (an *InconclusiveError: the attack was not carried out,
	// no defense was seen refusing it, a baseline's canary was not
	// delivered).
	Error Verdict = "error"
)

// Availability is what the attack cost the victim, reported beside the verdict
// because an attack that is stopped can still deny service.
type Availability string

const (
	// ServiceIntact means the victim's service worked despite the attack.
	ServiceIntact Availability = "intact"
	// ServiceDenied means the victim could not use the service (for example
	// the handshake with the attacker's endpoint failed and there was no other).
	ServiceDenied Availability = "denied"
	// ServiceUnknown is the default when the scenario did not say.
	ServiceUnknown Availability = "unknown"
)

// Observation is everything [Decide] judges from: what the run recorded,
// whether the scenario declares an attacker, and the defenses in force.
type Observation struct {
	// Attack is true for a scenario with an attacker (Scenario.Attacker is
	// not ""), false for a baseline.
	Attack      bool
	Defenses    Defenses
	Compromises []Compromise
	Refusals    []Refusal
	Milestones  []MilestoneReached
	Delivered   bool
}

// Judgement is Decide's answer.
type Judgement struct {
	Verdict Verdict
	// StoppedBy lists, for Held, the defenses credited with refusals, in
	// the order they first refused; the first is the decisive one. Empty
	// otherwise.
	StoppedBy []string
	// Refusals are the observation's refusals, in order, each with
	// Credited set when it counted towards Held; nil only when Decide
	// returned before judging refusals (a run error, a compromise, a
	// baseline).
	Refusals []Refusal
	// Err is why the verdict is Error: the run's error, or an
	// *InconclusiveError. Nil otherwise.
	Err error
}

// InconclusiveError is an Error verdict reached from complete but
// insufficient evidence.
type InconclusiveError struct {
	Reason string
}

// The reasons of InconclusiveError.
const (
	ReasonNotCarriedOut  = "attack not carried out"
	ReasonNoDefense      = "no defense observed"
	ReasonNotDelivered   = "baseline: the canary was not delivered"
	ReasonBaselineRefuse = "baseline: a defense refused a run without an attacker"
)

func (e *InconclusiveError) Error() string { return "inconclusive: " + e.Reason }

// Decide is the verdict oracle. It is the only place a verdict is made:
//
//   - Error when runErr is non-nil (Run returned an error, panicked, or the
//     deadline passed; the [Runner] folds all of these into runErr);
//   - Broken if at least one compromise was recorded;
//   - for a baseline (no attacker): Passed if the canary was delivered and
//     nothing refused, else Error;
//   - for an attack: Held if a refusal by a defense that is on in the run
//     stopped the attack at the point it reached: a positioning defense
//     (arp-policy, dnssec-validation, dns-randomization, dhcp-snooping,
//     llmnr-nbtns-disabled, link-single-label-only, wpad-disabled,
//     pool-pinning) is credited when
//     the attack was attempted and never got in position, any other
//     defense when the attacker was in position. Otherwise Error: "no
//     defense observed" when the attacker was in position (or attempted
//     with no refusal at all), "attack not carried out" when nothing was
//     attempted or the only refusals need a position never reached.
//
// Refusals by a switch that is off are never credited. The scenario's
// expectation is deliberately not an input: it is compared with the
// outcome afterwards, by [Matches].
func Decide(runErr error, o Observation) Judgement {
	switch {
	case runErr != nil:
		return Judgement{Verdict: Error, Err: runErr}
	case len(o.Compromises) > 0:
		return Judgement{Verdict: Broken}
	case !o.Attack && len(o.Refusals) > 0:
		return Judgement{Verdict: Error, Err: &InconclusiveError{Reason: ReasonBaselineRefuse}}
	case !o.Attack && o.Delivered:
		return Judgement{Verdict: Passed}
	case !o.Attack:
		return Judgement{Verdict: Error, Err: &InconclusiveError{Reason: ReasonNotDelivered}}
	}
	attempted, inPosition := false, false
	for _, m := range o.Milestones {
		attempted = true
		if m.Milestone != MilestoneAttempted {
			inPosition = true
		}
	}
	var stoppedBy []string
	refusals := slices.Clone(o.Refusals)
	on := 0
	for i, r := range refusals {
		refusals[i].Credited = false
		if !o.Defenses.On(r.Defense) {
			continue
		}
		on++
		// A positioning defense stops the attack only while the attacker
		// is not in position; any other needs the attacker in position.
		if positioning(r.Defense) && (!attempted || inPosition) || !positioning(r.Defense) && !inPosition {
			continue
		}
		refusals[i].Credited = true
		if !slices.Contains(stoppedBy, r.Defense) {
			stoppedBy = append(stoppedBy, r.Defense)
		}
	}
	switch {
	case len(stoppedBy) > 0:
		return Judgement{Verdict: Held, StoppedBy: stoppedBy, Refusals: refusals}
	case inPosition:
		// Carried out, and no defense that is on was seen stopping it.
		return Judgement{Verdict: Error, Err: &InconclusiveError{Reason: ReasonNoDefense}, Refusals: refusals}
	default:
		// Never attempted, or attempted without ever getting in position
		// (the attacker cut off, her claims never arriving) and no
		// positioning defense seen refusing it: whatever else refused
		// something, the attack itself never happened.
		return Judgement{Verdict: Error, Err: &InconclusiveError{Reason: ReasonNotCarriedOut}, Refusals: refusals}
	}
}

// Matches reports whether an observed outcome equals the expected one: the
// same verdict and, for Held, the same decisive defense (the first of
// stoppedBy). An Error verdict never matches, whatever was expected.
func Matches(observed Verdict, stoppedBy []string, expected Verdict, expectedStoppedBy string) bool {
	if observed == Error || observed != expected {
		return false
	}
	if observed != Held {
		return true
	}
	return len(stoppedBy) > 0 && stoppedBy[0] == expectedStoppedBy
}

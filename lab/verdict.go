package lab

// Verdict is the outcome of one scenario run, decided by [Decide] from what the
// run observed.
type Verdict string

const (
	// Held means the attack ran to completion (or was cut off by a defense)
	// and no compromise was observed.
	Held Verdict = "held"
	// Broken means at least one compromise was observed: a canary in bytes
	// the attacker obtained, an attacker identity the victim accepted, or an
	// injected message the victim accepted.
	Broken Verdict = "broken"
	// Error means the run did not produce a trustworthy observation: Run
	// returned an error, panicked, missed its deadline, or the runner could
	// not set up or tear down the scenario's artifacts.
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

// Decide is the verdict oracle. It is the only place a verdict is made:
//
//   - Error when runErr is non-nil (Run returned an error, panicked, or the
//     deadline passed; the [Runner] folds all of these into runErr);
//   - otherwise Broken iff at least one compromise was recorded;
//   - otherwise Held.
//
// The scenario's expected verdict is deliberately not an input: it is compared
// with the outcome afterwards, by [Matches].
func Decide(runErr error, compromises []Compromise) Verdict {
	switch {
	case runErr != nil:
		return Error
	case len(compromises) > 0:
		return Broken
	default:
		return Held
	}
}

// Matches reports whether an observed verdict equals the expected one. An
// Error verdict never matches, whatever was expected.
func Matches(observed, expected Verdict) bool {
	return observed != Error && observed == expected
}

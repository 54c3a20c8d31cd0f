package lab

import (
	"fmt"
	"time"
)

// Result is the outcome of running one scenario.
type Result struct {
	Scenario string
	Source   string // the scenario file it came from (Scenario.Source), "" for Go
	Labels   []Label
	Verdict  Verdict // decided by Decide from the run's observation
	Expected Verdict // copied from the scenario, never used to decide Verdict
	// StoppedBy lists, for Held, the defenses seen refusing, in the order
	// they first refused; the first is the decisive one.
	StoppedBy []string
	// ExpectedStoppedBy is the scenario's declared decisive defense
	// (Scenario.StoppedBy), "" unless Expected is Held.
	ExpectedStoppedBy string
	OK                bool // Matches(Verdict, StoppedBy, Expected, ExpectedStoppedBy)
	Service           Availability
	Evidence          []string     // every evidence line, in the order recorded
	Compromises       []Compromise // the compromises among them; the verdict is Broken iff this is non-empty and Err is nil
	Refusals          []Refusal    // the refusals among them, credited or not
	Milestones        []MilestoneReached
	Duration          time.Duration
	Seed              uint64   // the seed of the run's World; rerun with it to replay the same choices
	Impair            string   // the impairments the run's network had (netsim.ImpairSpec syntax), "" for none
	Pcap              string   // path of the pcapng file, or "" when none was requested
	KeyLog            string   // path of the NSS key log, or "" when none was requested
	PeerLogs          []string // paths of the real programs' output (Runner.PeerLogDir), if any
	Err               error    // why Verdict is Error (the run's error or an *InconclusiveError); nil otherwise

	delivered bool // a baseline's canary was delivered (Evidence.Delivered)
}

// Outcome is the verdict as tables show it: "held (chain-validation)" for
// a held result, naming the decisive defense, else the verdict alone.
func (r Result) Outcome() string { return outcomeText(r.Verdict, r.StoppedBy) }

// ExpectedOutcome is the expectation in the form of Outcome.
func (r Result) ExpectedOutcome() string {
	if r.ExpectedStoppedBy == "" {
		return string(r.Expected)
	}
	return outcomeText(r.Expected, []string{r.ExpectedStoppedBy})
}

func outcomeText(v Verdict, stoppedBy []string) string {
	if v == Held && len(stoppedBy) > 0 {
		return string(v) + " (" + stoppedBy[0] + ")"
	}
	return string(v)
}

// MainEvidence returns the single most telling line for a one-line report:
//
//   - Error: "error: " and the error message;
//   - Broken: the first compromise recorded (the earliest proof);
//   - Held: the decisive refusal (the first credited one);
//   - otherwise the last evidence line (a baseline's delivery);
//   - "-" when nothing was recorded.
func (r Result) MainEvidence() string {
	if r.Verdict == Held {
		for _, f := range r.Refusals {
			if f.Credited {
				return f.Line
			}
		}
	}
	switch {
	case r.Verdict == Error && r.Err != nil:
		return "error: " + r.Err.Error()
	case r.Verdict == Broken && len(r.Compromises) > 0:
		return r.Compromises[0].Line
	case len(r.Evidence) > 0:
		return r.Evidence[len(r.Evidence)-1]
	default:
		return "-"
	}
}

// Summary counts results by how they compare with their expectations.
type Summary struct {
	Total    int `json:"total"`
	Matched  int `json:"matched"`  // verdict equals expectation
	Differed int `json:"differed"` // held or broken, but not as expected
	Errors   int `json:"errors"`   // verdict Error
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results)}
	for _, r := range results {
		switch {
		case r.Verdict == Error:
			s.Errors++
		case r.OK:
			s.Matched++
		default:
			s.Differed++
		}
	}
	return s
}

// OK reports whether every result matched its expectation.
func (s Summary) OK() bool { return s.Matched == s.Total }

// String reads like "2 scenarios: 2 matched, 0 differed, 0 errors".
func (s Summary) String() string {
	noun := "scenarios"
	if s.Total == 1 {
		noun = "scenario"
	}
	errs := "errors"
	if s.Errors == 1 {
		errs = "error"
	}
	return fmt.Sprintf("%d %s: %d matched, %d differed, %d %s", s.Total, noun, s.Matched, s.Differed, s.Errors, errs)
}

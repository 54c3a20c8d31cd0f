package baseline

import (
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
)

// Kind says which command a baseline belongs to: the cells of
// `tlslab run` are scenarios, those of `tlslab matrix` are scenario and
// column pairs.
type Kind string

const (
	KindRun    Kind = "run"    // cells named after scenarios (OfRun)
	KindMatrix Kind = "matrix" // cells named "scenario [column]" (OfMatrix)
)

// Baseline is a stored set of outcomes a later run is compared with, so a
// change that flips a verdict, changes the defenses that stop an attack or
// what the attack cost the victim (a new default, a library upgrade) fails
// a build. Its file is JSON with one cell per line, sorted by cell name, so
// that it diffs well in review:
//
//	{
//	  "format": "tlslab-baseline/2",
//	  "kind": "matrix",
//	  "outcomes": {
//	    "dns/hijack [hardened]": {"verdict": "error"},
//	    "mitm/self-signed [chain-validation off]": {"verdict": "broken", "stopped_by": [], "service": "intact"},
//	    "mitm/self-signed [hardened]": {"verdict": "held", "stopped_by": ["chain-validation", "revocation"], "service": "denied"}
//	  }
//	}
//
// A cell is a [Cell]: "verdict" is held, broken, passed or error;
// "stopped_by" is lab.Result.StoppedBy, the full ordered list of the defenses
// credited with refusals (the first is the decisive one), non-empty exactly
// for held and [] otherwise; "service" is intact, denied or unknown. An
// error cell holds the verdict alone, since an errored run's service and
// refusals say nothing. Every other shape is refused by Read.
type Baseline struct {
	Kind     Kind            `json:"kind"`
	Outcomes map[string]Cell `json:"outcomes"` // cell name -> stored outcome
}

// Cell is the outcome of one cell as a baseline stores it.
type Cell struct {
	Verdict lab.Verdict
	// StoppedBy is lab.Result.StoppedBy: for Held, every defense credited
	// with a refusal, in the order they first refused; empty otherwise. The
	// whole list is compared, so a second defense that starts or stops
	// refusing is a change too.
	StoppedBy []string
	// Service is the victim's service; "" for Error, which stores none.
	Service lab.Availability
}

// CellOf is the cell r is stored as: its verdict, StoppedBy and service
// (lab.ServiceUnknown when r.Service is ""); only the verdict for an Error
// result.
func CellOf(r lab.Result) Cell {
	if r.Verdict == lab.Error {
		return Cell{Verdict: lab.Error}
	}
	return Cell{Verdict: r.Verdict, StoppedBy: slices.Clone(r.StoppedBy), Service: serviceOf(r)}
}

// String is the cell as change reports print it: "error", "broken, service
// intact", "passed, service intact", or "held (chain-validation), service
// denied" with every defense of StoppedBy in the parentheses, in order,
// "held (chain-validation, revocation), service denied".
func (c Cell) String() string {
	if c.Verdict == lab.Error {
		return string(lab.Error)
	}
	v := string(c.Verdict)
	if len(c.StoppedBy) > 0 {
		v += " (" + strings.Join(c.StoppedBy, ", ") + ")"
	}
	return v + ", service " + string(c.Service)
}

// Equal reports whether c and d store the same outcome: the same verdict,
// service and StoppedBy list, in the same order (nil and empty are equal).
func (c Cell) Equal(d Cell) bool {
	return c.Verdict == d.Verdict && c.Service == d.Service && slices.Equal(c.StoppedBy, d.StoppedBy)
}

// serviceOf is r.Service, or lab.ServiceUnknown when it was left "".
func serviceOf(r lab.Result) lab.Availability {
	if r.Service == "" {
		return lab.ServiceUnknown
	}
	return r.Service
}

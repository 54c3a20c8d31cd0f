package matrix

import (
	"errors"

	"github.com/tlslab/tlslab/lab"
)

// CellOutcome is a result as the matrix compares and shows it: Outcome
// with a held result's decisive defense, "held (chain-validation), service
// denied", "broken, service intact", or "error".
func CellOutcome(r lab.Result) string {
	if r.Verdict == lab.Error {
		return string(lab.Error)
	}
	return r.Outcome() + ", service " + string(r.Service)
}

// ReasonedOutcome is lab.Result.Outcome with the reason of an error:
// "error (no defense observed)" for a *lab.InconclusiveError, "error (run
// failed)" for any other.
func ReasonedOutcome(r lab.Result) string {
	if r.Verdict != lab.Error {
		return r.Outcome()
	}
	var inconclusive *lab.InconclusiveError
	if errors.As(r.Err, &inconclusive) {
		return "error (" + inconclusive.Reason + ")"
	}
	return "error (run failed)"
}

// CellName names a matrix cell in findings, baselines and reports:
// "mitm/self-signed [hostname-check off]".
func CellName(scenario, column string) string {
	return scenario + " [" + column + "]"
}

// CellRef names one cell of the matrix.
type CellRef struct {
	Scenario string `json:"scenario"`
	Column   string `json:"column"` // HardenedColumn or a change's name
}

// String is CellName: "mitm/self-signed [chain-validation off]".
func (c CellRef) String() string { return CellName(c.Scenario, c.Column) }

// decisive returns the decisive defense of a held result, "" for any
// other.
func decisive(r lab.Result) string {
	if r.Verdict != lab.Held || len(r.StoppedBy) == 0 {
		return ""
	}
	return r.StoppedBy[0]
}

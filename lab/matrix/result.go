package matrix

import (
	"errors"

	"github.com/tlslab/tlslab/lab"
)

// Result is a run of the matrix.
type Result struct {
	// Base is what the hardened column ran with and every change started
	// from; nil means lab.Hardened().
	Base    *lab.Defenses
	Changes []Change // the columns after the hardened one
	Rows    []Row    // one per scenario, in the order given
}

// Defenses returns the defenses a cell of column ran with: Base for the
// hardened column (change nil), Base changed by change otherwise.
func (m Result) Defenses(change *Change) lab.Defenses {
	d := lab.Hardened()
	if m.Base != nil {
		d = *m.Base
	}
	if change != nil {
		change.Apply(&d)
	}
	return d
}

// Row is one attack's line of the matrix.
type Row struct {
	Scenario lab.Scenario
	Hardened lab.Result // the run with the base defenses
	Cells    []Cell     // one per change, in the order of Result.Changes
}

// Cell is one attack run with one change.
type Cell struct {
	Change  Change
	Applies bool // Change.Applies(row's scenario)
	Result  lab.Result
}

// Differs reports whether the cell's outcome (verdict, decisive defense and
// service, see CellOutcome) is not the hardened one: the change it makes
// matters to this attack, if only because another defense now stops it.
func (r Row) Differs(c Cell) bool {
	return CellOutcome(c.Result) != CellOutcome(r.Hardened)
}

// NotApplicable reports whether the cell is shown as not applicable: the
// change does not bear on the attack and, run anyway, changed nothing. A
// cell whose change was declared not to apply but changed the outcome is
// shown with its outcome, so a wrong declaration cannot hide a result.
func (r Row) NotApplicable(c Cell) bool {
	return !c.Applies && !r.Differs(c)
}

// LoadBearing returns the changes that alter this attack's outcome (see
// Differs).
func (r Row) LoadBearing() []Change {
	var out []Change
	for _, c := range r.Cells {
		if r.Differs(c) {
			out = append(out, c.Change)
		}
	}
	return out
}

// Unaffected returns the rows no single change alters: every cell has the
// hardened outcome, decisive defense included.
func (m Result) Unaffected() []Row {
	var out []Row
	for _, r := range m.Rows {
		if len(r.LoadBearing()) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// Errors counts the cells (hardened ones included) whose verdict is Error.
func (m Result) Errors() int {
	n := 0
	for _, r := range m.Rows {
		if r.Hardened.Verdict == lab.Error {
			n++
		}
		for _, c := range r.Cells {
			if c.Result.Verdict == lab.Error {
				n++
			}
		}
	}
	return n
}

// RunErrors counts the Error cells whose run failed (a time-out, a panic,
// a setup or artifact failure), leaving out the inconclusive ones (a
// *lab.InconclusiveError: the attack was not carried out or no defense
// that is on was seen refusing it), which are findings about the attack,
// not failures of the matrix.
func (m Result) RunErrors() int {
	n := 0
	failed := func(r lab.Result) bool {
		var ie *lab.InconclusiveError
		return r.Verdict == lab.Error && !errors.As(r.Err, &ie)
	}
	for _, r := range m.Rows {
		if failed(r.Hardened) {
			n++
		}
		for _, c := range r.Cells {
			if failed(c.Result) {
				n++
			}
		}
	}
	return n
}

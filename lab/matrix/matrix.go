package matrix

import (
	"context"

	"github.com/tlslab/tlslab/lab"
)

// HardenedColumn names the matrix's first column: the scenario run with
// lab.Hardened() exactly, whatever the scenario's own defense changes.
const HardenedColumn = "hardened"

// Runner runs attack scenarios once with the hardened defaults and once per
// Change, so a reader sees which defenses each attack depends on. Every
// cell is a full run in a fresh World, judged by lab.Decide like any other.
type Runner struct {
	// Cells runs the cells: its Timeout, Seed, Parallel and Progress are
	// used (Progress counts cells). Its Override is ignored, and the matrix
	// writes no artifacts, whatever PcapDir and KeyLogDir say.
	Cells lab.Runner
	// Base is what the hardened column runs with and every change starts
	// from; nil means lab.Hardened(). A scenario's own defense changes are
	// ignored: rows compare attacks, not the configurations they were
	// catalogued with.
	Base *lab.Defenses
	// Changes are the columns after the hardened one; nil means Changes().
	Changes []Change
}

// Run runs every scenario with the base defenses and with each change, all
// cells spread over Cells.Parallel workers. Cells not started because ctx
// ended are Error results.
func (m Runner) Run(ctx context.Context, scenarios []lab.Scenario) Result {
	base := lab.Hardened()
	if m.Base != nil {
		base = *m.Base
	}
	changes := m.Changes
	if changes == nil {
		changes = Changes()
	}
	columns := len(changes) + 1
	cells := make([]lab.Scenario, 0, len(scenarios)*columns)
	for _, s := range scenarios {
		for col := range columns {
			cell := s
			d := base
			if col > 0 {
				changes[col-1].Apply(&d)
			}
			cell.Defenses = func(x *lab.Defenses) { *x = d }
			cells = append(cells, cell)
		}
	}
	runner := m.Cells
	runner.Override, runner.PcapDir, runner.KeyLogDir = nil, "", ""
	results := runner.RunAll(ctx, cells)

	out := Result{Base: &base, Changes: changes, Rows: make([]Row, len(scenarios))}
	for i, s := range scenarios {
		row := results[i*columns : (i+1)*columns]
		mr := Row{Scenario: s, Hardened: row[0], Cells: make([]Cell, len(changes))}
		for j, c := range changes {
			mr.Cells[j] = Cell{Change: c, Applies: c.Applies(s), Result: row[j+1]}
		}
		out.Rows[i] = mr
	}
	return out
}

// Attacks returns the scenarios the matrix is for: every one not labelled
// baseline.
func Attacks(scenarios []lab.Scenario) []lab.Scenario {
	var out []lab.Scenario
	for _, s := range scenarios {
		if !s.HasLabel(lab.LabelBaseline) {
			out = append(out, s)
		}
	}
	return out
}

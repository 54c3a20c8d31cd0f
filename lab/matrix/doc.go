// Package matrix runs the defense matrix: every attack scenario once with
// the hardened defaults and once per column that changes a single defense
// switch, so a reader sees which defenses each attack depends on.
//
// A [Runner] takes scenarios (normally [Attacks] of the catalog), runs every
// cell as a full lab run in a fresh World through its lab.Runner, and
// returns a [Result]: one [Row] per scenario with its hardened run and one
// [Cell] per [Change], in the order of [Changes]. The matrix never decides
// a verdict itself; each cell is judged by lab.Decide like any run, and the
// scenario's own defense changes and expectation are ignored, so rows
// compare attacks rather than the configurations they were catalogued
// with.
//
// The Result answers questions about the attacks, all derived from the
// cells alone:
//
//   - which changes alter an attack's outcome ([Row.Differs],
//     [Row.LoadBearing], [Result.Unaffected]), comparing [CellOutcome]:
//     verdict, decisive defense and service;
//   - which defense decides which attacks ([Result.Decisive]) and what
//     stands behind a decisive defense when it is switched off
//     ([Result.Backups]);
//   - the honesty checks ([Result.Findings]): held cells crediting a
//     switch that is off or weakened ([Result.CreditViolations]), decisive
//     defenses with no backup, and switches decisive for no attack.
//
// A whole matrix, written as a table:
//
//	res := matrix.Runner{Cells: lab.Runner{Parallel: 4}}.Run(ctx, matrix.Attacks(all))
//	report.WriteMatrixTable(os.Stdout, res)
//
// Cells are named "scenario [column]" ([CellName]) in findings, reports and
// baselines; the first column is [HardenedColumn]. The package writes
// nothing: lab/report prints a Result, lab/baseline stores its outcomes.
package matrix

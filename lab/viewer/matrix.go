package viewer

import (
	"fmt"
	"io"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// MatrixPage is the defense matrix as one page: one row per attack, its
// outcome with the hardened defenses, then with each single change.
type MatrixPage struct {
	Title   string
	Columns []string // the changes, "hostname-check off"
	Rows    []MatrixRow
}

// MatrixRow is one attack.
type MatrixRow struct {
	Scenario string
	Hardened MatrixCell
	Cells    []MatrixCell
}

// MatrixCell is one run of the matrix.
type MatrixCell struct {
	Outcome string // "held (chain-validation)", "broken", "n/a"
	Verdict string // the verdict, for the cell's class; "" for n/a
	Service string
	// Differs marks a cell whose outcome is not the hardened one: the
	// change matters to this attack.
	Differs bool
	// Try is the command that draws this cell beside the hardened run.
	Try string
}

// NewMatrixPage builds the page of m.
func NewMatrixPage(m matrix.Result) *MatrixPage {
	p := &MatrixPage{Title: "tlslab defense matrix"}
	for _, c := range m.Changes {
		p.Columns = append(p.Columns, c.Name())
	}
	for _, r := range m.Rows {
		row := MatrixRow{Scenario: r.Scenario.Name, Hardened: matrixCell(r.Hardened)}
		for _, c := range r.Cells {
			cell := MatrixCell{Outcome: "n/a"}
			if !r.NotApplicable(c) {
				cell = matrixCell(c.Result)
				cell.Differs = r.Differs(c)
				cell.Try = fmt.Sprintf("tlslab show %s --run --html %s --compare %s=%s", r.Scenario.Name, PageFile(r.Scenario.Name), c.Change.Switch, c.Change.To)
			}
			row.Cells = append(row.Cells, cell)
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

func matrixCell(r lab.Result) MatrixCell {
	return MatrixCell{Outcome: matrix.ReasonedOutcome(r), Verdict: string(r.Verdict), Service: string(r.Service)}
}

// WriteMatrix writes p as one self-contained HTML page.
func WriteMatrix(w io.Writer, p *MatrixPage) error {
	return templates.ExecuteTemplate(w, "matrix", p)
}

package baseline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// OfRun is the baseline of a run: one cell per result, named after its
// scenario.
func OfRun(results []lab.Result) Baseline {
	b := Baseline{Kind: KindRun, Outcomes: map[string]Cell{}}
	for _, r := range results {
		b.Outcomes[r.Scenario] = CellOf(r)
	}
	return b
}

// OfMatrix is the baseline of a matrix run: one cell per scenario and
// column, the hardened column included, named by matrix.CellName.
func OfMatrix(m matrix.Result) Baseline {
	b := Baseline{Kind: KindMatrix, Outcomes: map[string]Cell{}}
	for _, r := range m.Rows {
		b.Outcomes[matrix.CellName(r.Scenario.Name, matrix.HardenedColumn)] = CellOf(r.Hardened)
		for _, c := range r.Cells {
			b.Outcomes[matrix.CellName(r.Scenario.Name, c.Change.Name())] = CellOf(c.Result)
		}
	}
	return b
}

// Change is one cell whose outcome is not the stored one. Was and
// Now are the cells as Cell.String prints them; Was is "" for a
// cell the baseline lacks, Now is "" for a stored cell the run no longer
// has.
type Change struct {
	Cell, Was, Now string
}

// String is the line reports print for the change:
//
//	mitm/self-signed: was held (chain-validation), service denied, now held (hostname-check), service denied
//	dns/new: not in the baseline, now error
//	mitm/old: was broken, service intact, now gone from the catalog
func (c Change) String() string {
	switch {
	case c.Was == "":
		return fmt.Sprintf("%s: not in the baseline, now %s", c.Cell, c.Now)
	case c.Now == "":
		return fmt.Sprintf("%s: was %s, now gone from the catalog", c.Cell, c.Was)
	default:
		return fmt.Sprintf("%s: was %s, now %s", c.Cell, c.Was, c.Now)
	}
}

// Compare lists the cells of now whose outcome is not the stored one
// (Cell.Equal: a different verdict, service or StoppedBy list),
// and the cells now lacks that b has, sorted by cell name. complete says
// now covers everything the baseline should (the whole catalog was run);
// when false, stored cells absent from now are not reported, so a run of a
// few scenarios can be checked against the catalog's baseline.
func (b Baseline) Compare(now Baseline, complete bool) []Change {
	var out []Change
	for cell, outcome := range now.Outcomes {
		was, ok := b.Outcomes[cell]
		switch {
		case !ok:
			out = append(out, Change{Cell: cell, Now: outcome.String()})
		case !was.Equal(outcome):
			out = append(out, Change{Cell: cell, Was: was.String(), Now: outcome.String()})
		}
	}
	if complete {
		for cell, was := range b.Outcomes {
			if _, ok := now.Outcomes[cell]; !ok {
				out = append(out, Change{Cell: cell, Was: was.String()})
			}
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Cell, y.Cell) })
	return out
}

// Merge returns b with the cells of now added or replaced; with complete,
// cells now lacks are dropped, so the result is exactly now.
func (b Baseline) Merge(now Baseline, complete bool) Baseline {
	out := Baseline{Kind: now.Kind, Outcomes: map[string]Cell{}}
	if !complete {
		maps.Copy(out.Outcomes, b.Outcomes)
	}
	maps.Copy(out.Outcomes, now.Outcomes)
	return out
}

package matrix

import (
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
)

// DecisiveDefense is where one defense switch decides attacks.
type DecisiveDefense struct {
	Defense string `json:"defense"`
	// Cells are the cells where it is the decisive defense, in the
	// hardened column or a column that turns a defense on; each attack
	// once, at its first such column.
	Cells []CellRef `json:"cells"`
	// BackupFor are the cells of weakening columns where it is decisive
	// though it is not in the row's hardened cell: it stops the attack
	// once another defense is off or weakened.
	BackupFor []CellRef `json:"backup_for"`
}

// String reads like "chain-validation: mitm/self-signed, mitm/wrong-eku;
// [arp-policy static-only] mitm/arp-only": the hardened cells by scenario
// name, then those of each other column after its name in brackets. For a
// defense decisive for none it reads "forward-secrecy-only: decisive for
// no attack", followed by "; backup for mitm/self-signed
// [chain-validation off]" when it is a backup somewhere.
func (d DecisiveDefense) String() string {
	if len(d.Cells) == 0 {
		s := d.Defense + ": decisive for no attack"
		for i, c := range d.BackupFor {
			if i == 0 {
				s += "; backup for "
			} else {
				s += ", "
			}
			s += c.String()
		}
		return s
	}
	var columns []string              // in order of first appearance, hardened first
	byColumn := map[string][]string{} // column -> scenario names
	for _, c := range d.Cells {
		if _, ok := byColumn[c.Column]; !ok {
			columns = append(columns, c.Column)
		}
		byColumn[c.Column] = append(byColumn[c.Column], c.Scenario)
	}
	slices.SortStableFunc(columns, func(x, y string) int {
		return boolRank(x != HardenedColumn) - boolRank(y != HardenedColumn)
	})
	groups := make([]string, len(columns))
	for i, column := range columns {
		groups[i] = strings.Join(byColumn[column], ", ")
		if column != HardenedColumn {
			groups[i] = "[" + column + "] " + groups[i]
		}
	}
	return d.Defense + ": " + strings.Join(groups, "; ")
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Decisive returns, for every defense switch in the order of lab.DefenseNames,
// the attacks it is decisive for (the first of a held cell's StoppedBy):
// in the hardened column and in the columns that turn a defense on, so a
// defense the hardened defaults leave off counts where it is on. Where it
// takes over from another defense in a weakening column, the cell is
// listed in BackupFor.
func (m Result) Decisive() []DecisiveDefense {
	out := make([]DecisiveDefense, 0, len(lab.DefenseNames()))
	for _, defense := range lab.DefenseNames() {
		d := DecisiveDefense{Defense: defense, Cells: []CellRef{}, BackupFor: []CellRef{}}
		for _, row := range m.Rows {
			counted := false
			for _, s := range row.slots() {
				if decisive(s.result) != defense {
					continue
				}
				cellName := CellRef{Scenario: row.Scenario.Name, Column: s.column}
				switch {
				case s.change != nil && !s.change.Strengthens:
					if decisive(row.Hardened) != defense {
						d.BackupFor = append(d.BackupFor, cellName)
					}
				case !counted:
					d.Cells, counted = append(d.Cells, cellName), true
				}
			}
		}
		out = append(out, d)
	}
	return out
}

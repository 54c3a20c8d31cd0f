package matrix

import (
	"github.com/tlslab/tlslab/lab"
)

// FindingKind classifies a Finding.
type FindingKind string

const (
	// FindingCreditedOff: a held cell credits a defense it must not (see
	// Result.CreditViolations).
	FindingCreditedOff FindingKind = "credited-off"
	// FindingNoBackup: with an attack's decisive defense off, the run ended
	// in an error, so the lab saw neither a backup defense nor the attack
	// succeed (see Backup.NoBackup).
	FindingNoBackup FindingKind = "no-backup"
	// FindingDecisiveForNone: a defense switch is decisive for no attack
	// (see Result.Decisive).
	FindingDecisiveForNone FindingKind = "decisive-for-none"
)

// Finding is one thing the matrix's honesty checks found. Text is a
// complete sentence naming the cell or the defense.
type Finding struct {
	Kind FindingKind `json:"kind"`
	Text string      `json:"text"`
}

// String is the line reports print: "credited-off: " and the Text.
func (f Finding) String() string { return string(f.Kind) + ": " + f.Text }

// slot is one cell of a row, the hardened one included.
type slot struct {
	column string  // HardenedColumn or the change's name
	change *Change // nil for the hardened column
	result lab.Result
}

// slots returns the row's cells, the hardened one first.
func (r Row) slots() []slot {
	out := []slot{{column: HardenedColumn, result: r.Hardened}}
	for i := range r.Cells {
		out = append(out, slot{column: r.Cells[i].Change.Name(), change: &r.Cells[i].Change, result: r.Cells[i].Result})
	}
	return out
}

// CreditViolations returns a finding for every defense a held cell credits
// (every name in its StoppedBy) although it must not:
//
//   - a switch that is off in the cell's run (lab.Defenses.On of
//     Result.Defenses for the column), which lab.Decide never credits;
//   - the switch the cell's column turns off or weakens, unless the column
//     is marked StillRefuses (revocation soft-fail still refuses a revoked
//     certificate). This catches the minimum TLS version, which
//     lab.Defenses.On counts as always on: its column lowers the floor to the
//     lowest version the lab speaks, so a refusal there is a host still
//     enforcing the hardened floor, not the weakened one.
//
// Findings come in row order, the hardened cell first, then by StoppedBy.
func (m Result) CreditViolations() []Finding {
	var out []Finding
	for _, row := range m.Rows {
		for _, s := range row.slots() {
			if s.result.Verdict != lab.Held {
				continue
			}
			d := m.Defenses(s.change)
			for _, defense := range s.result.StoppedBy {
				var why string
				switch {
				case s.change != nil && !s.change.Strengthens && !s.change.StillRefuses && defense == s.change.Switch && s.change.To == "off":
					why = "which this column turns off"
				case s.change != nil && !s.change.Strengthens && !s.change.StillRefuses && defense == s.change.Switch:
					why = "which this column weakens to " + s.change.To
				case !d.On(defense):
					why = "which is off in this run"
				default:
					continue
				}
				out = append(out, Finding{Kind: FindingCreditedOff, Text: CellName(row.Scenario.Name, s.column) +
					": " + s.result.Outcome() + " credits " + defense + ", " + why})
			}
		}
	}
	return out
}

// Findings returns every finding of the matrix's honesty checks, the most
// serious first: held cells crediting a defense they must not
// (CreditViolations), attacks whose decisive defense, switched off, left
// an error rather than a backup defense or a compromise (Backup.NoBackup),
// and defense switches decisive for no attack (Decisive).
func (m Result) Findings() []Finding {
	out := m.CreditViolations()
	for _, b := range m.Backups() {
		if b.NoBackup() {
			out = append(out, Finding{Kind: FindingNoBackup, Text: b.String()})
		}
	}
	for _, d := range m.Decisive() {
		if len(d.Cells) == 0 {
			out = append(out, Finding{Kind: FindingDecisiveForNone, Text: d.String()})
		}
	}
	return out
}

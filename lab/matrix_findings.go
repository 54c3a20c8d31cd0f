package lab

import (
	"errors"
	"slices"
	"strings"
)

// FindingKind classifies a MatrixFinding.
type FindingKind string

const (
	// FindingCreditedOff: a held cell credits a defense it must not (see
	// MatrixResult.CreditViolations).
	FindingCreditedOff FindingKind = "credited-off"
	// FindingNoBackup: with an attack's decisive defense off, the run ended
	// in an error, so the lab saw neither a backup defense nor the attack
	// succeed (see Backup.NoBackup).
	FindingNoBackup FindingKind = "no-backup"
	// FindingDecisiveForNone: a defense switch is decisive for no attack
	// (see MatrixResult.Decisive).
	FindingDecisiveForNone FindingKind = "decisive-for-none"
)

// MatrixFinding is one thing the matrix's honesty checks found. Text is a
// complete sentence naming the cell or the defense.
type MatrixFinding struct {
	Kind FindingKind `json:"kind"`
	Text string      `json:"text"`
}

// String is the line reports print: "credited-off: " and the Text.
func (f MatrixFinding) String() string { return string(f.Kind) + ": " + f.Text }

// matrixSlot is one cell of a row, the hardened one included.
type matrixSlot struct {
	column string         // HardenedColumn or the change's name
	change *DefenseChange // nil for the hardened column
	result Result
}

// slots returns the row's cells, the hardened one first.
func (r MatrixRow) slots() []matrixSlot {
	out := []matrixSlot{{column: HardenedColumn, result: r.Hardened}}
	for i := range r.Cells {
		out = append(out, matrixSlot{column: r.Cells[i].Change.Name(), change: &r.Cells[i].Change, result: r.Cells[i].Result})
	}
	return out
}

// CreditViolations returns a finding for every defense a held cell credits
// (every name in its StoppedBy) although it must not:
//
//   - a switch that is off in the cell's run (Defenses.On of
//     MatrixResult.Defenses for the column), which Decide never credits;
//   - the switch the cell's column turns off or weakens, unless the column
//     is marked StillRefuses (revocation soft-fail still refuses a revoked
//     certificate). This catches the minimum TLS version, which
//     Defenses.On counts as always on: its column lowers the floor to the
//     lowest version the lab speaks, so a refusal there is a host still
//     enforcing the hardened floor, not the weakened one.
//
// Findings come in row order, the hardened cell first, then by StoppedBy.
func (m MatrixResult) CreditViolations() []MatrixFinding {
	var out []MatrixFinding
	for _, row := range m.Rows {
		for _, s := range row.slots() {
			if s.result.Verdict != Held {
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
				out = append(out, MatrixFinding{Kind: FindingCreditedOff, Text: MatrixCellName(row.Scenario.Name, s.column) +
					": " + s.result.Outcome() + " credits " + defense + ", " + why})
			}
		}
	}
	return out
}

// Backup is what stands behind a decisive defense: a held cell, the
// defense decisive there, and the same attack's cell with that defense
// off. For the hardened column that is the column turning the defense off
// (for revocation the "off" column, not soft-fail); for a column that
// turns a defense on (+dnssec, static ARP) and is held by it, it is the
// hardened column.
type Backup struct {
	Scenario string
	Column   string // the held cell's column: HardenedColumn or a strengthening change's name
	Defense  string // the decisive defense there
	// OffColumn is the column with Defense off or weakened, "" when the
	// matrix has none; Off is its cell's result.
	OffColumn string
	Off       Result
	offPhrase string // "with it off", "with it weakened to TLS 1.0"
}

// NoBackup reports whether the cell with the defense off ended in an
// error: nothing was compromised and no other defense was seen refusing
// (or the run failed), so the lab cannot name a backup.
func (b Backup) NoBackup() bool { return b.OffColumn != "" && b.Off.Verdict == Error }

// String reads like "mitm/self-signed: chain-validation decisive; with it
// off: held (hostname-check)", "... with it off: broken", "... with it
// off: error (no defense observed)"; a strengthening column's cell is
// named with its column, "dns/poison [dnssec-validation on]:
// dnssec-validation decisive; with it off (hardened): broken".
func (b Backup) String() string {
	name := b.Scenario
	if b.Column != HardenedColumn {
		name = MatrixCellName(b.Scenario, b.Column)
	}
	head := name + ": " + b.Defense + " decisive; "
	if b.OffColumn == "" {
		return head + "no column of the matrix turns it off"
	}
	return head + b.offPhrase + ": " + reasonedOutcome(b.Off)
}

// reasonedOutcome is Result.Outcome with the reason of an error:
// "error (no defense observed)" for an *InconclusiveError, "error (run
// failed)" for any other.
func reasonedOutcome(r Result) string {
	if r.Verdict != Error {
		return r.Outcome()
	}
	var inconclusive *InconclusiveError
	if errors.As(r.Err, &inconclusive) {
		return "error (" + inconclusive.Reason + ")"
	}
	return "error (run failed)"
}

// offColumn returns the index in Changes (and so in each row's Cells) of
// the weakening change that takes defense away: one not marked
// StillRefuses, the first such; -1 when there is none.
func (m MatrixResult) offColumn(defense string) int {
	return slices.IndexFunc(m.Changes, func(c DefenseChange) bool {
		return !c.Strengthens && !c.StillRefuses && c.Switch == defense
	})
}

// Backups returns, in row order, one Backup for every held hardened cell
// and every held cell of a strengthening column whose decisive defense is
// the switch that column turns on.
func (m MatrixResult) Backups() []Backup {
	var out []Backup
	for _, row := range m.Rows {
		if d := decisive(row.Hardened); d != "" {
			b := Backup{Scenario: row.Scenario.Name, Column: HardenedColumn, Defense: d}
			if i := m.offColumn(b.Defense); i >= 0 && i < len(row.Cells) {
				c := row.Cells[i]
				b.OffColumn, b.Off, b.offPhrase = c.Change.Name(), c.Result, "with it off"
				if c.Change.To != "off" {
					b.offPhrase = "with it weakened to " + c.Change.To
				}
			}
			out = append(out, b)
		}
		for _, c := range row.Cells {
			if c.Change.Strengthens && decisive(c.Result) == c.Change.Switch {
				out = append(out, Backup{Scenario: row.Scenario.Name, Column: c.Change.Name(), Defense: c.Change.Switch,
					OffColumn: HardenedColumn, Off: row.Hardened, offPhrase: "with it off (hardened)"})
			}
		}
	}
	return out
}

// MatrixCellRef names one cell of the matrix.
type MatrixCellRef struct {
	Scenario string `json:"scenario"`
	Column   string `json:"column"` // HardenedColumn or a change's name
}

// String is MatrixCellName: "mitm/self-signed [chain-validation off]".
func (c MatrixCellRef) String() string { return MatrixCellName(c.Scenario, c.Column) }

// DecisiveDefense is where one defense switch decides attacks.
type DecisiveDefense struct {
	Defense string `json:"defense"`
	// Cells are the cells where it is the decisive defense, in the
	// hardened column or a column that turns a defense on; each attack
	// once, at its first such column.
	Cells []MatrixCellRef `json:"cells"`
	// BackupFor are the cells of weakening columns where it is decisive
	// though it is not in the row's hardened cell: it stops the attack
	// once another defense is off or weakened.
	BackupFor []MatrixCellRef `json:"backup_for"`
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

// Decisive returns, for every defense switch in the order of DefenseNames,
// the attacks it is decisive for (the first of a held cell's StoppedBy):
// in the hardened column and in the columns that turn a defense on, so a
// defense the hardened defaults leave off counts where it is on. Where it
// takes over from another defense in a weakening column, the cell is
// listed in BackupFor.
func (m MatrixResult) Decisive() []DecisiveDefense {
	out := make([]DecisiveDefense, 0, len(DefenseNames()))
	for _, defense := range DefenseNames() {
		d := DecisiveDefense{Defense: defense, Cells: []MatrixCellRef{}, BackupFor: []MatrixCellRef{}}
		for _, row := range m.Rows {
			counted := false
			for _, s := range row.slots() {
				if decisive(s.result) != defense {
					continue
				}
				cellName := MatrixCellRef{Scenario: row.Scenario.Name, Column: s.column}
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

// decisive returns the decisive defense of a held result, "" for any
// other.
func decisive(r Result) string {
	if r.Verdict != Held || len(r.StoppedBy) == 0 {
		return ""
	}
	return r.StoppedBy[0]
}

// Findings returns every finding of the matrix's honesty checks, the most
// serious first: held cells crediting a defense they must not
// (CreditViolations), attacks whose decisive defense, switched off, left
// an error rather than a backup defense or a compromise (Backup.NoBackup),
// and defense switches decisive for no attack (Decisive).
func (m MatrixResult) Findings() []MatrixFinding {
	out := m.CreditViolations()
	for _, b := range m.Backups() {
		if b.NoBackup() {
			out = append(out, MatrixFinding{Kind: FindingNoBackup, Text: b.String()})
		}
	}
	for _, d := range m.Decisive() {
		if len(d.Cells) == 0 {
			out = append(out, MatrixFinding{Kind: FindingDecisiveForNone, Text: d.String()})
		}
	}
	return out
}

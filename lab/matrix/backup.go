package matrix

import (
	"slices"

	"github.com/tlslab/tlslab/lab"
)

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
	Off       lab.Result
	offPhrase string // "with it off", "with it weakened to TLS 1.0"
}

// NoBackup reports whether the cell with the defense off ended in an
// error: nothing was compromised and no other defense was seen refusing
// (or the run failed), so the lab cannot name a backup.
func (b Backup) NoBackup() bool { return b.OffColumn != "" && b.Off.Verdict == lab.Error }

// String reads like "mitm/self-signed: chain-validation decisive; with it
// off: held (hostname-check)", "... with it off: broken", "... with it
// off: error (no defense observed)"; a strengthening column's cell is
// named with its column, "dns/poison [dnssec-validation on]:
// dnssec-validation decisive; with it off (hardened): broken".
func (b Backup) String() string {
	name := b.Scenario
	if b.Column != HardenedColumn {
		name = CellName(b.Scenario, b.Column)
	}
	head := name + ": " + b.Defense + " decisive; "
	if b.OffColumn == "" {
		return head + "no column of the matrix turns it off"
	}
	return head + b.offPhrase + ": " + ReasonedOutcome(b.Off)
}

// offColumn returns the index in Changes (and so in each row's Cells) of
// the weakening change that takes defense away: one not marked
// StillRefuses, the first such; -1 when there is none.
func (m Result) offColumn(defense string) int {
	return slices.IndexFunc(m.Changes, func(c Change) bool {
		return !c.Strengthens && !c.StillRefuses && c.Switch == defense
	})
}

// Backups returns, in row order, one Backup for every held hardened cell
// and every held cell of a strengthening column whose decisive defense is
// the switch that column turns on.
func (m Result) Backups() []Backup {
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

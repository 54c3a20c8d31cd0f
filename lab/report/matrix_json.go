package report

import (
	"io"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// MatrixSchemaVersion is the schema_version of the document
// WriteMatrixJSON writes, described by docs/schema/matrix.schema.json. A
// change that removes or retypes a field bumps the number.
const MatrixSchemaVersion = "tlslab-matrix/1"

// jsonMatrix is the document WriteMatrixJSON writes.
type jsonMatrix struct {
	SchemaVersion string    `json:"schema_version"`
	Columns       []string  `json:"columns"` // "hardened", then each change's name
	Rows          []jsonRow `json:"rows"`
	Unaffected    []string  `json:"unaffected"` // attacks no single change affects
	Errors        int       `json:"errors"`
	// Findings are matrix.Result.Findings, the most serious first; empty
	// when every honesty check passed.
	Findings []matrix.Finding `json:"findings"`
	// Decisive is matrix.Result.Decisive: every defense switch, in the
	// order of lab.DefenseNames, with the cells it decides.
	Decisive []matrix.DecisiveDefense `json:"decisive"`
	// Backups is matrix.Result.Backups.
	Backups []jsonBackup `json:"backups"`
	// Shard is present only in the report of a sharded matrix (matrix
	// --shard); the findings, decisive defenses and backups above are
	// then those of the shard's rows alone, and 'tlslab merge' recomputes
	// them on the whole.
	Shard *Shard `json:"shard,omitempty"`
}

// jsonRow is one attack.
type jsonRow struct {
	Scenario string     `json:"scenario"`
	Cells    []jsonCell `json:"cells"` // in the order of Columns
}

// jsonCell is one run of the matrix.
type jsonCell struct {
	Column  string      `json:"column"`
	Applies bool        `json:"applies"` // false for a switch that does not bear on the attack
	Differs bool        `json:"differs"` // outcome (decisive defense included) differs from the hardened column
	Verdict lab.Verdict `json:"verdict"`
	// Outcome is lab.Result.Outcome: "held (chain-validation)", "broken".
	Outcome string `json:"outcome"`
	// StoppedBy is lab.Result.StoppedBy, the decisive defense first; empty
	// unless the verdict is held.
	StoppedBy    []string `json:"stopped_by"`
	Service      string   `json:"service"`
	MainEvidence string   `json:"main_evidence"`
	// Seed is the cell's seed as a decimal string, so jq and JavaScript
	// keep all 64 bits.
	Seed  uint64 `json:"seed,string"`
	Error string `json:"error,omitempty"`
	// The rest of the cell's lab.Result, as in the run report (see
	// jsonResult), so that 'tlslab merge' can rebuild the cell.
	Labels            []lab.Label      `json:"labels"`
	Expected          lab.Verdict      `json:"expected"`
	ExpectedStoppedBy string           `json:"expected_stopped_by"`
	OK                bool             `json:"ok"`
	Evidence          []string         `json:"evidence"`
	CompromiseDetails []jsonCompromise `json:"compromise_details"`
	Refusals          []jsonRefusal    `json:"refusals"`
	Milestones        []jsonMilestone  `json:"milestones"`
	DurationMS        float64          `json:"duration_ms"`
	Impair            string           `json:"impair,omitempty"`
	ErrorReason       string           `json:"error_reason,omitempty"`
}

// jsonBackup is one matrix.Backup: a held cell's decisive defense and the
// outcome of the same attack with it off.
type jsonBackup struct {
	Scenario  string `json:"scenario"`
	Column    string `json:"column"`
	Defense   string `json:"defense"`
	OffColumn string `json:"off_column"` // "" when no column turns it off
	// OffOutcome is the off cell's outcome, an error with its reason:
	// "held (hostname-check)", "broken", "error (no defense observed)".
	OffOutcome string `json:"off_outcome,omitempty"`
	NoBackup   bool   `json:"no_backup"` // matrix.Backup.NoBackup: a finding
	Text       string `json:"text"`      // matrix.Backup.String
}

// WriteMatrixJSON writes the matrix as one indented JSON object, a
// jsonMatrix with schema_version MatrixSchemaVersion: every cell with its outcome and stopped_by, the findings,
// the decisive defenses and the backups. Lists are [] when empty, never
// null.
func WriteMatrixJSON(w io.Writer, m matrix.Result) error {
	return WriteMatrixShardJSON(w, m, nil)
}

// WriteMatrixShardJSON is WriteMatrixJSON for shard s of a matrix (see
// Shard); nil s writes exactly what WriteMatrixJSON does.
func WriteMatrixShardJSON(w io.Writer, m matrix.Result, s *Shard) error {
	doc := jsonMatrix{SchemaVersion: MatrixSchemaVersion, Columns: []string{matrix.HardenedColumn}, Rows: []jsonRow{}, Unaffected: []string{}, Errors: m.Errors(),
		Findings: m.Findings(), Decisive: m.Decisive(), Backups: []jsonBackup{}}
	if doc.Findings == nil {
		doc.Findings = []matrix.Finding{}
	}
	for _, c := range m.Changes {
		doc.Columns = append(doc.Columns, c.Name())
	}
	for _, row := range m.Rows {
		jr := jsonRow{Scenario: row.Scenario.Name}
		jr.Cells = append(jr.Cells, newJSONCell(matrix.HardenedColumn, true, false, row.Hardened))
		for _, c := range row.Cells {
			jr.Cells = append(jr.Cells, newJSONCell(c.Change.Name(), c.Applies, row.Differs(c), c.Result))
		}
		doc.Rows = append(doc.Rows, jr)
	}
	for _, row := range m.Unaffected() {
		doc.Unaffected = append(doc.Unaffected, row.Scenario.Name)
	}
	for _, b := range m.Backups() {
		jb := jsonBackup{Scenario: b.Scenario, Column: b.Column, Defense: b.Defense, OffColumn: b.OffColumn,
			NoBackup: b.NoBackup(), Text: b.String()}
		if b.OffColumn != "" {
			jb.OffOutcome = matrix.ReasonedOutcome(b.Off)
		}
		doc.Backups = append(doc.Backups, jb)
	}
	doc.Shard = s
	return encodeJSON(w, doc)
}

// newJSONCell is r as a cell of column in the JSON matrix.
func newJSONCell(column string, applies, differs bool, r lab.Result) jsonCell {
	c := jsonCell{Column: column, Applies: applies, Differs: differs, Verdict: r.Verdict, Outcome: r.Outcome(),
		StoppedBy: append([]string{}, r.StoppedBy...), Service: string(r.Service), MainEvidence: r.MainEvidence(), Seed: r.Seed}
	if r.Err != nil {
		c.Error = r.Err.Error()
	}
	jr := newJSONResult(r)
	c.Labels, c.Expected, c.ExpectedStoppedBy, c.OK = jr.Labels, jr.Expected, jr.ExpectedStoppedBy, jr.OK
	c.Evidence, c.CompromiseDetails, c.Refusals, c.Milestones = jr.Evidence, jr.CompromiseDetails, jr.Refusals, jr.Milestones
	c.DurationMS, c.Impair, c.ErrorReason = jr.DurationMS, jr.Impair, jr.ErrorReason
	return c
}

package report

import (
	"encoding/json"
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// newJSONCell is r as a cell of column in the JSON matrix.
func newJSONCell(column string, applies, differs bool, r lab.Result) jsonCell {
	c := jsonCell{Column: column, Applies: applies, Differs: differs, Verdict: r.Verdict, Outcome: r.Outcome(),
		StoppedBy: append([]string{}, r.StoppedBy...), Service: string(r.Service), MainEvidence: r.MainEvidence(), Seed: r.Seed}
	if r.Err != nil {
		c.Error = r.Err.Error()
	}
	return c
}

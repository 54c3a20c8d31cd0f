package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// Kind is what a JSON report holds.
type Kind string

// The kinds of JSON report.
const (
	KindRun    Kind = "run"    // WriteJSON's: "results"
	KindMatrix Kind = "matrix" // WriteMatrixJSON's: "columns" and "rows"
)

// DetectKind says whether data is a run report (an object with
// "results") or a matrix report (with "columns" and "rows").
func DetectKind(data []byte) (Kind, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", fmt.Errorf("not a JSON report: %w", err)
	}
	_, results := probe["results"]
	_, rows := probe["rows"]
	_, columns := probe["columns"]
	switch {
	case results && !rows:
		return KindRun, nil
	case rows && columns && !results:
		return KindMatrix, nil
	default:
		return "", errors.New(`neither a run report ("results") nor a matrix report ("columns" and "rows")`)
	}
}

// RunReport is a run's JSON report read back by ReadJSON.
type RunReport struct {
	Results []lab.Result
	Shard   *Shard // nil unless the report is a shard's
}

// ReadJSON reads a report WriteJSON (or WriteShardJSON) wrote, rebuilding
// each lab.Result so that writing it again gives the same report. A seed
// may be a JSON number or a decimal string. An error that was an
// inconclusive verdict is rebuilt as a *lab.InconclusiveError; any other
// keeps only its message. Durations keep microseconds.
func ReadJSON(data []byte) (RunReport, error) {
	var doc struct {
		Results []readResult `json:"results"`
		Shard   *Shard       `json:"shard"`
	}
	if err := strictUnmarshal(data, &doc); err != nil {
		return RunReport{}, err
	}
	out := RunReport{Shard: doc.Shard, Results: make([]lab.Result, 0, len(doc.Results))}
	for i, r := range doc.Results {
		if r.Scenario == "" {
			return RunReport{}, fmt.Errorf("results[%d]: no scenario name", i)
		}
		out.Results = append(out.Results, r.result())
	}
	return out, nil
}

// MatrixReport is a matrix's JSON report read back by ReadMatrixJSON.
type MatrixReport struct {
	Columns []string // "hardened", then each change's name
	Rows    []MatrixRow
	Shard   *Shard // nil unless the report is a shard's
}

// MatrixRow is one attack of a MatrixReport: its cells in the order of
// Columns, the hardened one first.
type MatrixRow struct {
	Scenario string
	Cells    []MatrixCell
}

// MatrixCell is one cell of a MatrixReport.
type MatrixCell struct {
	Column  string
	Applies bool
	Result  lab.Result
}

// ReadMatrixJSON reads a report WriteMatrixJSON (or WriteMatrixShardJSON)
// wrote, rebuilding every cell as ReadJSON rebuilds a result. Findings,
// decisive defenses and backups are not read: they are computed from the
// cells. Every row must have a cell per column, in the order of columns.
func ReadMatrixJSON(data []byte) (MatrixReport, error) {
	var doc struct {
		Columns []string `json:"columns"`
		Rows    []struct {
			Scenario string `json:"scenario"`
			Cells    []struct {
				readResult
				Column  string `json:"column"`
				Applies bool   `json:"applies"`
			} `json:"cells"`
		} `json:"rows"`
		Shard *Shard `json:"shard"`
	}
	if err := strictUnmarshal(data, &doc); err != nil {
		return MatrixReport{}, err
	}
	out := MatrixReport{Columns: doc.Columns, Shard: doc.Shard}
	for i, row := range doc.Rows {
		if row.Scenario == "" {
			return MatrixReport{}, fmt.Errorf("rows[%d]: no scenario name", i)
		}
		if len(row.Cells) != len(doc.Columns) {
			return MatrixReport{}, fmt.Errorf("row %s: %d cells for %d columns", row.Scenario, len(row.Cells), len(doc.Columns))
		}
		mr := MatrixRow{Scenario: row.Scenario}
		for j, c := range row.Cells {
			if c.Column != doc.Columns[j] {
				return MatrixReport{}, fmt.Errorf("row %s: cell %d is column %q; want %q", row.Scenario, j, c.Column, doc.Columns[j])
			}
			c.readResult.Scenario = row.Scenario
			mr.Cells = append(mr.Cells, MatrixCell{Column: c.Column, Applies: c.Applies, Result: c.result()})
		}
		out.Rows = append(out.Rows, mr)
	}
	return out, nil
}

// strictUnmarshal decodes data into v, naming where a value had the wrong
// type.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %s: want %v, found JSON %s", te.Field, te.Type, te.Value)
		}
		return err
	}
	return nil
}

// readResult is jsonResult as read back: the fields a lab.Result is
// rebuilt from. Fields it does not know are ignored.
type readResult struct {
	Scenario          string           `json:"scenario"`
	Labels            []lab.Label      `json:"labels"`
	Verdict           lab.Verdict      `json:"verdict"`
	StoppedBy         []string         `json:"stopped_by"`
	Expected          lab.Verdict      `json:"expected"`
	ExpectedStoppedBy string           `json:"expected_stopped_by"`
	OK                bool             `json:"ok"`
	Service           string           `json:"service"`
	Evidence          []string         `json:"evidence"`
	Compromises       []string         `json:"compromises"`
	CompromiseDetails []jsonCompromise `json:"compromise_details"`
	Refusals          []jsonRefusal    `json:"refusals"`
	Milestones        []jsonMilestone  `json:"milestones"`
	DurationMS        float64          `json:"duration_ms"`
	Seed              Seed             `json:"seed"`
	Impair            string           `json:"impair"`
	Pcap              string           `json:"pcap"`
	KeyLog            string           `json:"keylog"`
	PeerLogs          []string         `json:"peer_logs"`
	Error             string           `json:"error"`
	ErrorReason       string           `json:"error_reason"`
}

// result rebuilds the lab.Result r was written from.
func (r readResult) result() lab.Result {
	res := lab.Result{Scenario: r.Scenario, Labels: r.Labels, Verdict: r.Verdict, StoppedBy: r.StoppedBy,
		Expected: r.Expected, ExpectedStoppedBy: r.ExpectedStoppedBy, OK: r.OK, Service: lab.Availability(r.Service),
		Evidence: r.Evidence, Duration: time.Duration(math.Round(r.DurationMS*1000)) * time.Microsecond,
		Seed: uint64(r.Seed), Impair: r.Impair, Pcap: r.Pcap, KeyLog: r.KeyLog, PeerLogs: r.PeerLogs}
	if len(r.CompromiseDetails) > 0 {
		for _, c := range r.CompromiseDetails {
			res.Compromises = append(res.Compromises, lab.Compromise{Kind: lab.CompromiseKind(c.Kind), Actor: c.Actor, Line: c.Line})
		}
	} else {
		for _, k := range r.Compromises {
			res.Compromises = append(res.Compromises, lab.Compromise{Kind: lab.CompromiseKind(k)})
		}
	}
	for _, f := range r.Refusals {
		res.Refusals = append(res.Refusals, lab.Refusal{Defense: f.Defense, Host: f.Host, Reason: f.Reason, Line: f.Line, Credited: f.Credited})
	}
	for _, m := range r.Milestones {
		res.Milestones = append(res.Milestones, lab.MilestoneReached{Milestone: m.Milestone, Actor: m.Actor, Line: m.Line})
	}
	switch {
	case r.Error == "":
	case r.ErrorReason != "":
		ie := &lab.InconclusiveError{Reason: r.ErrorReason}
		if ie.Error() == r.Error {
			res.Err = ie
		} else {
			res.Err = &readError{msg: r.Error, cause: ie}
		}
	default:
		res.Err = &readError{msg: r.Error}
	}
	return res
}

// readError is an error read back from a report: its message as written,
// wrapping the *lab.InconclusiveError it was when it was one.
type readError struct {
	msg   string
	cause error
}

func (e *readError) Error() string { return e.msg }
func (e *readError) Unwrap() error { return e.cause }

// Seed is a seed read from a report, written either as a JSON number or
// as a decimal string (reports may carry it as a string so that no JSON
// reader rounds a 64-bit seed).
type Seed uint64

// UnmarshalJSON accepts 42 and "42".
func (s *Seed) UnmarshalJSON(b []byte) error {
	text := string(b)
	if text == "null" {
		*s = 0
		return nil
	}
	if len(text) >= 2 && text[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		text = str
	}
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return fmt.Errorf("seed %s: want a whole number from 0 to 2^64-1, as a number or a string", b)
	}
	*s = Seed(v)
	return nil
}

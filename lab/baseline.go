package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// BaselineKind says which command a baseline belongs to: the cells of
// `tlslab run` are scenarios, those of `tlslab matrix` are scenario and
// column pairs.
type BaselineKind string

const (
	BaselineRun    BaselineKind = "run"
	BaselineMatrix BaselineKind = "matrix"
)

// baselineFormat is the value of the "format" field this version writes and
// reads.
const baselineFormat = "tlslab-baseline/1"

// Baseline is a stored set of outcomes a later run is compared with, so a
// change that flips a verdict (a new default, a library upgrade) fails a
// build. Its file is JSON with one cell per line, sorted, so that it diffs
// well in review:
//
//	{
//	  "format": "tlslab-baseline/1",
//	  "kind": "matrix",
//	  "outcomes": {
//	    "mitm/self-signed [chain-validation off]": "broken, service intact",
//	    "mitm/self-signed [hardened]": "held, service denied"
//	  }
//	}
type Baseline struct {
	Kind     BaselineKind      `json:"kind"`
	Outcomes map[string]string `json:"outcomes"` // cell name -> Outcome
}

// RunBaseline is the baseline of a run: one cell per result, named after
// its scenario.
func RunBaseline(results []Result) Baseline {
	b := Baseline{Kind: BaselineRun, Outcomes: map[string]string{}}
	for _, r := range results {
		b.Outcomes[r.Scenario] = Outcome(r)
	}
	return b
}

// MatrixCellName names a matrix cell in baselines and reports:
// "mitm/self-signed [hostname-check off]".
func MatrixCellName(scenario, column string) string {
	return scenario + " [" + column + "]"
}

// Baseline is the baseline of a matrix run: one cell per scenario and
// column, the hardened column included.
func (m MatrixResult) Baseline() Baseline {
	b := Baseline{Kind: BaselineMatrix, Outcomes: map[string]string{}}
	for _, r := range m.Rows {
		b.Outcomes[MatrixCellName(r.Scenario.Name, HardenedColumn)] = Outcome(r.Hardened)
		for _, c := range r.Cells {
			b.Outcomes[MatrixCellName(r.Scenario.Name, c.Change.Name())] = Outcome(c.Result)
		}
	}
	return b
}

// BaselineChange is one cell whose outcome is not the stored one. Was is
// "" for a cell the baseline lacks; Now is "" for a stored cell the run no
// longer has.
type BaselineChange struct {
	Cell, Was, Now string
}

func (c BaselineChange) String() string {
	switch {
	case c.Was == "":
		return fmt.Sprintf("%s: not in the baseline, now %s", c.Cell, c.Now)
	case c.Now == "":
		return fmt.Sprintf("%s: was %s, now gone from the catalog", c.Cell, c.Was)
	default:
		return fmt.Sprintf("%s: was %s, now %s", c.Cell, c.Was, c.Now)
	}
}

// Compare lists the cells of now whose outcome differs from the stored
// one, and the cells now lacks that b has, sorted by cell name. complete
// says now covers everything the baseline should (the whole catalog was
// run); when false, stored cells absent from now are not reported, so a
// run of a few scenarios can be checked against the catalog's baseline.
func (b Baseline) Compare(now Baseline, complete bool) []BaselineChange {
	var out []BaselineChange
	for cell, outcome := range now.Outcomes {
		if was, ok := b.Outcomes[cell]; !ok || was != outcome {
			out = append(out, BaselineChange{Cell: cell, Was: was, Now: outcome})
		}
	}
	if complete {
		for cell, was := range b.Outcomes {
			if _, ok := now.Outcomes[cell]; !ok {
				out = append(out, BaselineChange{Cell: cell, Was: was})
			}
		}
	}
	slices.SortFunc(out, func(x, y BaselineChange) int { return strings.Compare(x.Cell, y.Cell) })
	return out
}

// Merge returns b with the cells of now added or replaced; with complete,
// cells now lacks are dropped, so the result is exactly now.
func (b Baseline) Merge(now Baseline, complete bool) Baseline {
	out := Baseline{Kind: now.Kind, Outcomes: map[string]string{}}
	if !complete {
		maps.Copy(out.Outcomes, b.Outcomes)
	}
	maps.Copy(out.Outcomes, now.Outcomes)
	return out
}

// MarshalJSON writes the file format documented on Baseline.
func (b Baseline) MarshalJSON() ([]byte, error) {
	outcomes := b.Outcomes
	if outcomes == nil {
		outcomes = map[string]string{}
	}
	return json.Marshal(struct {
		Format   string            `json:"format"`
		Kind     BaselineKind      `json:"kind"`
		Outcomes map[string]string `json:"outcomes"`
	}{baselineFormat, b.Kind, outcomes})
}

// BaselineFileError says why a baseline file cannot be used: it names the
// file and what is wrong with it.
type BaselineFileError struct {
	File string
	Err  error
}

func (e *BaselineFileError) Error() string {
	return fmt.Sprintf("baseline %s: %v", e.File, e.Err)
}

func (e *BaselineFileError) Unwrap() error { return e.Err }

// ReadBaseline reads the baseline file at path and checks that it is of
// kind want. Every failure (missing file, malformed JSON, unknown field,
// wrong format or kind, an outcome that is not one Outcome produces) is a
// *BaselineFileError naming the file.
func ReadBaseline(path string, want BaselineKind) (Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Baseline{}, &BaselineFileError{File: path, Err: err}
	}
	b, err := parseBaseline(data, want)
	if err != nil {
		return Baseline{}, &BaselineFileError{File: path, Err: err}
	}
	return b, nil
}

func parseBaseline(data []byte, want BaselineKind) (Baseline, error) {
	var raw struct {
		Format   *string           `json:"format"`
		Kind     BaselineKind      `json:"kind"`
		Outcomes map[string]string `json:"outcomes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Baseline{}, jsonProblem(data, err)
	}
	if dec.More() {
		return Baseline{}, errors.New("extra data after the JSON object")
	}
	switch {
	case raw.Format == nil:
		return Baseline{}, fmt.Errorf(`missing "format"; want %q`, baselineFormat)
	case *raw.Format != baselineFormat:
		return Baseline{}, fmt.Errorf(`"format" is %q; this tlslab reads %q`, *raw.Format, baselineFormat)
	case raw.Kind != want:
		return Baseline{}, fmt.Errorf(`"kind" is %q, but this command compares %q baselines (written by 'tlslab %s --update-baseline')`, raw.Kind, want, want)
	case raw.Outcomes == nil:
		return Baseline{}, errors.New(`missing "outcomes"`)
	}
	for _, cell := range slices.Sorted(maps.Keys(raw.Outcomes)) {
		if !validOutcome(raw.Outcomes[cell]) {
			return Baseline{}, fmt.Errorf(`outcome of %q is %q; want "<held|broken>, service <intact|denied|unknown>" or "error"`, cell, raw.Outcomes[cell])
		}
	}
	return Baseline{Kind: raw.Kind, Outcomes: raw.Outcomes}, nil
}

// jsonProblem turns a decoding error into a message with the line and
// column where it happened, when the error says where.
func jsonProblem(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var offset int64 // bytes read, the offending one included
	msg := strings.TrimPrefix(err.Error(), "json: ")
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
		msg = fmt.Sprintf("in %q: a JSON %s where a %s belongs", strings.TrimPrefix(typ.Field, "."), typ.Value, typ.Type)
	default:
		return fmt.Errorf("not a baseline: %s", msg)
	}
	line, col := 1, 1
	for _, c := range data[:min(max(int(offset)-1, 0), len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %s", line, col, msg)
}

func validOutcome(s string) bool {
	if s == string(Error) {
		return true
	}
	verdict, service, ok := strings.Cut(s, ", service ")
	if !ok {
		return false
	}
	return (verdict == string(Held) || verdict == string(Broken)) &&
		(service == string(ServiceIntact) || service == string(ServiceDenied) || service == string(ServiceUnknown))
}

// WriteBaseline writes b to path, indented with one cell per line, keys
// sorted.
func WriteBaseline(path string, b Baseline) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

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
// reads. Version 1 stored "verdict, service" strings without the defenses
// that stopped an attack; ReadBaseline refuses it with a message that says
// how to rewrite it.
const (
	baselineFormat   = "tlslab-baseline/2"
	baselineFormatV1 = "tlslab-baseline/1"
)

// Baseline is a stored set of outcomes a later run is compared with, so a
// change that flips a verdict, changes the defenses that stop an attack or
// what the attack cost the victim (a new default, a library upgrade) fails
// a build. Its file is JSON with one cell per line, sorted by cell name, so
// that it diffs well in review:
//
//	{
//	  "format": "tlslab-baseline/2",
//	  "kind": "matrix",
//	  "outcomes": {
//	    "dns/hijack [hardened]": {"verdict": "error"},
//	    "mitm/self-signed [chain-validation off]": {"verdict": "broken", "stopped_by": [], "service": "intact"},
//	    "mitm/self-signed [hardened]": {"verdict": "held", "stopped_by": ["chain-validation", "revocation"], "service": "denied"}
//	  }
//	}
//
// A cell is a [BaselineCell]: "verdict" is held, broken, passed or error;
// "stopped_by" is Result.StoppedBy, the full ordered list of the defenses
// credited with refusals (the first is the decisive one), non-empty exactly
// for held and [] otherwise; "service" is intact, denied or unknown. An
// error cell holds the verdict alone, since an errored run's service and
// refusals say nothing. Every other shape is refused by ReadBaseline.
type Baseline struct {
	Kind     BaselineKind            `json:"kind"`
	Outcomes map[string]BaselineCell `json:"outcomes"` // cell name -> stored outcome
}

// BaselineCell is the outcome of one cell as a baseline stores it.
type BaselineCell struct {
	Verdict Verdict
	// StoppedBy is Result.StoppedBy: for Held, every defense credited with
	// a refusal, in the order they first refused; empty otherwise. The
	// whole list is compared, so a second defense that starts or stops
	// refusing is a change too.
	StoppedBy []string
	// Service is the victim's service; "" for Error, which stores none.
	Service Availability
}

// BaselineCellOf is the cell r is stored as: its verdict, StoppedBy and
// service (ServiceUnknown when r.Service is ""); only the verdict for an
// Error result.
func BaselineCellOf(r Result) BaselineCell {
	if r.Verdict == Error {
		return BaselineCell{Verdict: Error}
	}
	return BaselineCell{Verdict: r.Verdict, StoppedBy: slices.Clone(r.StoppedBy), Service: serviceOf(r)}
}

// String is the cell as change reports print it: "error", "broken, service
// intact", "passed, service intact", or "held (chain-validation), service
// denied" with every defense of StoppedBy in the parentheses, in order,
// "held (chain-validation, revocation), service denied".
func (c BaselineCell) String() string {
	if c.Verdict == Error {
		return string(Error)
	}
	v := string(c.Verdict)
	if len(c.StoppedBy) > 0 {
		v += " (" + strings.Join(c.StoppedBy, ", ") + ")"
	}
	return v + ", service " + string(c.Service)
}

// Equal reports whether c and d store the same outcome: the same verdict,
// service and StoppedBy list, in the same order (nil and empty are equal).
func (c BaselineCell) Equal(d BaselineCell) bool {
	return c.Verdict == d.Verdict && c.Service == d.Service && slices.Equal(c.StoppedBy, d.StoppedBy)
}

// RunBaseline is the baseline of a run: one cell per result, named after
// its scenario.
func RunBaseline(results []Result) Baseline {
	b := Baseline{Kind: BaselineRun, Outcomes: map[string]BaselineCell{}}
	for _, r := range results {
		b.Outcomes[r.Scenario] = BaselineCellOf(r)
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
	b := Baseline{Kind: BaselineMatrix, Outcomes: map[string]BaselineCell{}}
	for _, r := range m.Rows {
		b.Outcomes[MatrixCellName(r.Scenario.Name, HardenedColumn)] = BaselineCellOf(r.Hardened)
		for _, c := range r.Cells {
			b.Outcomes[MatrixCellName(r.Scenario.Name, c.Change.Name())] = BaselineCellOf(c.Result)
		}
	}
	return b
}

// BaselineChange is one cell whose outcome is not the stored one. Was and
// Now are the cells as BaselineCell.String prints them; Was is "" for a
// cell the baseline lacks, Now is "" for a stored cell the run no longer
// has.
type BaselineChange struct {
	Cell, Was, Now string
}

// String is the line reports print for the change:
//
//	mitm/self-signed: was held (chain-validation), service denied, now held (hostname-check), service denied
//	dns/new: not in the baseline, now error
//	mitm/old: was broken, service intact, now gone from the catalog
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

// Compare lists the cells of now whose outcome is not the stored one
// (BaselineCell.Equal: a different verdict, service or StoppedBy list),
// and the cells now lacks that b has, sorted by cell name. complete says
// now covers everything the baseline should (the whole catalog was run);
// when false, stored cells absent from now are not reported, so a run of a
// few scenarios can be checked against the catalog's baseline.
func (b Baseline) Compare(now Baseline, complete bool) []BaselineChange {
	var out []BaselineChange
	for cell, outcome := range now.Outcomes {
		was, ok := b.Outcomes[cell]
		switch {
		case !ok:
			out = append(out, BaselineChange{Cell: cell, Now: outcome.String()})
		case !was.Equal(outcome):
			out = append(out, BaselineChange{Cell: cell, Was: was.String(), Now: outcome.String()})
		}
	}
	if complete {
		for cell, was := range b.Outcomes {
			if _, ok := now.Outcomes[cell]; !ok {
				out = append(out, BaselineChange{Cell: cell, Was: was.String()})
			}
		}
	}
	slices.SortFunc(out, func(x, y BaselineChange) int { return strings.Compare(x.Cell, y.Cell) })
	return out
}

// Merge returns b with the cells of now added or replaced; with complete,
// cells now lacks are dropped, so the result is exactly now.
func (b Baseline) Merge(now Baseline, complete bool) Baseline {
	out := Baseline{Kind: now.Kind, Outcomes: map[string]BaselineCell{}}
	if !complete {
		maps.Copy(out.Outcomes, b.Outcomes)
	}
	maps.Copy(out.Outcomes, now.Outcomes)
	return out
}

// MarshalJSON writes the file format documented on Baseline (json.Marshal
// compacts it; WriteBaseline keeps one cell per line).
func (b Baseline) MarshalJSON() ([]byte, error) {
	return b.file(), nil
}

// file is the baseline file's text: the format, the kind, then the cells
// sorted by name, one per line.
func (b Baseline) file() []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"format\": %s,\n  \"kind\": %s,\n", jsonString(baselineFormat), jsonString(string(b.Kind)))
	if len(b.Outcomes) == 0 {
		buf.WriteString("  \"outcomes\": {}\n}\n")
		return buf.Bytes()
	}
	buf.WriteString("  \"outcomes\": {\n")
	cells := slices.Sorted(maps.Keys(b.Outcomes))
	for i, name := range cells {
		fmt.Fprintf(&buf, "    %s: %s", jsonString(name), b.Outcomes[name].json())
		if i < len(cells)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("  }\n}\n")
	return buf.Bytes()
}

// json is the cell as one line of the file: {"verdict": "error"} for an
// error, else {"verdict": ..., "stopped_by": [...], "service": ...}.
func (c BaselineCell) json() string {
	if c.Verdict == Error {
		return `{"verdict": "error"}`
	}
	quoted := make([]string, len(c.StoppedBy))
	for i, d := range c.StoppedBy {
		quoted[i] = jsonString(d)
	}
	return fmt.Sprintf(`{"verdict": %s, "stopped_by": [%s], "service": %s}`,
		jsonString(string(c.Verdict)), strings.Join(quoted, ", "), jsonString(string(c.Service)))
}

// jsonString is s as a JSON string, without HTML escaping.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
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
// kind want. Every failure is a *BaselineFileError naming the file, and
// where the problem has a place, the line: a missing file, malformed JSON
// (line and column), an unknown field, a missing or wrong format (a file of
// the older format "tlslab-baseline/1" is refused with the advice to run
// 'make baselines'), a wrong kind, or a cell that is not one
// BaselineCellOf produces (the line of the cell).
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
		Format   *string                    `json:"format"`
		Kind     *BaselineKind              `json:"kind"`
		Outcomes map[string]json.RawMessage `json:"outcomes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Baseline{}, jsonProblem(data, err)
	}
	if dec.More() {
		return Baseline{}, errors.New("extra data after the JSON object")
	}
	top, cellLines := keyLines(data)
	switch {
	case raw.Format == nil:
		return Baseline{}, fmt.Errorf(`missing "format"; want %q`, baselineFormat)
	case *raw.Format == baselineFormatV1:
		return Baseline{}, fmt.Errorf(`%s"format" is %q, an older format whose cells lack stopped_by (the defenses that stopped each attack); run 'make baselines' to rewrite the catalog's baselines, or 'tlslab %s --update-baseline FILE' over the whole catalog for a file of your own`,
			atLine(top["format"]), *raw.Format, want)
	case *raw.Format != baselineFormat:
		return Baseline{}, fmt.Errorf(`%s"format" is %q; this tlslab reads %q`, atLine(top["format"]), *raw.Format, baselineFormat)
	case raw.Kind == nil:
		return Baseline{}, fmt.Errorf(`missing "kind"; want %q`, want)
	case *raw.Kind != want:
		return Baseline{}, fmt.Errorf(`%s"kind" is %q, but this command compares %q baselines (written by 'tlslab %s --update-baseline')`, atLine(top["kind"]), *raw.Kind, want, want)
	case raw.Outcomes == nil:
		return Baseline{}, errors.New(`missing "outcomes"`)
	}
	b := Baseline{Kind: *raw.Kind, Outcomes: make(map[string]BaselineCell, len(raw.Outcomes))}
	for _, name := range slices.Sorted(maps.Keys(raw.Outcomes)) {
		c, err := parseBaselineCell(raw.Outcomes[name])
		if err != nil {
			return Baseline{}, fmt.Errorf("%scell %q: %w", atLine(cellLines[name]), name, err)
		}
		b.Outcomes[name] = c
	}
	return b, nil
}

// parseBaselineCell reads one cell, accepting exactly the shapes
// BaselineCell.json writes for a valid cell (see Baseline).
func parseBaselineCell(data json.RawMessage) (BaselineCell, error) {
	var raw struct {
		Verdict   *Verdict      `json:"verdict"`
		StoppedBy *[]string     `json:"stopped_by"`
		Service   *Availability `json:"service"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			if typ.Field == "" {
				return BaselineCell{}, fmt.Errorf(`a JSON %s where an object {"verdict": ..., "stopped_by": [...], "service": ...} belongs`, typ.Value)
			}
			return BaselineCell{}, fmt.Errorf("in %q: a JSON %s where a %s belongs", strings.TrimPrefix(typ.Field, "."), typ.Value, typ.Type)
		}
		return BaselineCell{}, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if raw.Verdict == nil {
		return BaselineCell{}, errors.New(`missing "verdict"`)
	}
	c := BaselineCell{Verdict: *raw.Verdict}
	switch c.Verdict {
	case Error:
		if raw.StoppedBy != nil || raw.Service != nil {
			return BaselineCell{}, errors.New(`an error cell holds only "verdict"`)
		}
		return c, nil
	case Held, Broken, Passed:
	default:
		return BaselineCell{}, fmt.Errorf(`"verdict" is %q; want held, broken, passed or error`, c.Verdict)
	}
	if raw.StoppedBy == nil {
		return BaselineCell{}, errors.New(`missing "stopped_by" ([] unless the verdict is held)`)
	}
	c.StoppedBy = *raw.StoppedBy
	switch {
	case c.Verdict == Held && len(c.StoppedBy) == 0:
		return BaselineCell{}, errors.New(`"stopped_by" is empty; a held cell names the defenses that refused, the decisive one first`)
	case c.Verdict != Held && len(c.StoppedBy) > 0:
		return BaselineCell{}, fmt.Errorf(`"stopped_by" names %s, but only a held cell names defenses`, strings.Join(c.StoppedBy, ", "))
	}
	for i, d := range c.StoppedBy {
		switch {
		case !IsDefense(d):
			return BaselineCell{}, fmt.Errorf(`"stopped_by" names %q, which is no defense switch; valid: %s`, d, strings.Join(DefenseNames(), ", "))
		case slices.Contains(c.StoppedBy[:i], d):
			return BaselineCell{}, fmt.Errorf(`"stopped_by" names %q twice`, d)
		}
	}
	if raw.Service == nil {
		return BaselineCell{}, errors.New(`missing "service"`)
	}
	c.Service = *raw.Service
	if c.Service != ServiceIntact && c.Service != ServiceDenied && c.Service != ServiceUnknown {
		return BaselineCell{}, fmt.Errorf(`"service" is %q; want intact, denied or unknown`, c.Service)
	}
	return c, nil
}

// atLine is "line N: " to open a message about line n, or "" when n is 0
// (unknown: keyLines did not find the key as spelled).
func atLine(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("line %d: ", n)
}

// keyLines returns the line of each key of the top-level object of data,
// and of each key of its "outcomes" object. data must be valid JSON.
func keyLines(data []byte) (top, cells map[string]int) {
	top, cells = map[string]int{}, map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return top, cells
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return top, cells
		}
		top[key] = lineAt()
		if key == "outcomes" {
			if t, err := dec.Token(); err != nil || t != json.Delim('{') {
				return top, cells // null: no cells
			}
			for dec.More() {
				t, err := dec.Token()
				name, ok := t.(string)
				if err != nil || !ok {
					return top, cells
				}
				cells[name] = lineAt()
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					return top, cells
				}
			}
			if _, err := dec.Token(); err != nil {
				return top, cells
			}
			continue
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return top, cells
		}
	}
	return top, cells
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

// WriteBaseline writes b to path in the format documented on Baseline: one
// cell per line, sorted by cell name.
func WriteBaseline(path string, b Baseline) error {
	if err := os.WriteFile(path, b.file(), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

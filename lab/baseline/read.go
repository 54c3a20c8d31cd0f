package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
)

// inputProblem is a *safefile.InputError without the path, which
// FileError already names: "baseline x.json: is a FIFO, not a regular file".
type inputProblem struct{ *safefile.InputError }

func (e inputProblem) Error() string { return e.Problem }
func (e inputProblem) Unwrap() error { return e.InputError }

// FileError says why a baseline file cannot be used: it names the
// file and what is wrong with it.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("baseline %s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// MaxFileSize is the largest baseline file Read accepts, 16 MiB: the
// catalog's matrix baseline is about 80 KiB.
const MaxFileSize = 16 << 20

// KindError is the error of a baseline of another kind than the one
// asked for: a run baseline given to a matrix command, or the reverse.
// Read wraps it in a *FileError.
type KindError struct {
	Have, Want Kind
	Line       int // the line of "kind", 0 if unknown
}

func (e *KindError) Error() string {
	return fmt.Sprintf(`%s"kind" is %q, but this command compares %q baselines (written by 'tlslab %s --update-baseline')`,
		atLine(e.Line), e.Have, e.Want, e.Want)
}

// Read reads the baseline file at path and checks that it is of
// kind want. Every failure is a *FileError naming the file, and
// where the problem has a place, the line: a missing file (wrapping
// fs.ErrNotExist), a file that is not regular (a FIFO, a device, a
// directory) or is larger than MaxFileSize (a *safefile.InputError,
// refused without blocking or reading more than the limit), malformed JSON
// (line and column), an unknown field, a missing or wrong format (a file of
// the older format "tlslab-baseline/1" is refused with the advice to run
// 'make baselines'), a wrong kind (a *KindError, checked before the format
// when the file says its kind), or a cell that is not one
// CellOf produces (the line of the cell).
func Read(path string, want Kind) (Baseline, error) {
	data, err := safefile.ReadRegular(path, MaxFileSize)
	if err != nil {
		var ie *safefile.InputError
		if errors.As(err, &ie) {
			err = inputProblem{ie}
		}
		return Baseline{}, &FileError{File: path, Err: err}
	}
	b, err := parse(data, want)
	if err != nil {
		return Baseline{}, &FileError{File: path, Err: err}
	}
	return b, nil
}

func parse(data []byte, want Kind) (Baseline, error) {
	var raw struct {
		Format   *string                    `json:"format"`
		Kind     *Kind                      `json:"kind"`
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
	if raw.Kind != nil && *raw.Kind != want {
		return Baseline{}, &KindError{Have: *raw.Kind, Want: want, Line: top["kind"]}
	}
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
	case raw.Outcomes == nil:
		return Baseline{}, errors.New(`missing "outcomes"`)
	}
	b := Baseline{Kind: *raw.Kind, Outcomes: make(map[string]Cell, len(raw.Outcomes))}
	for _, name := range slices.Sorted(maps.Keys(raw.Outcomes)) {
		c, err := parseCell(raw.Outcomes[name])
		if err != nil {
			return Baseline{}, fmt.Errorf("%scell %q: %w", atLine(cellLines[name]), name, err)
		}
		b.Outcomes[name] = c
	}
	return b, nil
}

// parseCell reads one cell, accepting exactly the shapes
// Cell.json writes for a valid cell (see Baseline).
func parseCell(data json.RawMessage) (Cell, error) {
	var raw struct {
		Verdict   *lab.Verdict      `json:"verdict"`
		StoppedBy *[]string         `json:"stopped_by"`
		Service   *lab.Availability `json:"service"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			if typ.Field == "" {
				return Cell{}, fmt.Errorf(`a JSON %s where an object {"verdict": ..., "stopped_by": [...], "service": ...} belongs`, typ.Value)
			}
			return Cell{}, fmt.Errorf("in %q: a JSON %s where a %s belongs", strings.TrimPrefix(typ.Field, "."), typ.Value, typ.Type)
		}
		return Cell{}, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if raw.Verdict == nil {
		return Cell{}, errors.New(`missing "verdict"`)
	}
	c := Cell{Verdict: *raw.Verdict}
	switch c.Verdict {
	case lab.Error:
		if raw.StoppedBy != nil || raw.Service != nil {
			return Cell{}, errors.New(`an error cell holds only "verdict"`)
		}
		return c, nil
	case lab.Held, lab.Broken, lab.Passed:
	default:
		return Cell{}, fmt.Errorf(`"verdict" is %q; want held, broken, passed or error`, c.Verdict)
	}
	if raw.StoppedBy == nil {
		return Cell{}, errors.New(`missing "stopped_by" ([] unless the verdict is held)`)
	}
	c.StoppedBy = *raw.StoppedBy
	switch {
	case c.Verdict == lab.Held && len(c.StoppedBy) == 0:
		return Cell{}, errors.New(`"stopped_by" is empty; a held cell names the defenses that refused, the decisive one first`)
	case c.Verdict != lab.Held && len(c.StoppedBy) > 0:
		return Cell{}, fmt.Errorf(`"stopped_by" names %s, but only a held cell names defenses`, strings.Join(c.StoppedBy, ", "))
	}
	for i, d := range c.StoppedBy {
		switch {
		case !lab.IsDefense(d):
			return Cell{}, fmt.Errorf(`"stopped_by" names %q, which is no defense switch; valid: %s`, d, strings.Join(lab.DefenseNames(), ", "))
		case slices.Contains(c.StoppedBy[:i], d):
			return Cell{}, fmt.Errorf(`"stopped_by" names %q twice`, d)
		}
	}
	if raw.Service == nil {
		return Cell{}, errors.New(`missing "service"`)
	}
	c.Service = *raw.Service
	if c.Service != lab.ServiceIntact && c.Service != lab.ServiceDenied && c.Service != lab.ServiceUnknown {
		return Cell{}, fmt.Errorf(`"service" is %q; want intact, denied or unknown`, c.Service)
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

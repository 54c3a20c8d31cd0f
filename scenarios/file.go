package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tlslab/tlslab/internal/suggest"
	"github.com/tlslab/tlslab/lab"
)

// Scenario files: a trainer composes a scenario from the contoso preset
// and the MITM and DNS attacks in YAML, and runs it with
// `tlslab run --file FILE`. The file is turned into the same params the
// catalog declares (mitmParams, dnsParams), so it runs through the
// catalog's code. A minimal file:
//
//	name: training/forged-pool-cert
//	summary: mallory forges pool01 with her own CA; alice trusts it
//	attacker:
//	  position: arp
//	  mode: terminate
//	  certificate:
//	    source: forged
//	    issuer: mallory-root
//	  trusted_by_victim: true
//	expected: broken
//
// scenarios/examples holds commented examples; fileSchema lists every key.

// FileError is what LoadFile and ParseFile return for a file that is not
// a valid scenario: the first problem found, where it is and what would be
// right.
type FileError struct {
	File   string // the name given to ParseFile, the path given to LoadFile
	Line   int    // 1-based; 0 when the problem is the whole file (empty, unreadable)
	Column int    // 1-based; 0 when unknown
	Field  string // dotted path of the key, "attacker.mode"; "" for the file or its top level
	Msg    string
	Err    error // the underlying error (reading, YAML syntax), or nil
}

// Error returns "FILE:LINE:COL: FIELD: MSG", leaving out what is unknown.
func (e *FileError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ":" + strconv.Itoa(e.Column)
		}
	}
	if e.Field != "" {
		return pos + ": " + e.Field + ": " + e.Msg
	}
	return pos + ": " + e.Msg
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// LoadFile reads and parses the scenario file at path (see ParseFile).
// Errors are *FileError.
func LoadFile(path string) (lab.Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return lab.Scenario{}, &FileError{File: path, Msg: "cannot read the scenario file: " + unwrapPath(err).Error(), Err: err}
	}
	return ParseFile(path, data)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseFile parses a scenario file's contents; name (a path or just a
// file name) is what messages call the file. The scenario passes
// Scenario.Validate, declares its topology and defenses, and runs on the
// contoso preset through the catalog's MITM or DNS code. Any problem is a
// *FileError naming the line, column and key; ParseFile never panics.
func ParseFile(name string, data []byte) (s lab.Scenario, err error) {
	defer func() {
		// A bug here must not take a CLI down with a trainer's file.
		if r := recover(); r != nil {
			s, err = lab.Scenario{}, &FileError{File: name, Msg: fmt.Sprintf("internal error parsing the file: %v", r)}
		}
	}()
	d := &fileDecoder{file: name}
	root, ferr := d.document(data)
	if ferr != nil {
		return lab.Scenario{}, ferr
	}
	s, ferr = d.scenario(root)
	if ferr != nil {
		return lab.Scenario{}, ferr
	}
	if err := s.Validate(); err != nil {
		return lab.Scenario{}, &FileError{File: name, Line: root.Line, Column: root.Column, Msg: err.Error(), Err: err}
	}
	return s, nil
}

// fileDecoder walks a scenario file's YAML nodes.
type fileDecoder struct {
	file string
}

// errAt makes the error for node n (nil: the whole file) and field.
func (d *fileDecoder) errAt(n *yaml.Node, field, format string, args ...any) *FileError {
	e := &FileError{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into its single YAML document's root node, a
// mapping.
func (d *fileDecoder) document(data []byte) (*yaml.Node, *FileError) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, d.errAt(nil, "", "the file is empty; a scenario file is a YAML mapping with at least name, summary, attacker and expected")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, d.errAt(nil, "", "the file holds no YAML document, only comments; a scenario file is a YAML mapping with at least name, summary, attacker and expected")
	} else if err != nil {
		return nil, d.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, d.errAt(&extra, "", "a second YAML document (after ---); a scenario file holds one scenario")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.syntaxError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, d.errAt(nil, "", "the file holds no YAML document; a scenario file is a YAML mapping with at least name, summary, attacker and expected")
		}
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, d.errAt(root, "", "the file holds %s; want a mapping of keys (name: ..., summary: ..., attacker: ..., expected: ...)", describeNode(root))
	}
	return root, nil
}

// syntaxError turns the YAML library's error into a FileError at its line.
func (d *fileDecoder) syntaxError(err error) *FileError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	e := &FileError{File: d.file, Msg: "invalid YAML: " + msg, Err: err}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	} else if len(msg) > 6 && msg[:6] == "yaml: " {
		e.Msg = "invalid YAML: " + msg[6:]
	}
	return e
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 10; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// describeNode says what a node holds, for messages: "a list", "a
// mapping", "the number 3", "the string \"x\"", "nothing".
func describeNode(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// fieldPath joins a parent path and a key.
func fieldPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping is a mapping node's keys, checked against the known ones.
type mapping struct {
	node   *yaml.Node
	path   string
	keys   map[string]*yaml.Node
	values map[string]*yaml.Node
	order  []string
}

// mapping reads n, a mapping, rejecting duplicate and unknown keys (with
// a suggestion).
func (d *fileDecoder) mapping(n *yaml.Node, path string, known []string) (*mapping, *FileError) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, d.errAt(n, path, "got %s; want a mapping of %s", describeNode(n), quoteList(known))
	}
	m := &mapping{node: n, path: path, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolve(n.Content[i]), n.Content[i+1]
		if kn == nil || kn.Kind != yaml.ScalarNode {
			return nil, d.errAt(n.Content[i], path, "a key is %s; keys are plain names such as %s", describeNode(kn), quoteList(known[:min(2, len(known))]))
		}
		key := kn.Value
		if first, dup := m.keys[key]; dup {
			return nil, d.errAt(kn, fieldPath(path, key), "duplicate key; it is already set on line %d", first.Line)
		}
		if known != nil && !slices.Contains(known, key) {
			return nil, d.errAt(kn, fieldPath(path, key), "unknown key %q; valid keys here: %s%s", key, joinComma(known), didYouMean(key, known))
		}
		m.keys[key], m.values[key] = kn, vn
		m.order = append(m.order, key)
	}
	return m, nil
}

// has reports whether key is set (to anything, null included).
func (m *mapping) has(key string) bool { return m.values[key] != nil }

// str returns key's value as a string. A missing key is "" when !required.
func (d *fileDecoder) str(m *mapping, key string, required bool, want string) (string, *yaml.Node, *FileError) {
	path := fieldPath(m.path, key)
	vn := resolve(m.values[key])
	if m.values[key] == nil {
		if required {
			return "", nil, d.errAt(m.node, m.path, "missing key %q; want %s", key, want)
		}
		return "", nil, nil
	}
	if vn == nil || vn.Kind != yaml.ScalarNode || vn.ShortTag() == "!!null" {
		return "", vn, d.errAt(orNode(vn, m.keys[key]), path, "got %s; want %s", describeNode(vn), want)
	}
	return vn.Value, vn, nil
}

// oneOf returns key's value, which must be one of valid.
func (d *fileDecoder) oneOf(m *mapping, key string, required bool, what string, valid []string) (string, *yaml.Node, *FileError) {
	v, vn, err := d.str(m, key, required, orList(valid))
	if err != nil || vn == nil {
		return v, vn, err
	}
	if !slices.Contains(valid, v) {
		return "", vn, d.errAt(vn, fieldPath(m.path, key), "unknown %s %q; valid: %s%s", what, v, joinComma(valid), didYouMean(v, valid))
	}
	return v, vn, nil
}

// boolean returns key's value: true/false, or on/off.
func (d *fileDecoder) boolean(m *mapping, key string) (bool, *FileError) {
	v, vn, err := d.str(m, key, false, "true or false")
	if err != nil || vn == nil {
		return false, err
	}
	switch v {
	case "true", "on", "yes":
		return true, nil
	case "false", "off", "no":
		return false, nil
	}
	return false, d.errAt(vn, fieldPath(m.path, key), "got %s; want true or false", describeNode(vn))
}

// list returns key's value, a list of strings (nil, nil when missing).
func (d *fileDecoder) list(m *mapping, key, example string) ([]string, []*yaml.Node, *FileError) {
	path := fieldPath(m.path, key)
	if m.values[key] == nil {
		return nil, nil, nil
	}
	vn := resolve(m.values[key])
	if vn == nil || vn.Kind != yaml.SequenceNode {
		return nil, nil, d.errAt(orNode(vn, m.keys[key]), path, "got %s; want a list, e.g. %s", describeNode(vn), example)
	}
	out := make([]string, 0, len(vn.Content))
	nodes := make([]*yaml.Node, 0, len(vn.Content))
	for _, item := range vn.Content {
		in := resolve(item)
		if in == nil || in.Kind != yaml.ScalarNode || in.ShortTag() == "!!null" {
			return nil, nil, d.errAt(orNode(in, item), path, "a list item is %s; want a string, e.g. %s", describeNode(in), example)
		}
		out = append(out, in.Value)
		nodes = append(nodes, in)
	}
	return out, nodes, nil
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// didYouMean suggests the candidate nearest to got, when it is near
// enough to be a misspelling: ` (did you mean "terminate"?)`, or "".
func didYouMean(got string, candidates []string) string {
	best, ok := suggest.Typo(got, candidates)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// orList lists alternatives: "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return joinComma(values)
	}
	return joinComma(values[:len(values)-1]) + " or " + values[len(values)-1]
}

// joinComma lists values: "a, b, c".
func joinComma(values []string) string { return strings.Join(values, ", ") }

// quoteList lists values quoted: `"a", "b"`.
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

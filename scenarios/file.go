package scenarios

import (
	"bytes"
	"cmp"
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
// ParseFile drops the notes ParseFileNotes returns.
func ParseFile(name string, data []byte) (lab.Scenario, error) {
	s, _, err := ParseFileNotes(name, data)
	return s, err
}

// ParseFileNotes is ParseFile, also returning the notes on a file that is
// valid but should change: a key the format renamed (read under its new
// name, see fileRenamed), a YAML 1.1 boolean spelling (read as YAML 1.1
// would, see boolWords), in the order of the file. A command line prints
// them on stderr. There are no notes when err is not nil.
func ParseFileNotes(name string, data []byte) (lab.Scenario, []FileNote, error) {
	return parseFile(name, data, fileRenamed)
}

// parseFile parses with the given table of renamed keys.
func parseFile(name string, data []byte, renamed map[string]string) (s lab.Scenario, notes []FileNote, err error) {
	defer func() {
		// A bug here must not take a CLI down with a trainer's file.
		if r := recover(); r != nil {
			s, notes, err = lab.Scenario{}, nil, &FileError{File: name, Msg: fmt.Sprintf("internal error parsing the file: %v", r)}
		}
	}()
	d := &fileDecoder{file: name, renamed: renamed}
	root, ferr := d.document(data)
	if ferr != nil {
		return lab.Scenario{}, nil, ferr
	}
	s, ferr = d.scenario(root)
	if ferr != nil {
		return lab.Scenario{}, nil, ferr
	}
	if err := s.Validate(); err != nil {
		return lab.Scenario{}, nil, &FileError{File: name, Line: root.Line, Column: root.Column, Msg: err.Error(), Err: err}
	}
	slices.SortStableFunc(d.notes, func(a, b FileNote) int { return cmp.Or(a.Line-b.Line, a.Column-b.Column) })
	s.Source = name
	return s, d.notes, nil
}

// FileNote is a remark on a valid scenario file: what it should change and
// where.
type FileNote struct {
	File   string
	Line   int // 1-based
	Column int // 1-based
	Field  string
	Msg    string
}

// String returns "FILE:LINE:COL: FIELD: MSG", as FileError does.
func (n FileNote) String() string {
	return (&FileError{File: n.File, Line: n.Line, Column: n.Column, Field: n.Field, Msg: n.Msg}).Error()
}

// fileRenamed lists the keys the format renamed: the old key, as its
// dotted path ("attacker.trusted"), to its new name in the same mapping
// ("trusted_by_victim"). A file that still writes the old key is read as
// if it wrote the new one, with a deprecation note; writing both is an
// error. Renaming a key is one line here, and the old name must stay out
// of the mapping's keys (TestFileRenamedTable checks both).
var fileRenamed = map[string]string{
	// "attacker.old_key": "new_key",
}

// fileDecoder walks a scenario file's YAML nodes.
type fileDecoder struct {
	file    string
	renamed map[string]string // fileRenamed, or a test's table
	notes   []FileNote
}

// noteAt records a note on node n and field.
func (d *fileDecoder) noteAt(n *yaml.Node, field, format string, args ...any) {
	d.notes = append(d.notes, FileNote{File: d.file, Line: n.Line, Column: n.Column, Field: field, Msg: fmt.Sprintf(format, args...)})
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
		return nil, d.syntaxError(data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, d.errAt(&extra, "", "a second YAML document (after ---); a scenario file holds one scenario")
	} else if !errors.Is(err, io.EOF) {
		return nil, d.syntaxError(data, err)
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
		at := root
		if root != nil && isEmptyNull(root) {
			at = nil // "---" and nothing: the file as a whole
		}
		return nil, d.errAt(at, "", "the file holds %s; want a mapping of keys (name: ..., summary: ..., attacker: ..., expected: ...)", describeNode(root))
	}
	return root, nil
}

// syntaxError turns the YAML library's error into a FileError at the
// problem's true line and column (see locateSyntaxError).
func (d *fileDecoder) syntaxError(data []byte, err error) *FileError {
	reported, problem := splitYAMLError(err)
	e := &FileError{File: d.file, Line: reported, Msg: "invalid YAML: " + problem, Err: err}
	if line, col := locateSyntaxError(data, reported, problem); line > 0 {
		e.Line, e.Column = line, col
	}
	if hint, ok := yamlUnclosedHints[problem]; ok {
		e.Msg += " (" + hint + ")"
		if strings.HasPrefix(problem, "did not find") {
			e.Column = 0
		}
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
		if known != nil && !slices.Contains(known, key) {
			newKey, renamed := d.renamed[fieldPath(path, key)]
			if !renamed || !slices.Contains(known, newKey) {
				return nil, d.errAt(kn, fieldPath(path, key), "unknown key %q; valid keys here: %s%s", key, joinComma(known), didYouMean(key, known))
			}
			if first, dup := m.keys[newKey]; dup {
				return nil, d.errAt(kn, fieldPath(path, key), "%q is the old name of %q, which is already set on line %d; remove this one", key, newKey, first.Line)
			}
			d.noteAt(kn, fieldPath(path, key), "deprecated key %q, renamed %q; read as %s (rename it in the file)", key, newKey, fieldPath(path, newKey))
			key = newKey
		}
		if first, dup := m.keys[key]; dup {
			if first.Value != key {
				return nil, d.errAt(kn, fieldPath(path, key), "already set on line %d under its old name %q; remove that one", first.Line, first.Value)
			}
			return nil, d.errAt(kn, fieldPath(path, key), "duplicate key; it is already set on line %d", first.Line)
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

// Booleans. A key that takes true or false (revoked, trusted_by_victim)
// or on or off (a defense switch) reads every spelling of a boolean, as
// YAML 1.1 defined them: true/false, yes/no, y/n, on/off, each in lower,
// Title or UPPER case, quoted or not. The key's own words (true/false;
// on/off for a switch, which also takes true/false) are read silently; the
// others are read as YAML 1.1 would, with a note naming the word to
// write, as YAML 1.2 tools read yes or n as a string. A switch with other
// values (revocation: off, soft-fail, hard-fail) takes only those, and a
// boolean there is refused with the value that means it, if any.

// boolWords are the YAML 1.1 spellings of true and false, lower case.
var boolWords = map[string]bool{"true": true, "yes": true, "y": true, "on": true, "false": false, "no": false, "n": false, "off": false}

// boolWord reads word as a boolean; ok is false when it is not one.
func boolWord(word string) (value, ok bool) {
	lower := strings.ToLower(word)
	if word != lower && word != strings.ToUpper(word) && word != strings.ToUpper(lower[:1])+lower[1:] {
		return false, false // "tRue" is no boolean in any YAML
	}
	value, ok = boolWords[lower]
	return value, ok
}

// boolean returns key's value, true or false; see boolWords.
func (d *fileDecoder) boolean(m *mapping, key string) (bool, *FileError) {
	v, vn, err := d.str(m, key, false, "true or false")
	if err != nil || vn == nil {
		return false, err
	}
	path := fieldPath(m.path, key)
	value, ok := boolWord(v)
	if !ok {
		return false, d.errAt(vn, path, "got %s; want true or false", describeNode(vn))
	}
	if want := strconv.FormatBool(value); !strings.EqualFold(v, want) {
		d.noteAt(vn, path, "%q read as %s; write %s (%q is a YAML 1.1 boolean)", v, want, want, v)
	}
	return value, nil
}

// switchValue returns the value of a defense switch whose valid values are
// valid, from its node vn (nil: null) at key node kn. A switch of on and
// off reads booleans (see boolWords).
func (d *fileDecoder) switchValue(vn, kn *yaml.Node, path string, valid []string) (string, *FileError) {
	v := ""
	if vn != nil && vn.Kind == yaml.ScalarNode && vn.ShortTag() != "!!null" {
		v = vn.Value
	}
	if slices.Contains(valid, v) {
		return v, nil
	}
	value, isBool := boolWord(v)
	word := map[bool]string{true: "on", false: "off"}[value]
	if isBool && slices.Equal(valid, []string{"on", "off"}) {
		if lower := strings.ToLower(v); lower != word && lower != strconv.FormatBool(value) {
			d.noteAt(vn, path, "%q read as %s; write %s (%q is a YAML 1.1 boolean)", v, word, word, v)
		}
		return word, nil
	}
	hint := didYouMean(v, valid)
	switch {
	case isBool && !value && slices.Contains(valid, "off"):
		hint = ` (write "off" to turn it off)`
	case isBool:
		hint = "" // "no" is not a misspelling of "on"
	}
	return "", d.errAt(orNode(vn, kn), path, "got %s; want %s%s", describeNode(vn), orList(valid), hint)
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

// orNode returns n, or fallback (the key, say) when n is missing or an
// empty null: the library places an empty value at the next token, which
// can be lines below or past the end of the file.
func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil && (!isEmptyNull(n) || fallback == nil) {
		return n
	}
	return fallback
}

// isEmptyNull reports whether n is a value left empty ("key:" with
// nothing after it).
func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == ""
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

package scenarios

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// The YAML library reports a syntax error at the line where the construct
// around it began (the file's top-level mapping, often right after the
// leading comments), not where it found the problem, and never with a
// column: a bad indentation on line 37 comes out as "line 4". The library
// keeps the true position to itself, so locateSyntaxError finds it by
// parsing prefixes of the file.

// maxLocateParses bounds the prefix parses of locateSyntaxError; a file of
// MaxScenarioFileSize lines needs about 40.
const maxLocateParses = 64

// locateSyntaxError returns the line and column (1-based) where data's
// YAML syntax error, whose message without the "yaml: line N: " prefix is
// problem, really is: the first line L such that the file's first L lines
// fail with the same message, and the first column of L through which
// they do. from is the line the library reported (0: none); the problem
// is not above the line before it. It returns 0, 0 when no prefix fails
// with that message, and column 0 when only the whole of line L does
// (the problem is the end of the line or what follows).
func locateSyntaxError(data []byte, from int, problem string) (line, column int) {
	starts := lineStarts(data)
	parses := 0
	failsAt := func(end int) bool {
		parses++
		return parses <= maxLocateParses && yamlProblem(data[:end]) == problem
	}
	// lineEnd(k) is the offset just past line k's text and its newline.
	lineEnd := func(k int) int {
		if k >= len(starts) {
			return len(data)
		}
		return starts[k]
	}
	// The library counts a lone \r and Unicode line breaks too, so its
	// line can be past the last \n-ended one.
	hi := len(starts)
	lo := min(max(1, from-1), hi)
	if !failsAt(lineEnd(hi)) {
		return 0, 0
	}
	for lo < hi { // the first line through which the prefix fails
		mid := (lo + hi) / 2
		if failsAt(lineEnd(mid)) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	line = lo
	start, text := starts[line-1], bytes.TrimRight(data[starts[line-1]:lineEnd(line)], "\r\n")
	if len(text) == 0 || !failsAt(start+len(text)) {
		return line, 0
	}
	lo, hi = 1, len(text)
	for lo < hi { // the first byte of the line through which it fails
		mid := (lo + hi) / 2
		if failsAt(start + mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if parses > maxLocateParses {
		return line, 0
	}
	// An alias fails once its whole name is read; it starts at its '*'.
	if name, ok := strings.CutPrefix(problem, "unknown anchor '"); ok {
		if i := bytes.LastIndex(text[:lo], []byte("*"+strings.TrimSuffix(name, "' referenced"))); i >= 0 {
			lo = i + 1
		}
	}
	return line, utf8.RuneCount(text[:lo-1]) + 1
}

// lineStarts returns the offset where each line of data begins.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' && i+1 < len(data) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// yamlUnclosedHints are the problems that running out of input causes,
// with what to add to their message. A prefix of the file fails with them
// as soon as the bracket or quote opens, so locateSyntaxError finds the
// line where the prefixes start failing; the column is the opening quote
// of a string, and unknown (0) for a bracket.
var yamlUnclosedHints = map[string]string{
	"did not find expected ',' or ']'": "a '[' on this line or above is not closed, or its items are not separated by ','",
	"did not find expected ',' or '}'": "a '{' on this line or above is not closed, or its entries are not separated by ','",
	"found unexpected end of stream":   "a quoted string that starts here is not closed",
}

// yamlProblem parses every document of data and returns the syntax
// error's message without its "yaml: " and "line N: " prefixes, or "".
func yamlProblem(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			_, msg := splitYAMLError(err)
			return msg
		}
	}
}

// splitYAMLError splits the library's message into the line it names (0:
// none) and the problem.
func splitYAMLError(err error) (line int, problem string) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

package wpad

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a PAC token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokPunct // ( ) { } , ; ! && || == != === !== = +
)

// token is one lexical token of a PAC file.
type token struct {
	kind tokKind
	text string // the identifier, punctuation, number, or the string's value
	line int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits src into tokens, dropping white space and comments.
func lex(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, &SyntaxError{Line: line, Problem: "unterminated comment"}
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 4
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\n' {
					return nil, &SyntaxError{Line: line, Problem: "newline in string"}
				}
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, &SyntaxError{Line: line, Problem: "unterminated string"}
			}
			toks = append(toks, token{tokString, b.String(), line})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j])) {
				j++
			}
			toks = append(toks, token{tokIdent, src[i:j], line})
			i = j
		case isDigit(c):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			toks = append(toks, token{tokNumber, src[i:j], line})
			i = j
		default:
			p := ""
			for _, op := range []string{"===", "!==", "&&", "||", "==", "!=", "(", ")", "{", "}", ",", ";", "!", "=", "+"} {
				if strings.HasPrefix(src[i:], op) {
					p = op
					break
				}
			}
			if p == "" {
				return nil, &SyntaxError{Line: line, Problem: fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{tokPunct, p, line})
			i += len(p)
		}
	}
	return append(toks, token{tokEOF, "", line}), nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

package wpad

import (
	"fmt"
	"strconv"
)

// node is an expression of the restricted PAC language.
type node interface {
	eval(e *evaluation) (value, error)
}

// stmt is a statement; exec reports whether it returned, and what.
type stmt interface {
	exec(e *evaluation) (value, bool, error)
}

type (
	litNode struct{ v value }
	varNode struct{ name string }
	notNode struct{ x node }
	binNode struct {
		op   string
		l, r node
	}
	callNode struct {
		name string
		args []node
		line int
	}
	returnStmt struct{ x node }
	ifStmt     struct {
		cond      node
		then, els stmt
	}
	blockStmt []stmt
	varStmt   struct {
		name string
		x    node
	}
	exprStmt struct{ x node }
)

// parser is a recursive-descent parser over the tokens.
type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *parser) expect(kind tokKind, text string) (token, error) {
	t := p.next()
	if t.kind != kind || (text != "" && t.text != text) {
		want := text
		if want == "" {
			want = map[tokKind]string{tokIdent: "a name", tokString: "a string"}[kind]
		}
		return t, &SyntaxError{Line: t.line, Problem: fmt.Sprintf("found %v, want %s", t, want)}
	}
	return t, nil
}

// parseFile parses "function FindProxyForURL(a, b) { ... }", possibly
// after other function declarations, which are refused: the lab's PAC
// files define FindProxyForURL alone.
func (p *parser) parseFile() (params [2]string, body blockStmt, err error) {
	if _, err = p.expect(tokIdent, "function"); err != nil {
		return params, nil, err
	}
	if _, err = p.expect(tokIdent, "FindProxyForURL"); err != nil {
		return params, nil, err
	}
	if _, err = p.expect(tokPunct, "("); err != nil {
		return params, nil, err
	}
	for i := range params {
		t, err := p.expect(tokIdent, "")
		if err != nil {
			return params, nil, err
		}
		params[i] = t.text
		if i == 0 {
			if _, err := p.expect(tokPunct, ","); err != nil {
				return params, nil, err
			}
		}
	}
	if _, err = p.expect(tokPunct, ")"); err != nil {
		return params, nil, err
	}
	body, err = p.parseBlock()
	if err != nil {
		return params, nil, err
	}
	if t := p.next(); t.kind != tokEOF {
		return params, nil, &SyntaxError{Line: t.line, Problem: fmt.Sprintf("found %v after FindProxyForURL, want the end of the file", t)}
	}
	return params, body, nil
}

func (p *parser) parseBlock() (blockStmt, error) {
	if _, err := p.expect(tokPunct, "{"); err != nil {
		return nil, err
	}
	var b blockStmt
	for !p.is(tokPunct, "}") {
		if p.peek().kind == tokEOF {
			return nil, &SyntaxError{Line: p.peek().line, Problem: "missing }"}
		}
		s, err := p.parseStmt()
		if err != nil {
			return nil, err
		}
		b = append(b, s)
	}
	p.next()
	return b, nil
}

func (p *parser) parseStmt() (stmt, error) {
	switch {
	case p.is(tokPunct, "{"):
		return p.parseBlock()
	case p.is(tokPunct, ";"):
		p.next()
		return blockStmt(nil), nil
	case p.is(tokIdent, "return"):
		p.next()
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.semicolon()
		return returnStmt{x}, nil
	case p.is(tokIdent, "var"):
		p.next()
		name, err := p.expect(tokIdent, "")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokPunct, "="); err != nil {
			return nil, err
		}
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.semicolon()
		return varStmt{name.text, x}, nil
	case p.is(tokIdent, "if"):
		p.next()
		if _, err := p.expect(tokPunct, "("); err != nil {
			return nil, err
		}
		cond, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokPunct, ")"); err != nil {
			return nil, err
		}
		then, err := p.parseStmt()
		if err != nil {
			return nil, err
		}
		s := ifStmt{cond: cond, then: then}
		if p.is(tokIdent, "else") {
			p.next()
			if s.els, err = p.parseStmt(); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.semicolon()
	return exprStmt{x}, nil
}

// semicolon consumes an optional ";" (automatic semicolon insertion, as
// far as PAC files need it).
func (p *parser) semicolon() {
	if p.is(tokPunct, ";") {
		p.next()
	}
}

func (p *parser) parseExpr() (node, error) { return p.parseBinary(0) }

// precedence of the binary operators, lowest first.
var precedence = [][]string{{"||"}, {"&&"}, {"==", "!=", "===", "!=="}, {"+"}}

func (p *parser) parseBinary(level int) (node, error) {
	if level == len(precedence) {
		return p.parseUnary()
	}
	l, err := p.parseBinary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range precedence[level] {
			if p.is(tokPunct, o) {
				op = o
			}
		}
		if op == "" {
			return l, nil
		}
		p.next()
		r, err := p.parseBinary(level + 1)
		if err != nil {
			return nil, err
		}
		l = binNode{op, l, r}
	}
}

func (p *parser) parseUnary() (node, error) {
	if p.is(tokPunct, "!") {
		p.next()
		x, err := p.parseUnary()
		return notNode{x}, err
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return litNode{str(t.text)}, nil
	case tokNumber:
		n, err := strconv.Atoi(t.text)
		if err != nil {
			return nil, &SyntaxError{Line: t.line, Problem: "bad number " + t.text}
		}
		return litNode{num(n)}, nil
	case tokIdent:
		switch t.text {
		case "true", "false":
			return litNode{boolean(t.text == "true")}, nil
		}
		if !p.is(tokPunct, "(") {
			return varNode{t.text}, nil
		}
		p.next()
		call := callNode{name: t.text, line: t.line}
		for !p.is(tokPunct, ")") {
			if len(call.args) > 0 {
				if _, err := p.expect(tokPunct, ","); err != nil {
					return nil, err
				}
			}
			a, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, a)
		}
		p.next()
		if _, ok := builtins[call.name]; !ok {
			return nil, &SyntaxError{Line: t.line, Problem: "unknown function " + call.name + ": the evaluator knows only the PAC functions listed on PAC"}
		}
		return call, nil
	case tokPunct:
		if t.text == "(" {
			x, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			_, err = p.expect(tokPunct, ")")
			return x, err
		}
	}
	return nil, &SyntaxError{Line: t.line, Problem: fmt.Sprintf("found %v, want an expression", t)}
}

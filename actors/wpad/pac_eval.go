package wpad

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// value is a PAC value: a string, a boolean or an integer.
type value struct {
	kind byte // 's', 'b' or 'n'
	s    string
	b    bool
	n    int
}

func str(s string) value     { return value{kind: 's', s: s} }
func boolean(b bool) value   { return value{kind: 'b', b: b} }
func num(n int) value        { return value{kind: 'n', n: n} }
func (v value) truthy() bool { return v.b || v.s != "" || v.n != 0 }

// String converts as JavaScript's String() does.
func (v value) String() string {
	switch v.kind {
	case 'b':
		return strconv.FormatBool(v.b)
	case 'n':
		return strconv.Itoa(v.n)
	}
	return v.s
}

// evaluation is one call of FindProxyForURL.
type evaluation struct {
	ctx  context.Context
	env  Env
	vars map[string]value
}

func (n litNode) eval(*evaluation) (value, error) { return n.v, nil }

func (n varNode) eval(e *evaluation) (value, error) {
	v, ok := e.vars[n.name]
	if !ok {
		return value{}, &EvalError{Problem: n.name + " is not defined"}
	}
	return v, nil
}

func (n notNode) eval(e *evaluation) (value, error) {
	v, err := n.x.eval(e)
	return boolean(!v.truthy()), err
}

func (n binNode) eval(e *evaluation) (value, error) {
	l, err := n.l.eval(e)
	if err != nil {
		return value{}, err
	}
	switch n.op {
	case "||":
		if l.truthy() {
			return l, nil
		}
		return n.r.eval(e)
	case "&&":
		if !l.truthy() {
			return l, nil
		}
		return n.r.eval(e)
	}
	r, err := n.r.eval(e)
	if err != nil {
		return value{}, err
	}
	switch n.op {
	case "+":
		if l.kind == 'n' && r.kind == 'n' {
			return num(l.n + r.n), nil
		}
		return str(l.String() + r.String()), nil
	case "==", "===":
		return boolean(l == r || (n.op == "==" && l.String() == r.String())), nil
	default: // "!=", "!=="
		return boolean(!(l == r || (n.op == "!=" && l.String() == r.String()))), nil
	}
}

func (n callNode) eval(e *evaluation) (value, error) {
	b := builtins[n.name]
	if len(n.args) < b.args {
		return value{}, &EvalError{Line: n.line, Problem: fmt.Sprintf("%s takes %d arguments, got %d", n.name, b.args, len(n.args))}
	}
	args := make([]value, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(e)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	return b.fn(e, args)
}

func (s returnStmt) exec(e *evaluation) (value, bool, error) {
	v, err := s.x.eval(e)
	return v, err == nil, err
}

func (s ifStmt) exec(e *evaluation) (value, bool, error) {
	c, err := s.cond.eval(e)
	switch {
	case err != nil:
		return value{}, false, err
	case c.truthy():
		return s.then.exec(e)
	case s.els != nil:
		return s.els.exec(e)
	}
	return value{}, false, nil
}

func (b blockStmt) exec(e *evaluation) (value, bool, error) {
	for _, s := range b {
		if v, done, err := s.exec(e); done || err != nil {
			return v, done, err
		}
	}
	return value{}, false, nil
}

func (s varStmt) exec(e *evaluation) (value, bool, error) {
	v, err := s.x.eval(e)
	e.vars[s.name] = v
	return value{}, false, err
}

func (s exprStmt) exec(e *evaluation) (value, bool, error) {
	_, err := s.x.eval(e)
	return value{}, false, err
}

// builtin is a PAC predefined function.
type builtin struct {
	args int // the minimum number of arguments
	fn   func(e *evaluation, args []value) (value, error)
}

// builtins are the PAC functions the evaluator knows (Netscape's
// "Navigator Proxy Auto-Config File Format", 1996, as browsers implement
// it).
var builtins = map[string]builtin{
	"isPlainHostName": {1, func(_ *evaluation, a []value) (value, error) {
		return boolean(!strings.Contains(a[0].String(), ".")), nil
	}},
	"dnsDomainIs": {2, func(_ *evaluation, a []value) (value, error) {
		return boolean(strings.HasSuffix(strings.ToLower(a[0].String()), strings.ToLower(a[1].String()))), nil
	}},
	"localHostOrDomainIs": {2, func(_ *evaluation, a []value) (value, error) {
		h, hd := strings.ToLower(a[0].String()), strings.ToLower(a[1].String())
		return boolean(h == hd || (!strings.Contains(h, ".") && strings.HasPrefix(hd, h+"."))), nil
	}},
	"dnsDomainLevels": {1, func(_ *evaluation, a []value) (value, error) {
		return num(strings.Count(a[0].String(), ".")), nil
	}},
	"shExpMatch": {2, func(_ *evaluation, a []value) (value, error) {
		return boolean(shellMatch(a[0].String(), a[1].String())), nil
	}},
	"isResolvable": {1, func(e *evaluation, a []value) (value, error) {
		_, ok := e.resolve(a[0].String())
		return boolean(ok), nil
	}},
	"dnsResolve": {1, func(e *evaluation, a []value) (value, error) {
		if ip, ok := e.resolve(a[0].String()); ok {
			return str(ip.String()), nil
		}
		return str(""), nil
	}},
	"myIpAddress": {0, func(e *evaluation, _ []value) (value, error) {
		return str(e.env.MyIP.String()), nil
	}},
	"isInNet": {3, func(e *evaluation, a []value) (value, error) {
		ip, ok := e.resolve(a[0].String())
		pat, err1 := netip.ParseAddr(a[1].String())
		mask, err2 := netip.ParseAddr(a[2].String())
		if !ok || err1 != nil || err2 != nil || !ip.Is4() || !pat.Is4() || !mask.Is4() {
			return boolean(false), nil
		}
		x, p, m := ip.As4(), pat.As4(), mask.As4()
		for i := range m {
			if x[i]&m[i] != p[i]&m[i] {
				return boolean(false), nil
			}
		}
		return boolean(true), nil
	}},
}

// resolve returns host's address: host itself when it is an IP literal,
// else the Env's Resolve (none: not resolvable).
func (e *evaluation) resolve(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	if e.env.Resolve == nil {
		return netip.Addr{}, false
	}
	ip, err := e.env.Resolve(e.ctx, host)
	return ip, err == nil && ip.IsValid()
}

// shellMatch matches s against a shell expression with * (any run) and ?
// (one character), as shExpMatch does; every other character is literal.
func shellMatch(s, pat string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if shellMatch(s[i:], pat[1:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && shellMatch(s[1:], pat[1:])
	}
	return s != "" && s[0] == pat[0] && shellMatch(s[1:], pat[1:])
}

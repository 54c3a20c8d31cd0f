package wpad

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// ContentType is the media type of PAC files.
const ContentType = "application/x-ns-proxy-autoconfig"

// PAC is a compiled proxy auto-config file. It is immutable and safe for
// concurrent use.
//
// The evaluator understands the subset of JavaScript that PAC files of the
// lab (and most real ones) are written in: one function
// FindProxyForURL(url, host) whose body holds if/else, return, var, blocks
// and expressions of string, integer and boolean literals, the two
// parameters and local variables, !, &&, ||, ==, !=, ===, !==, + and
// calls of isPlainHostName, dnsDomainIs, localHostOrDomainIs,
// dnsDomainLevels, shExpMatch, isResolvable, dnsResolve, myIpAddress and
// isInNet. Anything else is a *SyntaxError at Compile, never a guess. (A
// full JavaScript engine, github.com/dop251/goja, was considered and left
// out: it brings a regular-expression engine and source-map packages and
// is published as untagged snapshots only, for files that are a handful
// of conditions.)
type PAC struct {
	src    string
	params [2]string
	body   blockStmt
}

// Compile parses src.
func Compile(src string) (*PAC, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	params, body, err := p.parseFile()
	if err != nil {
		return nil, err
	}
	return &PAC{src: src, params: params, body: body}, nil
}

// Source returns the file as given to Compile.
func (p *PAC) Source() string { return p.src }

// Env is what the PAC functions that look outside the script see.
type Env struct {
	// Resolve answers isResolvable, dnsResolve and isInNet for names; nil
	// means no name resolves. It is called from FindProxyForURL's
	// goroutine.
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// MyIP is what myIpAddress returns.
	MyIP netip.Addr
}

// FindProxyForURL runs the script for url and host and returns its answer
// string, e.g. "PROXY proxy.contoso.com:8080; DIRECT". It fails with an
// *EvalError when the script uses an undefined name or returns nothing.
func (p *PAC) FindProxyForURL(ctx context.Context, env Env, url, host string) (string, error) {
	e := &evaluation{ctx: ctx, env: env, vars: map[string]value{p.params[0]: str(url), p.params[1]: str(host)}}
	v, done, err := p.body.exec(e)
	if err != nil {
		return "", err
	}
	if !done {
		return "", &EvalError{Problem: "FindProxyForURL returned nothing for " + url}
	}
	return v.String(), nil
}

// Directive is one entry of a PAC answer.
type Directive struct {
	// Kind is "DIRECT", "PROXY", "HTTPS", "SOCKS" etc., upper case.
	Kind string
	// Addr is "host:port"; empty for DIRECT.
	Addr string
}

func (d Directive) String() string {
	if d.Addr == "" {
		return d.Kind
	}
	return d.Kind + " " + d.Addr
}

// ParseResult splits a PAC answer such as "PROXY p:8080; DIRECT" into its
// directives, in order. It fails on an entry other than DIRECT without an
// address.
func ParseResult(s string) ([]Directive, error) {
	var out []Directive
	for part := range strings.SplitSeq(s, ";") {
		f := strings.Fields(part)
		switch {
		case len(f) == 0:
			continue
		case len(f) == 1 && strings.EqualFold(f[0], "DIRECT"):
			out = append(out, Directive{Kind: "DIRECT"})
		case len(f) == 2 && !strings.EqualFold(f[0], "DIRECT"):
			out = append(out, Directive{Kind: strings.ToUpper(f[0]), Addr: f[1]})
		default:
			return nil, &EvalError{Problem: fmt.Sprintf("bad PAC answer entry %q: want DIRECT or KIND host:port", strings.TrimSpace(part))}
		}
	}
	return out, nil
}

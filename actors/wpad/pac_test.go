package wpad_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/wpad"
)

// contosoPAC is the kind of PAC file the lab serves: plain names and the
// company's own domain direct, an internal subnet direct, the rest through
// the proxy.
const contosoPAC = `// Contoso proxy auto-config
function FindProxyForURL(url, host) {
	/* local names go direct */
	if (isPlainHostName(host) || dnsDomainIs(host, ".contoso.com"))
		return "DIRECT";
	if (isInNet(host, "10.0.0.0", "255.0.0.0")) { return 'DIRECT'; }
	var proxy = "PROXY proxy.contoso.com:8080";
	if (shExpMatch(url, "https://*") && host != "fabrikam.com")
		return proxy + "; DIRECT";
	else if (localHostOrDomainIs(host, "www.fabrikam.com"))
		return "PROXY 10.0.0.66:3128";
	return proxy;
}
`

func TestPACEvaluates(t *testing.T) {
	pac, err := wpad.Compile(contosoPAC)
	if err != nil {
		t.Fatal(err)
	}
	env := wpad.Env{Resolve: func(_ context.Context, host string) (netip.Addr, error) {
		if host == "intranet.example" {
			return netip.MustParseAddr("10.1.2.3"), nil
		}
		return netip.Addr{}, errors.New("no such host")
	}}
	for _, tc := range []struct{ url, host, want string }{
		{"http://fileserv/x", "fileserv", "DIRECT"},
		{"https://lyncdiscover.contoso.com/", "lyncdiscover.contoso.com", "DIRECT"},
		{"http://10.9.9.9/", "10.9.9.9", "DIRECT"},
		{"http://intranet.example/", "intranet.example", "DIRECT"},
		{"https://www.example.org/", "www.example.org", "PROXY proxy.contoso.com:8080; DIRECT"},
		{"https://fabrikam.com/", "fabrikam.com", "PROXY proxy.contoso.com:8080"},
		{"http://www/", "www.fabrikam.com", "PROXY 10.0.0.66:3128"},
		{"http://www.example.org/", "www.example.org", "PROXY proxy.contoso.com:8080"},
	} {
		got, err := pac.FindProxyForURL(t.Context(), env, tc.url, tc.host)
		if err != nil || got != tc.want {
			t.Errorf("FindProxyForURL(%s, %s) = %q, %v; want %q", tc.url, tc.host, got, err, tc.want)
		}
	}
}

func TestPACRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`function FindProxyForURL(url, host) { return alert("x"); }`, "line 1: unknown function alert"},
		{`function FindProxyForURL(url, host) { while (true) {} }`, "line 1: unknown function while"},
		{`function FindProxyForURL(url, host) {
			return "DIRECT"`, "line 2: missing }"},
		{`function Other(url, host) { return "DIRECT"; }`, `line 1: found "Other", want FindProxyForURL`},
		{`function FindProxyForURL(url, host) { return "DIRECT; }`, "line 1: unterminated string"},
	} {
		_, err := wpad.Compile(tc.src)
		var se *wpad.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want a SyntaxError saying %q", tc.src, err, tc.want)
		}
	}
	pac, err := wpad.Compile(`function FindProxyForURL(u, h) { if (h == "x") return "DIRECT"; }`)
	if err != nil {
		t.Fatal(err)
	}
	var ee *wpad.EvalError
	if _, err := pac.FindProxyForURL(t.Context(), wpad.Env{}, "http://y/", "y"); !errors.As(err, &ee) {
		t.Errorf("no return: %v, want an EvalError", err)
	}
}

func TestParseResult(t *testing.T) {
	got, err := wpad.ParseResult("PROXY proxy.contoso.com:8080; proxy 10.0.0.66:3128;DIRECT;")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, d := range got {
		s = append(s, d.String())
	}
	if strings.Join(s, "|") != "PROXY proxy.contoso.com:8080|PROXY 10.0.0.66:3128|DIRECT" {
		t.Errorf("ParseResult = %q", s)
	}
	if _, err := wpad.ParseResult("PROXY"); err == nil {
		t.Error(`ParseResult("PROXY") succeeded`)
	}
}

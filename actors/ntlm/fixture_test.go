package ntlm_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/netsim"
)

// lan is one segment 10.0.0.0/24 with alice (10.0.0.20), the web server
// fe01 (10.0.0.80) and a proxy (10.0.0.8), names resolved from a map.
type lan struct {
	w                 *netsim.World
	seg               *netsim.Segment
	alice, web, proxy *netsim.Host
	names             map[string]netip.Addr
}

func newLAN(t *testing.T) *lan {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	l := &lan{w: w, seg: w.NewSegment("lan", netsim.SegmentConfig{})}
	add := func(name, addr string) *netsim.Host {
		h := w.NewHost(name, netsim.HostConfig{})
		if _, err := h.AddNIC(l.seg, netsim.NICConfig{Addr: netip.MustParsePrefix(addr)}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	l.alice = add("alice", "10.0.0.20/24")
	l.web = add("fe01", "10.0.0.80/24")
	l.proxy = add("proxy", "10.0.0.8/24")
	l.names = map[string]netip.Addr{"fe01.contoso.com": l.web.Addr(), "proxy.contoso.com": l.proxy.Addr()}
	return l
}

// dialer dials from h, resolving through l.names.
func (l *lan) dialer(h *netsim.Host) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ip, ok := l.names[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return h.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
	}
}

// serve runs handler on h's port 80 until the test ends, wiring the NTLM
// server's ConnState (if auth is not nil) so closed connections are
// forgotten.
func serve(t *testing.T, h *netsim.Host, handler http.Handler, auth *ntlm.Server) {
	t.Helper()
	ln, err := h.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	if auth != nil {
		srv.ConnState = auth.ConnState
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve on %s: %v", h.Name(), err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
}

// client is alice's HTTP client: NTLM as cred over a keep-alive transport,
// through proxyURL if set.
func (l *lan) client(t *testing.T, cred ntlm.Credential, proxyURL string, tune func(*ntlm.Transport)) *http.Client {
	t.Helper()
	base := &http.Transport{DialContext: l.dialer(l.alice), MaxConnsPerHost: 1}
	if proxyURL != "" {
		u, err := url.Parse(proxyURL)
		if err != nil {
			t.Fatal(err)
		}
		base.Proxy = http.ProxyURL(u)
	}
	t.Cleanup(base.CloseIdleConnections)
	tr := &ntlm.Transport{Base: base, Credential: cred, Workstation: "ALICE-PC"}
	if tune != nil {
		tune(tr)
	}
	return &http.Client{Transport: tr}
}

// results collects a server's OnResult and OnCapture reports.
type results struct {
	ch       chan ntlm.Result
	captured chan ntlm.Captured
}

func newResults() *results {
	return &results{ch: make(chan ntlm.Result, 16), captured: make(chan ntlm.Captured, 16)}
}

func (r *results) onResult(res ntlm.Result)  { r.ch <- res }
func (r *results) onCapture(c ntlm.Captured) { r.captured <- c }
func (r *results) all() (out []ntlm.Result) {
	for {
		select {
		case res := <-r.ch:
			out = append(out, res)
		default:
			return out
		}
	}
}

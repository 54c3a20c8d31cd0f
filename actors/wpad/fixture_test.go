package wpad_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/dns/dnstest"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/netsim"
)

// Addresses on the test LAN.
var (
	clientAddr   = netip.MustParseAddr("10.0.0.10")
	nsAddr       = netip.MustParseAddr("10.0.0.53")
	attackerAddr = netip.MustParseAddr("10.0.0.66")
	proxyAddr    = netip.MustParseAddr("10.0.0.80")
	webAddr      = netip.MustParseAddr("10.0.0.90")
)

// lan is a /24 with a Windows client, its DNS server (contoso.com), the
// company's proxy (also its WPAD host), a web server and an attacker.
type lan struct {
	w                              *netsim.World
	seg                            *netsim.Segment
	client, ns, proxy, web, attack *netsim.Host
	stub                           *dns.Resolver
}

// newLAN builds the LAN; zone is the contoso.com zone's records, pcap,
// when not empty, the file the segment is captured into.
func newLAN(t *testing.T, zone, pcap string) *lan {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 17})
	l := &lan{w: w, seg: w.NewSegment("lan", netsim.SegmentConfig{})}
	if pcap != "" {
		netsimtest.CaptureToFile(t, l.seg, pcap)
	}
	t.Cleanup(func() { w.Close() })
	add := func(name string, addr netip.Addr) *netsim.Host {
		return netsimtest.AddHost(t, l.seg, w, name, addr, netsim.NICConfig{})
	}
	l.client, l.ns, l.proxy, l.web, l.attack = add("client", clientAddr), add("ns", nsAddr), add("proxy", proxyAddr), add("web", webAddr), add("attacker", attackerAddr)
	dnstest.Serve(t, l.ns, "contoso.com", "proxy IN A 10.0.0.80\nweb IN A 10.0.0.90\n"+zone)
	var err error
	if l.stub, err = dns.NewResolver(dns.ResolverConfig{Net: l.client, Servers: []netip.AddrPort{netip.AddrPortFrom(nsAddr, 53)}}); err != nil {
		t.Fatal(err)
	}
	return l
}

// windows returns the client's Windows resolver (search list contoso.com)
// with LLMNR and NBT-NS as given.
func (l *lan) windows(t *testing.T, llmnr, nbtns bool) *winname.Resolver {
	t.Helper()
	q, err := winname.NewNetQuerier(winname.NetQuerierConfig{Net: l.client})
	if err != nil {
		t.Fatal(err)
	}
	r, err := winname.NewResolver(winname.ResolverConfig{DNS: l.stub, Querier: q, LLMNR: llmnr, NBTNS: nbtns, SearchList: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// poison runs a Responder-style poisoner on the attacker's host.
func (l *lan) poison(t *testing.T) {
	t.Helper()
	r, err := winname.NewResponder(winname.ResponderConfig{Addr: attackerAddr, Policy: winname.AnswerEveryName})
	if err != nil {
		t.Fatal(err)
	}
	llmnr, nbns, err := winname.Listen(l.attack)
	if err != nil {
		t.Fatal(err)
	}
	netsimtest.GoServe(t, "poisoner", func(ctx context.Context) error { return r.Serve(ctx, llmnr, nbns) })
}

// servePAC serves script on h's port 80 and returns the server.
func servePAC(t *testing.T, h *netsim.Host, script string) *wpad.PACServer {
	t.Helper()
	s, err := wpad.NewPACServer(wpad.PACServerConfig{Script: script})
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, h, 80, s)
	return s
}

// serveHTTP runs handler on h's port until the test ends.
func serveHTTP(t *testing.T, h *netsim.Host, port int, handler http.Handler) {
	t.Helper()
	ln, err := h.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s:%d: Serve: %v", h.Name(), port, err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// runProxy runs a proxy on the proxy host's port 8080.
func (l *lan) runProxy(t *testing.T, auth wpad.Authenticator) *wpad.Proxy {
	t.Helper()
	p, err := wpad.NewProxy(wpad.ProxyConfig{Dialer: l.proxy, Resolver: l.stub, Authenticate: auth})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := l.proxy.Listen("tcp", ":8080")
	if err != nil {
		t.Fatal(err)
	}
	netsimtest.GoServe(t, "proxy", func(ctx context.Context) error { return p.Serve(ctx, ln) })
	return p
}

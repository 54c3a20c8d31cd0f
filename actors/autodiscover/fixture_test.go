package autodiscover_test

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/dns/dnstest"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/netsim"
)

// Addresses on the test LAN.
var (
	clientAddr   = netip.MustParseAddr("10.0.0.10")
	feAddr       = netip.MustParseAddr("10.0.0.30")
	nsAddr       = netip.MustParseAddr("10.0.0.53")
	attackerAddr = netip.MustParseAddr("10.0.0.66")
)

// lan is a /24 with a client, its DNS server, a Front End and an attacker;
// the enterprise root (trusted by the client) and a rogue root (not). It
// is closed by t.Cleanup.
type lan struct {
	w                      *netsim.World
	seg                    *netsim.Segment
	client, ns, fe, attack *netsim.Host
	root, rogue            *pki.CA
	stub                   *dns.Resolver
}

// newLAN builds the LAN; zone is the contoso.com zone's records, and pcap,
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
	l.client, l.ns, l.fe, l.attack = add("client", clientAddr), add("ns", nsAddr), add("fe", feAddr), add("attacker", attackerAddr)
	var err error
	if l.root, err = pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root", Clock: w.Now}); err != nil {
		t.Fatal(err)
	}
	if l.rogue, err = pki.NewRootCA(pki.RootConfig{CommonName: "Rogue Root", Clock: w.Now}); err != nil {
		t.Fatal(err)
	}
	dnstest.Serve(t, l.ns, "contoso.com", zone)
	if l.stub, err = dns.NewResolver(dns.ResolverConfig{Net: l.client, Servers: []netip.AddrPort{netip.AddrPortFrom(nsAddr, 53)}}); err != nil {
		t.Fatal(err)
	}
	return l
}

// service returns the autodiscover service of contoso.com linking pool.
func service(t *testing.T, pool string) http.Handler {
	t.Helper()
	s, err := autodiscover.NewService(autodiscover.ServiceConfig{
		SIPDomain: "contoso.com",
		Internal:  autodiscover.PoolAccess{FQDN: pool, Port: 5061},
		External:  autodiscover.PoolAccess{FQDN: "sipexternal.contoso.com", Port: 443},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve runs handler on h's port, over TLS with a certificate from ca for
// names when ca is not nil, until the test ends.
func serve(t *testing.T, h *netsim.Host, port int, ca *pki.CA, names []string, handler http.Handler) {
	t.Helper()
	ln, err := h.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	if ca != nil {
		cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: names})
		if err != nil {
			t.Fatal(err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, Time: h.World().Now})
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

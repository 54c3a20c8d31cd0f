package attacker_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/netsim"
)

// Addresses of the office LAN 10.0.0.0/24.
var (
	aliceIP   = netip.MustParseAddr("10.0.0.50")
	fe01IP    = netip.MustParseAddr("10.0.0.11")
	malloryIP = netip.MustParseAddr("10.0.0.66")
	dnsIP     = netip.MustParseAddr("10.0.0.53")
)

const testTimeout = 5 * time.Second

// office is the fixture most tests start from, built inside a synctest
// bubble: alice, the Front End fe01 (also pool01.contoso.com) and mallory,
// a router, on one LAN; Contoso's enterprise root CA; fe01's credential.
// Nothing runs until a test starts it. The World is closed by t.Cleanup.
type office struct {
	w                       *netsim.World
	lan                     *netsim.Segment
	alice, fe01, mallory    *netsim.Host
	aliceNIC, fe01NIC, mNIC *netsim.NIC
	ca                      *pki.CA
	fe01Cred                pki.Credential
	feCfg                   sip.FrontEndConfig
}

// officeConfig adjusts newOffice; the zero value is the default LAN.
type officeConfig struct {
	aliceARP, fe01ARP netsim.ARPPolicy
}

func newOffice(t *testing.T, cfg officeConfig) *office {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 7})
	t.Cleanup(func() { w.Close() })
	o := &office{w: w, lan: w.NewSegment("contoso-lan", netsim.SegmentConfig{})}
	o.alice, o.aliceNIC = addHost(t, w, o.lan, "alice", netsim.HostConfig{ARPPolicy: cfg.aliceARP}, aliceIP)
	o.fe01, o.fe01NIC = addHost(t, w, o.lan, "fe01", netsim.HostConfig{ARPPolicy: cfg.fe01ARP}, fe01IP)
	o.mallory, o.mNIC = addHost(t, w, o.lan, "mallory", netsim.HostConfig{Forwarding: true}, malloryIP)
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Clock: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	o.ca = ca
	o.fe01Cred, err = ca.Issue(pki.CertRequest{DNSNames: []string{"fe01.contoso.com", "pool01.contoso.com"}, Purpose: pki.PurposeServerClient})
	if err != nil {
		t.Fatal(err)
	}
	o.feCfg = sip.FrontEndConfig{
		FQDN: "fe01.contoso.com", Pool: "pool01.contoso.com", Domain: "contoso.com", Net: o.fe01,
		ClientAddr: fe01IP.String() + ":5061",
		ClientTLS:  &tls.Config{Certificates: []tls.Certificate{o.fe01Cred.TLS}, MinVersion: tls.VersionTLS12},
		ServerAddr: fe01IP.String() + ":5062",
		ServerTLS: &tls.Config{
			Certificates: []tls.Certificate{o.fe01Cred.TLS}, RootCAs: ca.Pool(), ClientCAs: ca.Pool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12, Time: w.Now,
		},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe01.contoso.com", "dave@contoso.com": "fe01.contoso.com",
		}),
		TrustedServers: []string{"fe01.contoso.com", "fe02.contoso.com"},
		Timeout:        testTimeout, Now: w.Now,
	}
	return o
}

func addHost(t *testing.T, w *netsim.World, seg *netsim.Segment, name string, hc netsim.HostConfig, ip netip.Addr) (*netsim.Host, *netsim.NIC) {
	t.Helper()
	h := w.NewHost(name, hc)
	n, err := h.AddNIC(seg, netsim.NICConfig{Addr: netip.PrefixFrom(ip, 24)})
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

// startFE runs fe01 with cfg (normally o.feCfg, changed by the test) until
// the test ends.
func (o *office) startFE(t *testing.T, cfg sip.FrontEndConfig) *sip.FrontEnd {
	t.Helper()
	fe, err := sip.NewFrontEnd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fe.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fe.Close() })
	return fe
}

// client is alice's SIP client trusting the enterprise root; change lets
// a test adjust the config first.
func (o *office) client(t *testing.T, change func(*sip.ClientConfig)) *sip.Client {
	t.Helper()
	cfg := sip.ClientConfig{
		User: "alice@contoso.com", Resolver: staticDNS{}, Dialer: o.alice,
		TLS:     &tls.Config{RootCAs: o.ca.Pool(), Time: o.w.Now},
		Timeout: testTimeout, Now: o.w.Now,
	}
	if change != nil {
		change(&cfg)
	}
	c, err := sip.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spoof puts mallory between alice and fe01 with an ARPSpoofer, closed by
// t.Cleanup. It returns once the victims' NICs have processed the first
// round (synctest.Wait), so their caches are poisoned before traffic
// starts; otherwise a connection opened meanwhile may begin at the real
// server and continue at mallory, who resets it.
func (o *office) spoof(t *testing.T) *attacker.ARPSpoofer {
	t.Helper()
	s, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: o.mNIC, Victims: []netip.Addr{aliceIP, fe01IP}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	synctest.Wait()
	return s
}

// proxy starts a Proxy on mallory, closed by t.Cleanup.
func (o *office) proxy(t *testing.T, cfg attacker.ProxyConfig) *attacker.Proxy {
	t.Helper()
	cfg.Host = o.mallory
	p, err := attacker.NewProxy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// staticDNS is contoso's internal DNS as alice sees it: pool01 is fe01.
type staticDNS struct{}

func (staticDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch strings.TrimSuffix(strings.ToLower(host), ".") {
	case "pool01.contoso.com", "fe01.contoso.com":
		return []netip.Addr{fe01IP}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (staticDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	rec := "_" + service + "._" + proto + "." + strings.TrimSuffix(strings.ToLower(name), ".")
	if rec == "_sip._tls.contoso.com" {
		return rec + ".", []*net.SRV{{Target: "pool01.contoso.com.", Port: 5061, Weight: 100}}, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: rec, IsNotFound: true}
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// lockedLog collects strings from several goroutines.
type lockedLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

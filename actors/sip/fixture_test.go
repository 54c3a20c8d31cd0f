package sip_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/netsim"
)

// The lab's real implementations satisfy the injected interfaces.
var (
	_ sip.Network  = (*netsim.Host)(nil)
	_ sip.Resolver = (*dns.Resolver)(nil)
)

// testCA is a root CA that issues certificates usable by both ends of MTLS
// (serverAuth and clientAuth), which the servers here need. ECDSA P-256.
type testCA struct {
	name string
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
	now  time.Time
	mu   sync.Mutex
	next int64
}

func newTestCA(t testing.TB, name string, now time.Time) *testCA {
	t.Helper()
	ca, err := makeCA(name, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issue returns a certificate for names (the first is also the common
// name) with serverAuth and clientAuth, chain leaf then CA.
func (ca *testCA) issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	cert, err := ca.make(names...)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// makeCA creates a root valid from an hour before now to a day after.
func makeCA(name string, now time.Time) (*testCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &testCA{name: name, cert: cert, der: der, key: key, now: now, next: 1}, nil
}

// make issues a certificate for names, as issue.
func (ca *testCA) make(names ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	ca.mu.Lock()
	ca.next++
	serial := big.NewInt(ca.next)
	ca.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    ca.now.Add(-time.Hour),
		NotAfter:     ca.now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.der}, PrivateKey: key, Leaf: leaf}, nil
}

// pool returns a pool holding only this CA.
func (ca *testCA) pool() *x509.CertPool { return pool(ca) }

// pool returns a pool of the given CAs.
func pool(cas ...*testCA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.cert)
	}
	return p
}

// serverTLS is a server-only TLS config (a pool's client listener).
func serverTLS(cert tls.Certificate, now func() time.Time) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, Time: now, MinVersion: tls.VersionTLS12}
}

// mtlsConfig is MTLS in both roles with the hardened settings.
func mtlsConfig(cert tls.Certificate, roots *x509.CertPool, now func() time.Time) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		ClientCAs:    roots,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		Time:         now,
		MinVersion:   tls.VersionTLS12,
	}
}

// fakeDNS is a map-based Resolver, safe for concurrent use.
type fakeDNS struct {
	mu  sync.Mutex
	a   map[string][]netip.Addr
	srv map[string][]*net.SRV
}

func newFakeDNS() *fakeDNS {
	return &fakeDNS{a: map[string][]netip.Addr{}, srv: map[string][]*net.SRV{}}
}

func dnsKey(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// setA replaces name's addresses.
func (r *fakeDNS) setA(name string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.a[dnsKey(name)] = nil
	for _, a := range addrs {
		r.a[dnsKey(name)] = append(r.a[dnsKey(name)], netip.MustParseAddr(a))
	}
}

// setSRV replaces the record name with one target (nothing when target is
// empty).
func (r *fakeDNS) setSRV(name, target string, port uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if target == "" {
		delete(r.srv, dnsKey(name))
		return
	}
	r.srv[dnsKey(name)] = []*net.SRV{{Target: target + ".", Port: port, Priority: 0, Weight: 100}}
}

func (r *fakeDNS) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if addrs, ok := r.a[dnsKey(host)]; ok && len(addrs) > 0 {
		return append([]netip.Addr(nil), addrs...), nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeDNS) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := dnsKey("_" + service + "._" + proto + "." + name)
	if srvs, ok := r.srv[key]; ok {
		out := make([]*net.SRV, len(srvs))
		for i, s := range srvs {
			c := *s
			out[i] = &c
		}
		return key + ".", out, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: key, IsNotFound: true}
}

var _ sip.Resolver = (*fakeDNS)(nil)

// Addresses of the topology.
const (
	aliceIP     = "10.0.0.50"
	fe01IP      = "10.0.0.11"
	fe02IP      = "10.0.0.12"
	fe99IP      = "10.0.0.99"
	malloryIP   = "10.0.0.66"
	edgeIntIP   = "10.0.0.5"
	edgeExtIP   = "203.0.113.10"
	fabEdgeExt  = "203.0.113.20"
	evilIP      = "203.0.113.66"
	fabEdgeInt  = "10.1.0.5"
	fabFE01IP   = "10.1.0.11"
	testTimeout = 10 * time.Second
)

// topo is the contoso/fabrikam federation as declared configs, before any
// server runs: tests change what they need, then call start. Hosts:
//
//	contoso LAN 10.0.0.0/24: alice .50, fe01 .11, fe02 .12, edge .5,
//	                         fe99 .99 (rogue insider), mallory .66
//	internet 203.0.113.0/24: contoso edge .10, fabrikam edge .20, evil .66
//	fabrikam LAN 10.1.0.0/24: fabrikam edge .5, fabrikam fe01 .11
type topo struct {
	w   *netsim.World
	now func() time.Time
	lan *netsim.Segment // contoso's LAN, for captures

	contosoCA, fabrikamCA, publicCA *testCA

	alice, fe01H, fe02H, fe99H, malloryH, edgeH, evilH, fabEdgeH, fabFEH *netsim.Host

	clientDNS *fakeDNS // contoso's internal DNS, as alice sees it
	edgeDNS   *fakeDNS // public DNS, as contoso's Edge sees it
	fabDNS    *fakeDNS // public DNS, as fabrikam's Edge sees it

	alicePool *x509.CertPool // alice's trust store
	fe01      sip.FrontEndConfig
	fe02      sip.FrontEndConfig
	edge      sip.EdgeConfig
	fabFE     sip.FrontEndConfig
	fabEdge   sip.EdgeConfig
	client    sip.ClientConfig
}

func newTopo(t *testing.T) *topo {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	tp := &topo{w: w, now: w.Now}
	now := w.Now()
	tp.contosoCA = newTestCA(t, "Contoso Enterprise Root CA", now)
	tp.fabrikamCA = newTestCA(t, "Fabrikam Root CA", now)
	tp.publicCA = newTestCA(t, "Public Root CA", now)

	lan := w.NewSegment("contoso-lan", netsim.SegmentConfig{})
	inet := w.NewSegment("internet", netsim.SegmentConfig{})
	fabLAN := w.NewSegment("fabrikam-lan", netsim.SegmentConfig{})
	tp.lan = lan
	host := func(name string, nics ...any) *netsim.Host {
		h := w.NewHost(name, netsim.HostConfig{})
		for i := 0; i < len(nics); i += 2 {
			if _, err := h.AddNIC(nics[i].(*netsim.Segment), netsim.NICConfig{Addr: netip.MustParsePrefix(nics[i+1].(string))}); err != nil {
				t.Fatal(err)
			}
		}
		return h
	}
	tp.alice = host("alice", lan, aliceIP+"/24")
	tp.fe01H = host("fe01", lan, fe01IP+"/24")
	tp.fe02H = host("fe02", lan, fe02IP+"/24")
	tp.fe99H = host("fe99", lan, fe99IP+"/24")
	tp.malloryH = host("mallory", lan, malloryIP+"/24")
	tp.edgeH = host("edge", lan, edgeIntIP+"/24", inet, edgeExtIP+"/24")
	tp.evilH = host("evil", inet, evilIP+"/24")
	tp.fabEdgeH = host("fabrikam-edge", fabLAN, fabEdgeInt+"/24", inet, fabEdgeExt+"/24")
	tp.fabFEH = host("fabrikam-fe01", fabLAN, fabFE01IP+"/24")

	tp.clientDNS = newFakeDNS()
	tp.clientDNS.setSRV("_sip._tls.contoso.com", "pool01.contoso.com", 5061)
	tp.clientDNS.setA("pool01.contoso.com", fe01IP)
	tp.edgeDNS = newFakeDNS()
	tp.edgeDNS.setSRV("_sipfederationtls._tcp.fabrikam.com", "sip.fabrikam.com", 5061)
	tp.edgeDNS.setA("sip.fabrikam.com", fabEdgeExt)
	tp.fabDNS = newFakeDNS()
	tp.fabDNS.setSRV("_sipfederationtls._tcp.contoso.com", "sip.contoso.com", 5061)
	tp.fabDNS.setA("sip.contoso.com", edgeExtIP)

	contosoReg := sip.NewRegistrar(map[string]string{
		"alice@contoso.com": "fe01.contoso.com",
		"dave@contoso.com":  "fe01.contoso.com",
		"bob@contoso.com":   "fe02.contoso.com",
	})
	contosoTrusted := []string{"fe01.contoso.com", "fe02.contoso.com", "edge01.contoso.com"}
	enterprise := tp.contosoCA.pool()
	fe := func(fqdn, ip string, h *netsim.Host, peers map[string]string) sip.FrontEndConfig {
		cert := tp.contosoCA.issue(t, fqdn, "pool01.contoso.com")
		return sip.FrontEndConfig{
			FQDN: fqdn, Pool: "pool01.contoso.com", Domain: "contoso.com", Net: h,
			ClientAddr: ip + ":5061", ClientTLS: serverTLS(cert, tp.now),
			ServerAddr: ip + ":5062", ServerTLS: mtlsConfig(cert, enterprise, tp.now),
			Peers: peers, Edge: "edge01.contoso.com", Registrar: contosoReg,
			TrustedServers: contosoTrusted, Timeout: testTimeout, Now: tp.now,
		}
	}
	tp.fe01 = fe("fe01.contoso.com", fe01IP, tp.fe01H, map[string]string{
		"fe02.contoso.com": fe02IP + ":5062", "edge01.contoso.com": edgeIntIP + ":5062",
	})
	tp.fe02 = fe("fe02.contoso.com", fe02IP, tp.fe02H, map[string]string{
		"fe01.contoso.com": fe01IP + ":5062", "edge01.contoso.com": edgeIntIP + ":5062",
	})
	tp.edge = sip.EdgeConfig{
		FQDN: "edge01.contoso.com", ExternalFQDN: "sip.contoso.com", Domain: "contoso.com", Net: tp.edgeH,
		InternalAddr: edgeIntIP + ":5062",
		InternalTLS:  mtlsConfig(tp.contosoCA.issue(t, "edge01.contoso.com"), enterprise, tp.now),
		ExternalAddr: edgeExtIP + ":5061",
		// Contoso's federation trust store: its own root and fabrikam's, imported.
		ExternalTLS: mtlsConfig(tp.contosoCA.issue(t, "sip.contoso.com"), pool(tp.contosoCA, tp.fabrikamCA), tp.now),
		Resolver:    tp.edgeDNS,
		FrontEnds:   map[string]string{"fe01.contoso.com": fe01IP + ":5062", "fe02.contoso.com": fe02IP + ":5062"},
		Registrar:   contosoReg, TrustedServers: contosoTrusted,
		Partners: []string{"fabrikam.com"}, Timeout: testTimeout, Now: tp.now,
	}

	fabReg := sip.NewRegistrar(map[string]string{"carol@fabrikam.com": "fe01.fabrikam.com"})
	fabTrusted := []string{"fe01.fabrikam.com", "edge01.fabrikam.com"}
	fabPool := tp.fabrikamCA.pool()
	fabCert := tp.fabrikamCA.issue(t, "fe01.fabrikam.com", "pool01.fabrikam.com")
	tp.fabFE = sip.FrontEndConfig{
		FQDN: "fe01.fabrikam.com", Pool: "pool01.fabrikam.com", Domain: "fabrikam.com", Net: tp.fabFEH,
		ServerAddr: fabFE01IP + ":5062", ServerTLS: mtlsConfig(fabCert, fabPool, tp.now),
		Peers: map[string]string{"edge01.fabrikam.com": fabEdgeInt + ":5062"}, Edge: "edge01.fabrikam.com",
		Registrar: fabReg, TrustedServers: fabTrusted, Timeout: testTimeout, Now: tp.now,
	}
	tp.fabEdge = sip.EdgeConfig{
		FQDN: "edge01.fabrikam.com", ExternalFQDN: "sip.fabrikam.com", Domain: "fabrikam.com", Net: tp.fabEdgeH,
		InternalAddr: fabEdgeInt + ":5062",
		InternalTLS:  mtlsConfig(tp.fabrikamCA.issue(t, "edge01.fabrikam.com"), fabPool, tp.now),
		ExternalAddr: fabEdgeExt + ":5061",
		ExternalTLS:  mtlsConfig(tp.fabrikamCA.issue(t, "sip.fabrikam.com"), pool(tp.fabrikamCA, tp.contosoCA), tp.now),
		Resolver:     tp.fabDNS,
		FrontEnds:    map[string]string{"fe01.fabrikam.com": fabFE01IP + ":5062"},
		Registrar:    fabReg, TrustedServers: fabTrusted,
		Partners: []string{"contoso.com"}, Timeout: testTimeout, Now: tp.now,
	}

	tp.alicePool = enterprise
	tp.client = sip.ClientConfig{
		User: "sip:alice@contoso.com", Resolver: tp.clientDNS, Dialer: tp.alice,
		TLS:     &tls.Config{RootCAs: enterprise, Time: tp.now},
		Timeout: testTimeout, Now: tp.now,
	}
	return tp
}

// deployment is a running topo.
type deployment struct {
	fe01, fe02, fabFE *sip.FrontEnd
	edge, fabEdge     *sip.Edge
	client            *sip.Client
}

// start runs every server (Close is registered with t.Cleanup, before the
// World closes) and builds alice's client.
func (tp *topo) start(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{
		fe01:    startFrontEnd(t, tp.fe01),
		fe02:    startFrontEnd(t, tp.fe02),
		edge:    startEdge(t, tp.edge),
		fabFE:   startFrontEnd(t, tp.fabFE),
		fabEdge: startEdge(t, tp.fabEdge),
	}
	d.client = newClient(t, tp.client)
	return d
}

func startFrontEnd(t *testing.T, cfg sip.FrontEndConfig) *sip.FrontEnd {
	t.Helper()
	fe, err := sip.NewFrontEnd(cfg)
	if err != nil {
		t.Fatalf("NewFrontEnd(%s): %v", cfg.FQDN, err)
	}
	if err := fe.Start(t.Context()); err != nil {
		t.Fatalf("Start(%s): %v", cfg.FQDN, err)
	}
	t.Cleanup(func() { fe.Close() })
	return fe
}

func startEdge(t *testing.T, cfg sip.EdgeConfig) *sip.Edge {
	t.Helper()
	e, err := sip.NewEdge(cfg)
	if err != nil {
		t.Fatalf("NewEdge(%s): %v", cfg.FQDN, err)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatalf("Start(%s): %v", cfg.FQDN, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newClient(t *testing.T, cfg sip.ClientConfig) *sip.Client {
	t.Helper()
	c, err := sip.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// rogueFrontEnd is fe99: an insider server with a valid enterprise
// certificate (for fe99 and, so alice can be pointed at it, pool01) that is
// not in the topology. It homes bob on fe02 and trusts fe02.
func (tp *topo) rogueFrontEnd(t *testing.T) sip.FrontEndConfig {
	cert := tp.contosoCA.issue(t, "fe99.contoso.com", "pool01.contoso.com")
	return sip.FrontEndConfig{
		FQDN: "fe99.contoso.com", Domain: "contoso.com", Net: tp.fe99H,
		ClientAddr: fe99IP + ":5061", ClientTLS: serverTLS(cert, tp.now),
		ServerTLS: mtlsConfig(cert, tp.contosoCA.pool(), tp.now),
		Peers:     map[string]string{"fe02.contoso.com": fe02IP + ":5062"},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe99.contoso.com", "bob@contoso.com": "fe02.contoso.com",
		}),
		TrustedServers: []string{"fe02.contoso.com"}, Timeout: testTimeout, Now: tp.now,
	}
}

// mallory is a TLS SIP server on the LAN with a valid enterprise
// certificate for mallory.contoso.com only.
func (tp *topo) mallory(t *testing.T) sip.FrontEndConfig {
	cert := tp.contosoCA.issue(t, "mallory.contoso.com")
	return sip.FrontEndConfig{
		FQDN: "mallory.contoso.com", Domain: "contoso.com", Net: tp.malloryH,
		ClientAddr: malloryIP + ":5061", ClientTLS: serverTLS(cert, tp.now),
		ServerTLS:      mtlsConfig(cert, tp.contosoCA.pool(), tp.now),
		Registrar:      sip.NewRegistrar(map[string]string{"alice@contoso.com": "mallory.contoso.com"}),
		TrustedServers: []string{"mallory.contoso.com"}, Timeout: testTimeout, Now: tp.now,
	}
}

// eventually polls cond until it returns nil, failing the test with its
// last error after testTimeout.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-tick.C:
		}
	}
}

// equalReasons checks the exact Reasons of rs.
func equalReasons(rs []sip.Rejection, want ...string) error {
	var got []string
	for _, r := range rs {
		got = append(got, r.Reason)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("rejections %q, want %q", got, want)
	}
	return nil
}

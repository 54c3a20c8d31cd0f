package pki_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// TestMain fails the run if a test leaves a goroutine behind: HTTP servers,
// TLS handshakes and Worlds must all be shut down.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Names and addresses of the test PKI.
const (
	rootName     = "Contoso Root CA"
	issuingName  = "Contoso Issuing CA"
	rootCRL      = "http://pki.contoso.com/crl/contoso-root.crl"
	issuingCRL   = "http://pki.contoso.com/crl/contoso-issuing.crl"
	ocspURL      = "http://pki.contoso.com/ocsp"
	poolName     = "pool01.contoso.com"
	pkiHostName  = "pki.contoso.com"
	clientAddr   = "10.0.0.10/24"
	serverAddr   = "10.0.0.20/24"
	pkiAddr      = "10.0.0.80/24"
	fetchTimeout = 200 * time.Millisecond
)

// testClock is a settable clock for CAs and checkers, independent of the
// (possibly virtual) package time that drives the network.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// seqReader yields serial numbers 1, 2, 3, ... to a CA (each 16-byte read
// is zero but for a big-endian counter at its end), so messages naming
// serials are predictable.
type seqReader struct {
	mu sync.Mutex
	n  uint64
}

func (r *seqReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(p)
	r.n++
	if len(p) >= 8 {
		binary.BigEndian.PutUint64(p[len(p)-8:], r.n)
	}
	return len(p), nil
}

// hierarchy is Contoso's two-tier PKI: the root (serial 0x1) and the
// issuing CA (serial 0x2) it signed. Leaves issued next get 0x3, 0x4, ...
type hierarchy struct {
	clock         *testClock
	root, issuing *pki.CA
}

// hierarchyConfig adjusts newHierarchy; the zero value gives both CAs a CRL
// distribution point and the shared OCSP responder.
type hierarchyConfig struct {
	rootNoOCSP, rootNoCRL       bool // what the issuing CA's certificate names
	issuingNoOCSP, issuingNoCRL bool // what the CA writes into leaves
}

func newHierarchy(t testing.TB, cfg hierarchyConfig) *hierarchy {
	t.Helper()
	h := &hierarchy{clock: newClock(epoch)}
	rc := pki.RootConfig{CommonName: rootName, Organization: "Contoso", Clock: h.clock.Now, Rand: &seqReader{}, CRLURL: rootCRL, OCSPURL: ocspURL}
	if cfg.rootNoOCSP {
		rc.OCSPURL = ""
	}
	if cfg.rootNoCRL {
		rc.CRLURL = ""
	}
	var err error
	if h.root, err = pki.NewRootCA(rc); err != nil {
		t.Fatal(err)
	}
	ic := pki.IntermediateConfig{CommonName: issuingName, Organization: "Contoso", CRLURL: issuingCRL, OCSPURL: ocspURL}
	if cfg.issuingNoOCSP {
		ic.OCSPURL = ""
	}
	if cfg.issuingNoCRL {
		ic.CRLURL = ""
	}
	if h.issuing, err = h.root.NewIntermediate(ic); err != nil {
		t.Fatal(err)
	}
	return h
}

// issue issues a server certificate for pool01 from the issuing CA.
func (h *hierarchy) issue(t testing.TB, req pki.CertRequest) pki.Credential {
	t.Helper()
	if req.DNSNames == nil && req.CommonName == "" {
		req.DNSNames = []string{poolName}
	}
	cred, err := h.issuing.Issue(req)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// network is a LAN with a client (alice), a server (pool01) and the PKI
// host, built inside a synctest bubble or on real time.
type network struct {
	w                     *netsim.World
	lan                   *netsim.Segment
	alice, pool01, pkiSrv *netsim.Host
	names                 map[string]netip.Addr
}

func newNetwork(t testing.TB) *network {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	n := &network{w: w, lan: w.NewSegment("lan", netsim.SegmentConfig{})}
	add := func(name, addr string) *netsim.Host {
		h := w.NewHost(name, netsim.HostConfig{})
		if _, err := h.AddNIC(n.lan, netsim.NICConfig{Addr: netip.MustParsePrefix(addr)}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	n.alice = add("alice", clientAddr)
	n.pool01 = add("pool01", serverAddr)
	n.pkiSrv = add("pki", pkiAddr)
	n.names = map[string]netip.Addr{poolName: n.pool01.Addr(), pkiHostName: n.pkiSrv.Addr()}
	return n
}

// dialer resolves names through n.names and dials from h, as a host with a
// hosts file would.
func (n *network) dialer(h *netsim.Host) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ip, ok := n.names[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return h.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
	}
}

// serveHTTP runs handler on the PKI host's port 80 until the test ends.
func (n *network) serveHTTP(t testing.TB, handler http.Handler) {
	t.Helper()
	l, err := n.pkiSrv.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// blackhole drops every IPv4 frame addressed to the PKI host, as a dead
// link or a firewall would; ARP still works, so dials time out.
func (n *network) blackhole(t testing.TB) {
	t.Helper()
	dst := n.pkiSrv.Addr().As4()
	remove := n.lan.AddHook(netsim.HookFunc(func(f *netsim.Frame) netsim.HookAction {
		d := f.Data
		if len(d) >= 34 && d[12] == 0x08 && d[13] == 0x00 && [4]byte(d[30:34]) == dst {
			return netsim.Drop
		}
		return netsim.Pass
	}))
	t.Cleanup(remove)
}

// handshakeResult is what both ends of a TLS handshake saw.
type handshakeResult struct {
	client, server error
	// clientRead is the client's error reading the server's first byte
	// after its own handshake succeeded: how a TLS 1.3 client learns that
	// the server rejected its certificate.
	clientRead error
	state      tls.ConnectionState // the client's, when its handshake succeeded
}

// handshake runs one TLS handshake from alice to pool01:5061 with the
// given configurations. After a successful handshake the server writes one
// byte and closes.
func (n *network) handshake(t testing.TB, serverCfg, clientCfg *tls.Config) (res handshakeResult) {
	t.Helper()
	l, err := n.pool01.Listen("tcp", ":5061")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	// Deferred calls run after the result is set, so they write to res
	// before the caller sees it; Close ends a pending Accept first.
	defer wg.Wait()
	defer l.Close()
	wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			res.server = err
			return
		}
		defer c.Close()
		tc := tls.Server(c, serverCfg)
		if res.server = tc.HandshakeContext(t.Context()); res.server == nil {
			tc.Write([]byte("k"))
		}
	})
	raw, err := n.alice.DialContext(t.Context(), "tcp", n.pool01.Addr().String()+":5061")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tc := tls.Client(raw, clientCfg)
	if res.client = tc.HandshakeContext(t.Context()); res.client == nil {
		res.state = tc.ConnectionState()
		var b [1]byte
		_, res.clientRead = io.ReadFull(tc, b[:])
	}
	return res
}

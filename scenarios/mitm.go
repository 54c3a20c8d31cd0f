package scenarios

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The MITM family: mallory (10.0.0.66, a router on contoso-lan) puts
// herself between alice and the pool's Front End fe01 (10.0.0.11), by ARP
// spoofing or as a rogue gateway, and runs a transparent proxy on 5061.
// Each scenario varies what mallory presents and which defenses alice's
// client has; alice then sends dave@contoso.com, homed on fe01, a canary.
// The lab judges from what happened: mallory reading the canary, alice
// completing a TLS handshake with mallory's certificate.

// mitmPosition is how mallory gets on the path.
type mitmPosition int

const (
	positionARP     mitmPosition = iota // ARP spoofing of alice and fe01
	positionGateway                     // alice's route to fe01 goes via mallory
)

// mitmMode is how mallory's proxy treats alice's connection.
type mitmMode int

const (
	modeTerminate   mitmMode = iota // TLS with mallory's certificate, TLS upstream
	modeDowngrade                   // as terminate, offering TLS 1.0 only
	modePassthrough                 // relay the bytes untouched
	modeStrip                       // refuse 5061; relay plaintext 5060 to fe01 over TLS
)

// mitmParams declares one MITM scenario; tests change a field (a
// defense) and rerun the same body.
type mitmParams struct {
	header
	topology contoso.Config
	position mitmPosition
	mode     mitmMode
	// cert is the certificate mallory presents (terminate, downgrade);
	// it comes from Mallory Root CA (created for the run, answering OCSP
	// for it at http://10.0.0.66/ocsp) when cert or trustMallory names it.
	cert certSpec
	// trustMallory adds Mallory Root CA to alice's trust store.
	trustMallory bool
	// blockPKI makes mallory poison pki01's ARP cache too and reset
	// alice's revocation queries to it (see rejectPKI).
	blockPKI bool
	// distrusted are the CAs (issuer keys, see issuers) on the
	// enterprise distrust list, which the distrust-list defense refuses
	// even where a machine trusts them.
	distrusted []string
	// offer, when set, is the TLS mallory's proxy offers alice instead of
	// the mode's (see tlsOffer).
	offer *tlsOffer
}

const (
	mitmTo   = "dave@contoso.com"
	mitmHome = "fe01"
)

// mitmFamily returns the scenarios of this family.
func mitmFamily() []lab.Scenario {
	ps := mitmCatalog()
	out := make([]lab.Scenario, len(ps))
	for i, p := range ps {
		out[i] = p.scenario()
	}
	return out
}

// scenario declares p as a lab scenario.
func (p mitmParams) scenario() lab.Scenario {
	s := p.header.scenario(p.attackerText(), lab.WithChanges(p.topologyConfig(), p.topologyChanges()...), p.run)
	if p.usesCert() {
		// A real client checks mallory's certificate, and a real server
		// answers her upstream connection (lab.RealPeers).
		s.RealPeers = lab.RealVictim | lab.RealServer
		if len(p.distrusted) > 0 {
			// A real client has no enterprise distrust list: in alice's
			// place it would only say what it does without one.
			s.RealPeers = lab.RealServer
		}
	}
	return s
}

// usesCert reports whether mallory's proxy presents a certificate.
func (p mitmParams) usesCert() bool { return p.mode == modeTerminate || p.mode == modeDowngrade }

// malloryCA reports whether mallory runs her own root CA in the run.
func (p mitmParams) malloryCA() bool { return p.trustMallory || p.usesCert() && p.cert.usesMalloryCA() }

// topologyConfig is the declared topology, with the stolen certificate
// revoked at build time when the spec says so.
func (p mitmParams) topologyConfig() contoso.Config {
	cfg := p.topology
	if cfg.Timeout == 0 {
		cfg.Timeout = mitmClientTimeout
	}
	if p.usesCert() && p.cert.source == certStolen && p.cert.revoked {
		cfg.Revoked = append(slices.Clone(cfg.Revoked), contoso.Revocation{Cert: p.cert.holder, Reason: pki.ReasonKeyCompromise})
	}
	return cfg
}

// mitmClientTimeout bounds each step of alice's client (dial, handshake,
// request and answer). Every step of the family completes in
// milliseconds of simulated time, or a few seconds when an impaired
// network loses packets; the bound matters when mallory's endpoint hangs,
// and it keeps two hung attempts (TLS, then a plaintext fallback) inside
// the runner's deadline.
const mitmClientTimeout = 10 * time.Second

// mitmRun is what one run set up and observed.
type mitmRun struct {
	p       mitmParams
	env     *lab.Env
	c       *contoso.Deployment
	m       *mallory
	proxies []*attacker.Proxy
	// pkiRejected counts the connections to pki01:80 mallory reset
	// (blockPKI); nil otherwise.
	pkiRejected func() int
	// sniffer reads every frame mallory's NIC carries, the traffic she
	// forwards untouched included: what her proxies do not intercept
	// (a plaintext fallback routed through her) is hers to read too.
	sniffer *eavesdrop.Eavesdropper
	// server is fe01's real server program on 5061, when the run put one
	// in place (lab.RealPeers.Server); nil otherwise.
	server *realServer
}

func (p mitmParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topologyConfig().Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	m, err := placeMallory(env, c)
	if err != nil {
		return err
	}
	r := &mitmRun{p: p, env: env, c: c, m: m, sniffer: eavesdrop.New(eavesdrop.Config{})}
	defer m.nic.AddTap(r.sniffer)()
	if env.RealPeers.Server != "" {
		cred, _ := c.Credential("fe01")
		if r.server, err = startRealServer(ctx, env, c, cred); err != nil {
			return err
		}
		defer r.server.stop(env)
	}
	if p.malloryCA() {
		stop, err := m.startCA(env)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := distrustRoots(env, c, m.ca, p.distrusted); err != nil {
		return err
	}
	var certs attacker.CertSource
	if p.usesCert() {
		var ca *pki.CA
		if certs, ca, err = p.cert.build(certWorld{env: env, c: c, server: pool01Name, mallory: m.ca}); err != nil {
			return err
		}
		if p.cert.revoked && p.cert.source != certStolen {
			if err := revokeCert(env, ca, certs, pool01Name); err != nil {
				return err
			}
		}
	}
	if err := r.startProxies(ctx, certs); err != nil {
		return err
	}
	defer func() {
		for _, px := range r.proxies {
			px.Close()
		}
	}()

	if p.blockPKI {
		count, stop, err := m.rejectPKI()
		if err != nil {
			return err
		}
		defer stop()
		r.pkiRejected = count
	}
	switch p.position {
	case positionGateway:
		if err := m.gatewayPosition(env, c); err != nil {
			return err
		}
	default:
		victims := []netip.Addr{aliceIP, fe01IP}
		if p.blockPKI {
			victims = append(victims, pki01IP)
		}
		stop, err := m.arpPosition(ctx, env, c, victims...)
		if err != nil {
			return err
		}
		defer stop()
	}

	if env.RealPeers.Victim != "" {
		var extra []*x509.Certificate
		if p.trustMallory {
			extra = append(extra, m.ca.Certificate())
		}
		v, err := realVictimSends(ctx, env, c, netip.AddrPortFrom(fe01IP, contoso.PortSIPTLS), nil, extra...)
		if err != nil {
			return err
		}
		r.observeRealVictim(ctx, v)
	} else {
		canary, res, sendErr := r.aliceSends(ctx)
		r.observe(ctx, canary, res, sendErr)
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// startCA creates Mallory Root CA with its OCSP responder on mallory.
func (m *mallory) startCA(env *lab.Env) (stop func(), err error) {
	ca, err := pki.NewRootCA(pki.RootConfig{
		CommonName: "Mallory Root CA", Organization: "Mallory", Clock: env.World.Now,
		OCSPURL: "http://" + malloryAddr.Addr().String() + "/ocsp",
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: Mallory Root CA: %w", err)
	}
	m.ca = ca
	return m.serveRevocation(ca)
}

// startProxies starts mallory's transparent proxies for the mode.
func (r *mitmRun) startProxies(ctx context.Context, certs attacker.CertSource) error {
	up := attacker.UpstreamTLS{Config: &tls.Config{InsecureSkipVerify: true, KeyLogWriter: r.env.KeyLog}}
	var cfgs []attacker.ProxyConfig
	switch r.p.mode {
	case modeTerminate:
		v := attacker.VictimTLS{Certs: certs, KeyLogWriter: r.env.KeyLog}
		if r.p.offer != nil {
			v = r.p.offer.victim(certs, r.env.KeyLog)
		}
		cfgs = append(cfgs, attacker.ProxyConfig{Port: portTLS, Victim: v, Upstream: up})
	case modeDowngrade:
		v := attacker.Downgrade(certs, tls.VersionTLS10)
		v.KeyLogWriter = r.env.KeyLog
		cfgs = append(cfgs, attacker.ProxyConfig{Port: portTLS, Victim: v, Upstream: up})
	case modePassthrough:
		cfgs = append(cfgs, attacker.ProxyConfig{Port: portTLS, Victim: attacker.VictimPlain{}, Upstream: attacker.UpstreamPlain{}})
	case modeStrip:
		up.Port = portTLS
		cfgs = append(cfgs,
			attacker.ProxyConfig{Port: portTLS, Victim: resetAfterHello{}, Upstream: attacker.UpstreamPlain{}},
			attacker.ProxyConfig{Port: portPlain, Victim: attacker.VictimPlain{}, Upstream: up})
	}
	for _, cfg := range cfgs {
		// A real victim program sends a canary line, not SIP: relayed raw.
		cfg.Host, cfg.SIP, cfg.Timeout = r.m.host, r.env.RealPeers.Victim == "", contoso.DefaultTimeout
		cfg.Victim = sabotagedVictim(r.env, cfg.Victim)
		px, err := attacker.NewProxy(cfg)
		if err != nil {
			return err
		}
		if err := px.Start(ctx); err != nil {
			return fmt.Errorf("scenarios: mallory's proxy on %d: %w", cfg.Port, err)
		}
		r.proxies = append(r.proxies, px)
	}
	return nil
}

// aliceSends has alice send the canary to dave with her client as the
// topology configures it, trusting Mallory Root CA too when asked.
func (r *mitmRun) aliceSends(ctx context.Context) (lab.Canary, *sip.Result, error) {
	canary := r.env.NewCanary("alice")
	var installed []*x509.Certificate
	if r.p.trustMallory {
		installed = append(installed, r.m.ca.Certificate())
	}
	cfg, err := r.c.ClientConfig("alice", "alice@contoso.com", installed...)
	if err != nil {
		return canary, &sip.Result{}, err
	}
	client, err := sip.NewClient(cfg)
	if err != nil {
		return canary, &sip.Result{}, err
	}
	body := fmt.Sprintf("alice to %s: code word %s", mitmTo, canary)
	if r.server == nil {
		res, err := client.SendMessage(ctx, mitmTo, body)
		return canary, res, err
	}
	res, err := sendToRealServer(ctx, r.server, canary, client, mitmTo, body)
	return canary, res, err
}

// observe records, in order: what mallory's proxy did with each
// connection, alice's revocation checks and connection, whether dave got
// the canary, what mallory read, whether alice accepted mallory's
// certificate, and last why alice refused, if she did.
func (r *mitmRun) observe(ctx context.Context, canary lab.Canary, res *sip.Result, sendErr error) {
	ev := r.env.Evidence
	sessions := r.noteSessions(ctx)
	r.c.NoteRevocations(ev, "alice")
	switch {
	case res.Conn.TLS != nil:
		noteConnection(r.env, res)
	case res.Conn.Transport == sip.TransportTCP:
		ev.Notef("alice", "fell back to plaintext: connected to %s (%v) over TCP", res.Conn.Target, res.Conn.Addr)
	}
	switch {
	case r.server != nil:
		r.noteRealDelivery(ctx, canary, sessions)
	default:
		if d, ok := findDelivery(r.c, mitmHome, canary); ok {
			ev.SetService(lab.ServiceIntact)
			ev.At(d.Time).Notef(mitmHome, "%s", describeDelivery(d))
		} else {
			ev.SetService(lab.ServiceDenied)
			ev.Notef("alice", "the canary did not reach %s", mitmTo)
		}
	}
	found := r.noteCanaries(sessions)
	for _, s := range sessions {
		if v := s.VictimSide; v.TLS && v.Completed && v.Certificate != nil {
			ev.IdentityAccepted("alice", v.ServerName, fmt.Sprintf("completed the %s handshake with mallory, certificate %s issued by %s",
				v.Version, v.Certificate.Subject, v.Certificate.Issuer))
		}
	}
	if res.Conn.TLS == nil && res.Conn.Transport != sip.TransportTCP {
		a, ok := lastTLSAttempt(res.Attempts)
		if !ok {
			ev.Notef("alice", "no connection: %v", errOrNothing(sendErr))
			return
		}
		line := fmt.Sprintf("%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
		var ce *sip.ConnectError
		if errors.As(sendErr, &ce) && ce.Hint != "" {
			line += "; " + ce.Hint
		}
		if _, refused := lab.ClassifyRefusal(a.Err); !refused && len(ev.Refusals()) == 0 && ce != nil &&
			ce.Hint == sip.HintNoPlaintextFallback && stripped(sessions) {
			// mallory reset alice's TLS to make her fall back (the strip
			// attack): the TLS-only client's refusal to fall back to
			// plaintext is what stopped it. A TLS failure of any other
			// kind (a time-out) credits nothing.
			ev.Refused("alice", lab.DefenseTLSOnly, "%s", line)
			return
		}
		if r.p.offer.noteSuiteRefusal(ev, a.Err, line) {
			return
		}
		ev.NoteFailure("alice", a.Err, "%s", line)
		return
	}
	r.notePassiveRefusal(res, len(found) > 0)
}

// noteSessions waits for mallory's proxies' sessions to end and records
// what each did, and the connections to pki01 she reset.
func (r *mitmRun) noteSessions(ctx context.Context) []attacker.Session {
	ev := r.env.Evidence
	sessions := endedSessions(ctx, r.proxies)
	for _, s := range sessions {
		if sabotaged(s.VictimSide.Err) {
			// The attacker's own endpoint failed: no step of the attack.
			ev.At(s.Start).Notef("mallory", "%s", describeSession(s))
			continue
		}
		ev.At(s.Start).Reached("mallory", lab.MilestoneInPosition, "%s", describeSession(s))
	}
	if r.pkiRejected != nil {
		ev.Notef("mallory", "reset %d of the connections to pki01 (%v:80) she intercepted: OCSP and CRL requests fail", r.pkiRejected(), pki01IP)
	}
	return sessions
}

// noteCanaries records the canaries mallory's proxies and NIC obtained,
// and returns those her proxies found.
func (r *mitmRun) noteCanaries(sessions []attacker.Session) (found []string) {
	ev := r.env.Evidence
	tokens := make([]string, 0, len(r.env.Canaries()))
	for _, cn := range r.env.Canaries() {
		tokens = append(tokens, cn.Token)
	}
	var captured int64
	for _, px := range r.proxies {
		rep := px.Report(tokens)
		captured += rep.CapturedBytes
		for _, f := range rep.Found {
			if !slices.Contains(found, f) {
				found = append(found, f)
			}
		}
	}
	ev.CanariesObtained("mallory", len(found), len(tokens), haul(sessions, captured))
	// Canaries in frames mallory only forwarded, which her proxies never saw.
	sniffed := r.sniffer.Report(tokens)
	if extra := slices.DeleteFunc(sniffed.Found, func(t string) bool { return slices.Contains(found, t) }); len(extra) > 0 {
		ev.CanariesObtained("mallory", len(extra), len(tokens),
			lab.FormatBytes(sniffed.PayloadBytes)+" of TCP payload her NIC forwarded without intercepting it")
	}
	return found
}

// observeRealVictim records, in order, what mallory's proxy did, the
// delivery to a real server (a simulated fe01 reads SIP, not a real
// client's canary line, so without one the service is not judged), what
// mallory read, and whether the real client completed a handshake with
// her certificate or refused it with an alert, credited to the defense
// the alert names or else to the one the program's diagnostic names.
func (r *mitmRun) observeRealVictim(ctx context.Context, v *realVictim) {
	ev := r.env.Evidence
	sessions := r.noteSessions(ctx)
	if r.server != nil {
		r.noteRealDelivery(ctx, v.canary, sessions)
	} else {
		ev.Notef(mitmHome, "the simulated %s reads SIP, not a real client's canary line: delivery is not judged", mitmHome)
	}
	r.noteCanaries(sessions)
	for _, s := range sessions {
		switch vs := s.VictimSide; {
		case vs.TLS && vs.Completed && vs.Certificate != nil:
			ev.IdentityAccepted("alice", vs.ServerName, fmt.Sprintf("%s completed the %s handshake with mallory, certificate %s issued by %s",
				v.res.Program(), vs.Version, vs.Certificate.Subject, vs.Certificate.Issuer))
		case vs.Alert != nil:
			ev.RefusedByAlert("alice", "mallory", vs.Alert.Description, vs.Alert.Name, vs.Alert.Plaintext, v.res.Program(), v.diag)
		}
	}
}

// noteRealDelivery records whether fe01's real server program printed
// the canary (service intact) or not (denied); it waits for the print
// only when one of sessions reached the server.
func (r *mitmRun) noteRealDelivery(ctx context.Context, canary lab.Canary, sessions []attacker.Session) {
	relayed := slices.ContainsFunc(sessions, func(s attacker.Session) bool {
		return s.UpstreamSide.Completed || s.FromVictim > 0 && !s.VictimSide.TLS
	})
	if r.server.delivered(ctx, r.env, canary, relayed) {
		r.env.Evidence.SetService(lab.ServiceIntact)
		return
	}
	r.env.Evidence.SetService(lab.ServiceDenied)
	r.env.Evidence.Notef("alice", "the canary did not reach fe01's real server")
}

// stripped reports whether mallory's proxy refused one of alice's TLS
// connections on purpose, as the strip attack does to make her fall back.
func stripped(sessions []attacker.Session) bool {
	return slices.ContainsFunc(sessions, func(s attacker.Session) bool {
		return s.VictimSide.Err == attacker.ErrRefused.Error()
	})
}

// notePassiveRefusal records what kept mallory from reading a TLS
// session she only relayed: alice's session was TLS end to end with fe01,
// and mallory held only records whose keys she lacks. It records nothing
// when mallory found a canary or intercepted no relayed session.
func (r *mitmRun) notePassiveRefusal(res *sip.Result, found bool) {
	if found || res.Conn.TLS == nil {
		return
	}
	for _, px := range r.proxies {
		for _, s := range px.Sessions() {
			if sabotaged(s.VictimSide.Err) || s.VictimSide.TLS || s.UpstreamSide.TLS || s.FromVictim == 0 {
				continue
			}
			r.env.Evidence.Refused("alice", lab.DefenseTLSOnly, "sent only %s records (%s) through mallory, %s relayed, whose keys she lacks",
				res.Conn.TLS.VersionName(), res.Conn.TLS.CipherSuiteName(), lab.FormatBytes(int(s.FromVictim+s.FromServer)))
			return
		}
	}
}

// haul says what bytes mallory searched for canaries.
func haul(sessions []attacker.Session, captured int64) string {
	size := lab.FormatBytes(int(captured))
	for _, s := range sessions {
		switch {
		case s.VictimSide.TLS && s.VictimSide.Completed:
			return size + " of decrypted plaintext"
		case !s.VictimSide.TLS && s.UpstreamSide.TLS && s.UpstreamSide.Completed:
			return size + " of stripped plaintext"
		}
	}
	if len(sessions) > 0 && slices.ContainsFunc(sessions, func(s attacker.Session) bool { return s.FromVictim > 0 && !s.VictimSide.TLS }) {
		return size + " of relayed TLS ciphertext"
	}
	return size + ": no intercepted connection carried application data"
}

// describeSession says what mallory's proxy did with one connection.
func describeSession(s attacker.Session) string {
	v, u := s.VictimSide, s.UpstreamSide
	var b strings.Builder
	fmt.Fprintf(&b, "intercepted alice's connection (%v) to %v", s.Victim.Addr(), s.Dialled)
	switch {
	case v.Certificate != nil:
		ci := v.Certificate
		fmt.Fprintf(&b, " and presented %s issued by %s, valid %s to %s", ci.Subject, ci.Issuer,
			ci.NotBefore.UTC().Format(time.RFC3339), ci.NotAfter.UTC().Format(time.RFC3339))
		if len(ci.ExtKeyUsage) > 0 && !slices.Contains(ci.ExtKeyUsage, "serverAuth") {
			fmt.Fprintf(&b, ", extended key usage %s", strings.Join(ci.ExtKeyUsage, ","))
		}
		fmt.Fprintf(&b, " (%s)", ci.Source)
		if v.Err != "" {
			fmt.Fprintf(&b, "; handshake failed: %s", v.Err)
		} else if v.Completed {
			fmt.Fprintf(&b, "; alice completed %s", v.Version)
		}
	case v.TLS:
		fmt.Fprintf(&b, " and answered as a TLS server; handshake failed: %s", v.Err)
	case sabotaged(v.Err):
		fmt.Fprintf(&b, ": %s", v.Err)
	case strings.Contains(v.Err, attacker.ErrRefused.Error()):
		b.WriteString(" and refused it")
	case !v.TLS && u.TLS:
		fmt.Fprintf(&b, " in plaintext")
	default:
		b.WriteString(" and relayed it untouched")
	}
	if u.TLS && u.Completed && u.Certificate != nil {
		fmt.Fprintf(&b, "; upstream %s to %v, server certificate %s", u.Version, s.Upstream, u.Certificate.Subject)
	}
	return b.String()
}

// resetAfterHello is attacker.VictimRefuse made deterministic: it waits
// for the victim's first bytes (the ClientHello) before refusing, so the
// close always resets the connection, rather than racing the ClientHello
// with a FIN.
type resetAfterHello struct{}

// Accept implements attacker.VictimSide.
func (resetAfterHello) Accept(ctx context.Context, conn net.Conn, hs *attacker.Handshake) (net.Conn, error) {
	var b [1]byte
	_, _ = io.ReadFull(conn, b[:])
	return attacker.VictimRefuse{}.Accept(ctx, conn, hs)
}

package scenarios

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The refusal baselines are attacks by an untrusted peer, with every
// defense on: the trust model must refuse the peer or its certificate.
// Each records the peer's attempt as milestones (its connection accepted,
// its certificate presented), and the exact refusal, credited to the
// defense that produced it, as its last line; if the peer or certificate
// is accepted instead, it records the compromise, so the verdict is
// broken. Under sabotage the peer never gets that far (see each play).

// eventWait bounds how long a scenario waits for an event it has reason
// to expect: a server recording a refusal it has already acted on, a
// proxy's sessions ending, an ARP cache taking or refusing a spoofed
// claim. Those happen within milliseconds, whatever the load: it is a
// deadline, never what decides an outcome.
const eventWait = 5 * time.Second

// refuseUntrustedPartner: alice's canary to carol must stop at contoso's
// Edge, which does not trust the root sip.fabrikam.com's certificate
// chains to. Under proxy-refuses and spoofer-silent Fabrikam's Edge is
// down (edge01's connection is refused); under proxy-hangs a listener on
// its address accepts and never answers, until alice has her answer.
func refuseUntrustedPartner(ctx context.Context, env *lab.Env, c *contoso.Deployment, p baselineParams) error {
	hangUp, err := sabotagePeer(ctx, env, c, "fabrikam-edge01", "sip.fabrikam.com", "203.0.113.20:5061", func() (func(), error) {
		return func() {}, c.Edge("fabrikam-edge01").Close()
	})
	if err != nil {
		return err
	}
	defer hangUp()
	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
	hangUp()
	noteConnection(env, res)
	c.NoteRevocations(env.Evidence, append([]string{"alice"}, p.path...)...)
	noteRelays(env, c, p.path[:len(p.path)-1]...)

	partner, ok := c.Credential("fabrikam-edge01-external")
	if !ok {
		return errors.New("scenarios: the topology has no certificate for sip.fabrikam.com")
	}
	roots, err := c.FederationRoots("edge01")
	if err != nil {
		return err
	}
	for _, r := range c.Edge("edge01").Relays() {
		if r.NextHop != "sip.fabrikam.com" {
			continue
		}
		notePeerPresented(env, "fabrikam-edge01", r.NextHop, r.NextHopAddr, r.NextHopTLS.PeerSubject, r.NextHopTLS.PeerIssuer)
		// The Edge completed a handshake with the partner: fine if its
		// federation trust store vouches for the certificate, a
		// compromise otherwise.
		if _, err := partner.Leaf.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: intermediates(partner.TLS.Certificate), CurrentTime: env.World.Now(),
		}); err != nil {
			env.Evidence.IdentityAccepted("edge01", r.NextHop, fmt.Sprintf(
				"its certificate %s issued by %s does not verify against edge01's federation trust store (%v)",
				partner.Leaf.Subject, partner.Leaf.Issuer, err))
		}
	}
	if d, ok := findDelivery(c, p.home(), canary); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Delivered(p.home(), "%s", describeDelivery(d))
		return nil
	}
	env.Evidence.SetService(lab.ServiceDenied)
	noteAnswer(env, "alice", "MESSAGE to "+p.to, sendErr)
	toPartner := func(r sip.Rejection) bool {
		return r.Direction == sip.Outbound && r.Target == "sip.fabrikam.com"
	}
	refusal, ok := awaitRejection(ctx, c, "edge01", toPartner)
	if !ok {
		noteRejections(env, c, p.path...)
		return fmt.Errorf("scenarios: %s: carol got no canary and edge01 recorded no refusal of sip.fabrikam.com: %v", p.name, errOrNothing(sendErr))
	}
	if refusal.Stage == sip.StageHandshake {
		// edge01 reached the peer's TLS: the peer accepted its
		// connection (even one that then never answers), and a
		// certificate check means it presented one.
		var cve *tls.CertificateVerificationError
		if errors.As(refusal.Err, &cve) && len(cve.UnverifiedCertificates) > 0 {
			leaf := cve.UnverifiedCertificates[0]
			notePeerPresented(env, "fabrikam-edge01", refusal.Target, refusal.TargetAddr, leaf.Subject.String(), leaf.Issuer.String())
		} else {
			env.Evidence.Reached("fabrikam-edge01", lab.MilestoneInPosition, "accepted edge01's federation connection to %s (%s)", refusal.Target, refusal.TargetAddr)
		}
	}
	noteRejection(env, refusal)
	return nil
}

// notePeerPresented records an untrusted peer's attempt as its host saw
// it: it accepted the connection to target (in position) and presented
// its certificate (presented).
func notePeerPresented(env *lab.Env, peer, target, addr, subject, issuer string) {
	env.Evidence.Reached(peer, lab.MilestoneInPosition, "accepted edge01's federation connection to %s (%s)", target, addr)
	env.Evidence.Reached(peer, lab.MilestonePresented, "presented its certificate %s issued by %s to edge01", subject, issuer)
}

// refuseRevoked: alice's client must refuse fe01's revoked certificate.
// Under proxy-refuses and spoofer-silent fe01 serves no TLS (alice's
// connection is refused); under proxy-hangs a listener on 10.0.0.11:5061
// accepts and never answers, until alice gives up.
func refuseRevoked(ctx context.Context, env *lab.Env, c *contoso.Deployment, p baselineParams) error {
	hangUp, err := sabotagePeer(ctx, env, c, "fe01", pool01Name, "10.0.0.11:5061", func() (func(), error) {
		fe, err := restartFE01(ctx, env, c, nil)
		if err != nil {
			return nil, err
		}
		return func() { fe.Close() }, nil
	})
	if err != nil {
		return err
	}
	defer hangUp()
	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
	hangUp()
	c.NoteRevocations(env.Evidence, "alice")
	if t := res.Conn.TLS; t != nil {
		noteConnection(env, res)
		env.Evidence.Reached("fe01", lab.MilestoneInPosition, "accepted alice's connection to %s (%v)", res.Conn.Target, res.Conn.Addr)
		env.Evidence.Reached("fe01", lab.MilestonePresented, "presented its certificate %s issued by %s to alice", t.PeerSubject, t.PeerIssuer)
		// alice accepted a server: a compromise if its certificate is one
		// the CA revoked.
		if cred, ok := c.Credential("fe01"); ok && len(t.PeerDNSNames) > 0 && slices.Equal(t.PeerDNSNames, cred.Leaf.DNSNames) {
			if rev, revoked := c.CA("contoso-issuing").Revoked(cred.Leaf.SerialNumber); revoked {
				env.Evidence.IdentityAccepted("alice", res.Conn.Target, fmt.Sprintf(
					"certificate %s (serial %#x) was revoked at %s, reason %v, and the handshake succeeded",
					t.PeerSubject, cred.Leaf.SerialNumber, rev.At.UTC().Format(time.RFC3339), rev.Reason))
			}
		}
		if d, ok := findDelivery(c, p.home(), canary); ok {
			env.Evidence.SetService(lab.ServiceIntact)
			env.Evidence.At(d.Time).Delivered(p.home(), "%s", describeDelivery(d))
		} else {
			env.Evidence.SetService(lab.ServiceDenied)
			noteAnswer(env, "alice", "MESSAGE to "+p.to, sendErr)
		}
		return nil
	}
	env.Evidence.SetService(lab.ServiceDenied)
	a, ok := lastTLSAttempt(res.Attempts)
	if !ok {
		return fmt.Errorf("scenarios: %s: alice made no TLS attempt: %v", p.name, errOrNothing(sendErr))
	}
	if d, ok := lab.ClassifyRefusal(a.Err); ok {
		// A certificate check refused: the server accepted alice's
		// connection and presented the certificate it refused.
		env.Evidence.Reached("fe01", lab.MilestoneInPosition, "accepted alice's connection to %s (%v)", a.Target, a.Addr)
		var rev *pki.RevokedError
		if d == lab.DefenseRevocation && errors.As(a.Err, &rev) && rev.Certificate != nil {
			env.Evidence.Reached("fe01", lab.MilestonePresented, "presented its certificate %s (serial %#x) issued by %s to alice",
				rev.Certificate.Subject, rev.Certificate.SerialNumber, rev.Certificate.Issuer)
		}
	}
	env.Evidence.NoteFailure("alice", a.Err, "%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
	return nil
}

// refuseInsider: the rogue Front End on fe99 relays a forged MESSAGE to
// fe02, whose trusted server list must refuse it. Then alice's own
// message to bob shows whether bob's service works. Under proxy-refuses
// and spoofer-silent the rogue never dials fe02; under proxy-hangs it
// connects and never sends a ClientHello, hanging up after the service
// check.
func refuseInsider(ctx context.Context, env *lab.Env, c *contoso.Deployment, p baselineParams) error {
	forged := env.NewCanary("mallory")
	rogueIP := c.Host("fe99").Addr()
	var (
		attackErr error
		connected = true
		hangUp    = func() {}
	)
	if env.Sabotage() == lab.SabotageNone {
		rogue, err := startRogueFrontEnd(ctx, env, c, "fe99")
		if err != nil {
			return err
		}
		defer rogue.Close()
		_, attackErr = mallorySends(ctx, c, "fe99", p.to, fmt.Sprintf("alice to %s: code word %s", p.to, forged))
	} else {
		var err error
		if connected, hangUp, err = sabotagedDial(ctx, env, "fe99", c.Host("fe99"), "fe02.contoso.com", "10.0.0.12:5062"); err != nil {
			return err
		}
		defer hangUp()
	}
	injected, accepted := findDelivery(c, p.home(), forged)

	legit, _, legitErr := aliceSends(ctx, env, c, p.to)
	if d, ok := findDelivery(c, p.home(), legit); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Notef(p.home(), "service check: %s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		env.Evidence.Notef("alice", "service check: the canary did not reach %s: %v", p.to, errOrNothing(legitErr))
	}
	hangUp()
	if env.Sabotage() == lab.SabotageNone {
		cred, _ := c.Credential("fe99")
		env.Evidence.Notef("fe99", "rogue Front End running with certificate %s (%s) issued by %s; fe99.contoso.com is not in the trusted server list",
			cred.Leaf.Subject, "server+client", cred.Leaf.Issuer)
		noteAnswer(env, "mallory", "forged MESSAGE from alice@contoso.com to "+p.to+" through fe99", attackErr)
		c.NoteRevocations(env.Evidence, "fe99", p.home())
	}
	if accepted {
		env.Evidence.Reached("fe99", lab.MilestoneInPosition, "fe02 accepted its MTLS connection from %s", hostOnly(injected.Peer.Addr))
		env.Evidence.Reached("fe99", lab.MilestonePresented, "presented its certificate for %s to fe02", injected.Peer.Identity)
		env.Evidence.InjectionAccepted(p.home(), fmt.Sprintf("MESSAGE from %s to %s carrying mallory's canary, relayed by %s (%s verified: %v), a server the topology does not list",
			injected.From, injected.To, injected.Peer.Identity, injected.Peer.Transport, injected.Peer.Verified))
		env.Evidence.Notef(p.home(), "%s", describeDelivery(injected))
		return nil
	}
	if !connected {
		return nil
	}
	refusal, ok := awaitInboundRejection(ctx, c, p.home(), rogueIP)
	if !ok {
		noteRejections(env, c, p.home())
		return fmt.Errorf("scenarios: %s: %s neither delivered fe99's MESSAGE nor recorded refusing it", p.name, p.home())
	}
	if refusal.Stage == sip.StageHandshake {
		// fe02 accepted fe99's connection, even one that then never
		// answers; an UntrustedPeerError means it presented a certificate.
		env.Evidence.Reached("fe99", lab.MilestoneInPosition, "fe02 accepted its MTLS connection from %s", hostOnly(refusal.Peer.Addr))
		var untrusted *sip.UntrustedPeerError
		if errors.As(refusal.Err, &untrusted) && untrusted.Identity != "" {
			env.Evidence.Reached("fe99", lab.MilestonePresented, "presented its certificate for %s to fe02", untrusted.Identity)
		}
	}
	noteRejection(env, refusal)
	return nil
}

// sabotagePeer breaks an untrusted peer that answers a victim (the
// server on host, known as name at addr) as the run's sabotage says:
// under proxy-refuses and spoofer-silent stop shuts its service down, so
// the victim's connection is refused; under proxy-hangs it is shut down
// too and a listener on addr accepts every connection and never answers.
// stop returns what undoes it (stopping a replacement it started). It
// records what it did; without sabotage it does nothing.
//
// end, never nil and idempotent, hangs up the hanging listener's
// connections and stops what stop started: the caller calls it once the
// victim has its answer, and defers it.
func sabotagePeer(ctx context.Context, env *lab.Env, c *contoso.Deployment, host, name, addr string, stop func() (func(), error)) (end func(), err error) {
	if env.Sabotage() == lab.SabotageNone {
		return func() {}, nil
	}
	undo, err := stop()
	if err != nil {
		return func() {}, fmt.Errorf("scenarios: sabotaging %s: %w", host, err)
	}
	if env.Sabotage() != lab.SabotageProxyHangs {
		env.Evidence.Notef(host, "sabotaged (%s): %s (%s) is down; connections to it are refused", env.Sabotage(), name, addr)
		return sync.OnceFunc(undo), nil
	}
	ln, err := c.Host(host).Listen("tcp", addr)
	if err != nil {
		undo()
		return func() {}, fmt.Errorf("scenarios: sabotaging %s: listening on %s: %w", host, addr, err)
	}
	env.Evidence.Notef(host, "sabotaged (%s): %s (%s) accepts connections and never answers", env.Sabotage(), name, addr)
	hang := hangingListener(ctx, ln)
	return sync.OnceFunc(func() { hang(); undo() }), nil
}

// hangingListener accepts every connection on ln and reads from it
// without ever answering, until the returned stop (idempotent) or ctx
// ends; stop closes the listener and every connection and waits for its
// goroutines.
func hangingListener(ctx context.Context, ln net.Listener) (stop func()) {
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				conn.Close()
				return
			}
			conns = append(conns, conn)
			wg.Go(func() { _, _ = io.Copy(io.Discard, conn) })
			mu.Unlock()
		}
	})
	closeAll := sync.OnceFunc(func() {
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		ln.Close()
	})
	unwatch := context.AfterFunc(ctx, closeAll)
	return func() {
		unwatch()
		closeAll()
		wg.Wait()
	}
}

// startRogueFrontEnd runs a Front End on the insider's host as the
// topology would configure one (its enterprise certificate, trust store
// and revocation checker), homing alice on itself and bob on fe02, so it
// relays alice's name to fe02 over MTLS.
func startRogueFrontEnd(ctx context.Context, env *lab.Env, c *contoso.Deployment, name string) (*sip.FrontEnd, error) {
	h := c.Host(name)
	mtls, err := c.MTLSConfig(name)
	if err != nil {
		return nil, err
	}
	clientTLS, err := c.ServerTLS(name)
	if err != nil {
		return nil, err
	}
	addr := h.Addr()
	fqdn := name + "." + contoso.Domain
	fe, err := sip.NewFrontEnd(sip.FrontEndConfig{
		FQDN: fqdn, Name: name, Domain: contoso.Domain, Net: h,
		ClientAddr: net.JoinHostPort(addr.String(), "5061"), ClientTLS: clientTLS,
		ServerTLS: mtls,
		Peers:     map[string]string{"fe02.contoso.com": "10.0.0.12:5062"},
		Registrar: sip.NewRegistrar(map[string]string{"alice@contoso.com": fqdn, "bob@contoso.com": "fe02.contoso.com"}),
		// The rogue's own list; fe02's is what matters.
		TrustedServers: []string{"fe02.contoso.com"},
		Now:            env.World.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: rogue Front End on %s: %w", name, err)
	}
	if err := fe.Start(ctx); err != nil {
		return nil, fmt.Errorf("scenarios: starting the rogue Front End on %s: %w", name, err)
	}
	return fe, nil
}

// mallorySends runs mallory's tool on the insider's host: a SIP client
// signed in as alice whose pool lookup is pinned to the rogue Front End.
func mallorySends(ctx context.Context, c *contoso.Deployment, host, to, body string) (*sip.Result, error) {
	cfg, err := c.ClientConfig(host, "alice@contoso.com")
	if err != nil {
		return &sip.Result{}, err
	}
	cfg.Resolver = pinnedPool{Resolver: cfg.Resolver, target: host + "." + contoso.Domain, port: contoso.PortSIPTLS}
	// The tool checks no revocation: it only needs its own server.
	roots, err := c.Roots(host)
	if err != nil {
		return &sip.Result{}, err
	}
	cfg.TLS = c.TLS().Client(roots, nil)
	client, err := sip.NewClient(cfg)
	if err != nil {
		return &sip.Result{}, err
	}
	return client.SendMessage(ctx, to, body)
}

// pinnedPool answers every SRV lookup with one target and resolves
// addresses through the resolver it wraps.
type pinnedPool struct {
	sip.Resolver
	target string
	port   uint16
}

func (p pinnedPool) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return "_" + service + "._" + proto + "." + name + ".", []*net.SRV{{Target: p.target + ".", Port: p.port, Weight: 100}}, nil
}

// noteAnswer records how a request ended: its status and reason, or
// that it succeeded.
func noteAnswer(env *lab.Env, actor, what string, err error) {
	var se *sip.StatusError
	switch {
	case err == nil:
		env.Evidence.Notef(actor, "%s answered 200 OK", what)
	case errors.As(err, &se):
		env.Evidence.Notef(actor, "%s answered %v", what, se)
	default:
		env.Evidence.Notef(actor, "%s failed: %v", what, err)
	}
}

// findRejection returns the first refusal on host that match accepts.
func findRejection(c *contoso.Deployment, host string, match func(sip.Rejection) bool) (sip.Rejection, bool) {
	s := server(c, host)
	if s == nil {
		return sip.Rejection{}, false
	}
	for _, r := range s.Rejections() {
		if match(r) {
			return r, true
		}
	}
	return sip.Rejection{}, false
}

// lastTLSAttempt returns the client's last failed TLS connection attempt.
func lastTLSAttempt(as []sip.Attempt) (sip.Attempt, bool) {
	for i := len(as) - 1; i >= 0; i-- {
		if a := as[i]; a.Transport == sip.TransportTLS && a.Addr.IsValid() && a.Err != nil {
			return a, true
		}
	}
	return sip.Attempt{}, false
}

// intermediates pools the certificates after the leaf of a chain.
func intermediates(chain [][]byte) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, der := range chain[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			pool.AddCert(c)
		}
	}
	return pool
}

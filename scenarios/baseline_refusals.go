package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
)

// The refusal baselines: with every defense on, the trust model must refuse
// a peer or certificate. Each records the exact refusal as its last line;
// if the peer or certificate is accepted instead, it records the
// compromise, so the verdict is broken.

// refusalWait bounds how long a scenario waits for a server to record a
// refusal it has already acted on.
const refusalWait = 5 * time.Second

// refuseUntrustedPartner: alice's canary to carol must stop at contoso's
// Edge, which does not trust the root sip.fabrikam.com's certificate
// chains to.
func refuseUntrustedPartner(ctx context.Context, env *lab.Env, c *lab.Contoso, p baselineParams) error {
	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
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
		env.Evidence.Notef(p.home(), "%s", describeDelivery(d))
		return nil
	}
	env.Evidence.SetService(lab.ServiceDenied)
	noteAnswer(env, "alice", "MESSAGE to "+p.to, sendErr)
	refusal, ok := findRejection(c, "edge01", func(r sip.Rejection) bool {
		return r.Direction == sip.Outbound && r.Target == "sip.fabrikam.com"
	})
	if !ok {
		noteRejections(env, c, p.path...)
		return fmt.Errorf("scenarios: %s: carol got no canary and edge01 recorded no refusal of sip.fabrikam.com: %v", p.name, errOrNothing(sendErr))
	}
	noteRejection(env, refusal)
	return nil
}

// refuseRevoked: alice's client must refuse fe01's revoked certificate.
func refuseRevoked(ctx context.Context, env *lab.Env, c *lab.Contoso, p baselineParams) error {
	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
	c.NoteRevocations(env.Evidence, "alice")
	if t := res.Conn.TLS; t != nil {
		noteConnection(env, res)
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
			env.Evidence.Notef(p.home(), "%s", describeDelivery(d))
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
	env.Evidence.Notef("alice", "%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
	return nil
}

// refuseInsider: the rogue Front End on fe99 relays a forged MESSAGE to
// fe02, whose trusted server list must refuse it. Before that, alice's
// own message to bob shows whether bob's service works.
func refuseInsider(ctx context.Context, env *lab.Env, c *lab.Contoso, p baselineParams) error {
	legit, _, legitErr := aliceSends(ctx, env, c, p.to)

	rogue, err := startRogueFrontEnd(ctx, env, c, "fe99")
	if err != nil {
		return err
	}
	defer rogue.Close()
	forged := env.NewCanary("mallory")
	_, attackErr := mallorySends(ctx, c, "fe99", p.to, fmt.Sprintf("alice to %s: code word %s", p.to, forged))

	injected, accepted := findDelivery(c, p.home(), forged)
	rogueIP := c.Host("fe99").Addr().String()
	refused := func(r sip.Rejection) bool {
		return r.Direction == sip.Inbound && hostOnly(r.Peer.Addr) == rogueIP
	}
	var refusal sip.Rejection
	if !accepted {
		// fe02 records its refusal after sending the alert fe99 reacts to.
		waitFor(ctx, refusalWait, func() bool {
			var ok bool
			refusal, ok = findRejection(c, p.home(), refused)
			return ok
		})
	}

	if d, ok := findDelivery(c, p.home(), legit); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.Notef(p.home(), "service check: %s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		env.Evidence.Notef("alice", "service check: the canary did not reach %s: %v", p.to, errOrNothing(legitErr))
	}
	cred, _ := c.Credential("fe99")
	env.Evidence.Notef("fe99", "rogue Front End running with certificate %s (%s) issued by %s; fe99.contoso.com is not in the trusted server list",
		cred.Leaf.Subject, "server+client", cred.Leaf.Issuer)
	noteAnswer(env, "mallory", "forged MESSAGE from alice@contoso.com to "+p.to+" through fe99", attackErr)
	c.NoteRevocations(env.Evidence, "fe99", p.home())
	if accepted {
		env.Evidence.InjectionAccepted(p.home(), fmt.Sprintf("MESSAGE from %s to %s carrying mallory's canary, relayed by %s (%s verified: %v), a server the topology does not list",
			injected.From, injected.To, injected.Peer.Identity, injected.Peer.Transport, injected.Peer.Verified))
		env.Evidence.Notef(p.home(), "%s", describeDelivery(injected))
		return nil
	}
	if refusal.Reason == "" {
		noteRejections(env, c, p.home())
		return fmt.Errorf("scenarios: %s: %s neither delivered fe99's MESSAGE nor recorded refusing it", p.name, p.home())
	}
	noteRejection(env, refusal)
	return nil
}

// startRogueFrontEnd runs a Front End on the insider's host as the
// topology would configure one (its enterprise certificate, trust store
// and revocation checker), homing alice on itself and bob on fe02, so it
// relays alice's name to fe02 over MTLS.
func startRogueFrontEnd(ctx context.Context, env *lab.Env, c *lab.Contoso, name string) (*sip.FrontEnd, error) {
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
	fqdn := name + "." + lab.ContosoDomain
	fe, err := sip.NewFrontEnd(sip.FrontEndConfig{
		FQDN: fqdn, Name: name, Domain: lab.ContosoDomain, Net: h,
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
func mallorySends(ctx context.Context, c *lab.Contoso, host, to, body string) (*sip.Result, error) {
	cfg, err := c.ClientConfig(host, "alice@contoso.com")
	if err != nil {
		return &sip.Result{}, err
	}
	cfg.Resolver = pinnedPool{Resolver: cfg.Resolver, target: host + "." + lab.ContosoDomain, port: lab.PortSIPTLS}
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
func findRejection(c *lab.Contoso, host string, match func(sip.Rejection) bool) (sip.Rejection, bool) {
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

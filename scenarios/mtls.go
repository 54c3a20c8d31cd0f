package scenarios

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The mtls family: mallory controls a machine on contoso-lan (10.0.0.99,
// fe99.contoso.com, which holds a valid enterprise certificate but is not
// in the topology) and connects to fe02's MTLS port, 5062, as if it were a
// Front End relaying a MESSAGE from alice@contoso.com to bob@contoso.com
// that carries mallory's canary. What it presents as its client
// certificate differs from scenario to scenario; fe02's delivery records
// decide whether the forged message got in.

// mtlsParams declares one MTLS impersonation scenario.
type mtlsParams struct {
	header
	// cert is the client certificate mallory presents (nil: none) and
	// how it describes it.
	cert func(env *lab.Env, c *contoso.Deployment) (*tls.Certificate, string, error)
	// certText says what cert presents, for handouts.
	certText string
	// target names the MTLS listener mallory dials (see mtlsServers);
	// "" is fe02's, the catalog's.
	target string
}

// mtlsServer is an MTLS listener mallory's insider can dial as a Front
// End: the host that verifies her and records its refusal, its name and
// address, the user her forged MESSAGE is for (whom alice's service check
// writes to as well) and the Front End that would deliver it.
type mtlsServer struct {
	host, fqdn, addr, victim, home string
}

// mtlsServers are the listeners of the contoso preset that take MTLS
// from Front Ends: each Front End's, and edge01's internal one, which
// relays to federated partners.
var mtlsServers = map[string]mtlsServer{
	"fe02":   {host: mtlsTarget, fqdn: mtlsTargetFQDN, addr: mtlsTargetAddr, victim: mtlsVictim, home: mtlsTarget},
	"fe01":   {host: "fe01", fqdn: "fe01.contoso.com", addr: "10.0.0.11:5062", victim: "dave@contoso.com", home: "fe01"},
	"edge01": {host: "edge01", fqdn: "edge01.contoso.com", addr: "172.16.0.10:5062", victim: "carol@fabrikam.com", home: "fabrikam-fe01"},
}

// server is the listener p's mallory dials.
func (p mtlsParams) server() mtlsServer {
	if p.target == "" {
		return mtlsServers[mtlsTarget]
	}
	return mtlsServers[p.target]
}

// mtlsInsider is the machine mallory controls.
var mtlsInsider = contoso.Insider{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}

const (
	mtlsTarget     = "fe02"
	mtlsTargetFQDN = "fe02.contoso.com"
	mtlsTargetAddr = "10.0.0.12:5062"
	mtlsVictim     = "bob@contoso.com"
)

func mtlsTopology() contoso.Config {
	return contoso.Config{Insiders: []contoso.Insider{mtlsInsider}}
}

var (
	mtlsNoClientCert = mtlsParams{
		header: header{
			name:    "mtls/no-client-cert",
			labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP},
			summary: "mallory connects to fe02's MTLS port without a client certificate",
			story: "Mallory, on a machine on contoso-lan (10.0.0.99), connects to fe02's MTLS listener " +
				"(10.0.0.12:5062) and tries to relay a MESSAGE claiming to come from alice@contoso.com, carrying a " +
				"canary, to bob@contoso.com. She presents no client certificate. fe02 requires and verifies one " +
				"(ClientCertRequired): the handshake must fail with \"tls: client didn't provide a certificate\" " +
				"and nothing from mallory may be delivered.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseClientCertRequired,
		},
		cert:     func(*lab.Env, *contoso.Deployment) (*tls.Certificate, string, error) { return nil, "", nil },
		certText: "no client certificate",
	}
	mtlsUntrustedCert = mtlsParams{
		header: header{
			name:    "mtls/untrusted-client-cert",
			labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP, lab.LabelPKI},
			summary: "mallory presents a self-signed certificate for fe01.contoso.com to fe02's MTLS port",
			story: "Mallory, on 10.0.0.99 on contoso-lan, connects to fe02's MTLS listener (10.0.0.12:5062) " +
				"presenting a self-signed certificate for fe01.contoso.com, a name fe02's trusted server list " +
				"holds, and tries to relay a forged MESSAGE from alice@contoso.com carrying a canary to " +
				"bob@contoso.com. Chain validation must refuse the certificate (x509: unknown authority) and fe02 " +
				"must deliver nothing from her.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseChainValidation,
		},
		certText: "a self-signed certificate for fe01.contoso.com",
		cert: func(env *lab.Env, c *contoso.Deployment) (*tls.Certificate, string, error) {
			src := attacker.SelfSigned(env.World.Now, "fe01.contoso.com")
			cert, err := src.Certificate(&tls.ClientHelloInfo{ServerName: "fe01.contoso.com"})
			return cert, "a self-signed certificate", err
		},
	}
	mtlsNotInTopology = mtlsParams{
		header: header{
			name:    "mtls/not-in-topology",
			labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP},
			summary: "mallory presents fe99's valid enterprise certificate; fe99 is not in the topology",
			story: "Mallory controls fe99.contoso.com (10.0.0.99), a machine with a valid server+client " +
				"certificate from Contoso Issuing CA 01 that the topology does not list. With that certificate she " +
				"connects to fe02's MTLS listener (10.0.0.12:5062) and relays a forged MESSAGE from " +
				"alice@contoso.com carrying a canary to bob@contoso.com. The chain, name and revocation status are " +
				"all good; only the trusted server list stands in the way, and fe02 must refuse fe99.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseTrustedServerList,
		},
		cert:     mtlsInsiderCert,
		certText: "fe99's valid server+client certificate from Contoso Issuing CA 01",
	}
	mtlsNotInTopologyListOff = mtlsParams{
		header: header{
			name:    "mtls/not-in-topology-list-off",
			labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP, lab.LabelMisconfig},
			summary: "as mtls/not-in-topology with the trusted server list off: fe02 takes the forged message",
			story: "The attack of mtls/not-in-topology against a fe02 that checks only the chain of an MTLS " +
				"peer, not whether the topology lists it (TrustedServerList off). Mallory's fe99.contoso.com " +
				"certificate chains to the enterprise root, so fe02 accepts the connection and delivers her forged " +
				"MESSAGE to bob@contoso.com as if alice had sent it: a valid enterprise certificate is not a server " +
				"identity.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.TrustedServerList = false },
		},
		cert:     mtlsInsiderCert,
		certText: "fe99's valid server+client certificate from Contoso Issuing CA 01",
	}
	mtlsMissingClientAuth = mtlsParams{
		header: header{
			name:    "mtls/missing-client-auth-eku",
			labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP, lab.LabelPKI},
			summary: "mallory presents an enterprise certificate for fe01.contoso.com without clientAuth",
			story: "Mallory got Contoso Issuing CA 01 to issue her a certificate for fe01.contoso.com with the " +
				"serverAuth extended key usage only, as a web server template would. From 10.0.0.99 she presents " +
				"it as a client certificate to fe02's MTLS listener (10.0.0.12:5062) and relays a forged MESSAGE " +
				"from alice@contoso.com carrying a canary to bob@contoso.com. fe02 verifies client certificates " +
				"for the clientAuth usage and must refuse it with the exact x509 reason.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseChainValidation,
		},
		certText: "a certificate for fe01.contoso.com from Contoso Issuing CA 01 with serverAuth only",
		cert: func(env *lab.Env, c *contoso.Deployment) (*tls.Certificate, string, error) {
			ca := c.CA("contoso-issuing")
			cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				return nil, "", err
			}
			return &cred.TLS, "a certificate " + ca.Name() + " issued with serverAuth only", nil
		},
	}
)

// mtlsInsiderCert is fe99's own enterprise certificate.
func mtlsInsiderCert(env *lab.Env, c *contoso.Deployment) (*tls.Certificate, string, error) {
	cred, ok := c.Credential(mtlsInsider.Name)
	if !ok {
		return nil, "", fmt.Errorf("scenarios: the topology has no certificate for %s", mtlsInsider.FQDN())
	}
	return &cred.TLS, "fe99's own enterprise certificate", nil
}

// mtlsFamily returns the scenarios of this family.
func mtlsFamily() []lab.Scenario {
	out := []lab.Scenario{}
	for _, p := range []mtlsParams{mtlsNoClientCert, mtlsUntrustedCert, mtlsNotInTopology, mtlsNotInTopologyListOff, mtlsMissingClientAuth} {
		out = append(out, p.scenario())
	}
	out = append(out, mtlsRelay.scenario())
	return out
}

func (p mtlsParams) scenario() lab.Scenario {
	return p.header.scenario(p.attackerText(), lab.WithChanges(mtlsTopology(), p.topologyChanges()...), p.run)
}

// attackerText says, for handouts, where mallory's impersonated Front End
// sits and which certificate it presents to fe02.
func (p mtlsParams) attackerText() string {
	return fmt.Sprintf("mallory on fe99.contoso.com (10.0.0.99) on contoso-lan, connecting to "+p.server().host+"'s MTLS port (%s) as a Front End "+
		"with %s, relaying a forged MESSAGE from alice@contoso.com to %s", p.server().addr, p.certText, p.server().victim)
}

// run: mallory impersonates a Front End to fe02; then alice's own message
// to bob shows whether the service still works. Evidence, in order: fe02
// accepting mallory's TCP connection (in position), the certificate she
// presented (presented), how her forged MESSAGE ended, the service check,
// and last either fe02 delivering the forgery (broken) or fe02's exact
// refusal, credited to the defense that produced it.
//
// Under sabotage mallory never gets that far: proxy-refuses and
// spoofer-silent keep her from dialling at all; proxy-hangs connects and
// never sends a ClientHello, hanging up after the service check.
func (p mtlsParams) run(ctx context.Context, env *lab.Env) error {
	c, err := mtlsTopology().Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	cert, desc, err := p.cert(env, c)
	if err != nil {
		return err
	}
	insider := c.Host(mtlsInsider.Name)
	// fe99 is mallory's machine, though the topology names it after its
	// certificate: impairing mallory (host=mallory) impairs it.
	insider.ImpairAs("mallory")
	forged := env.NewCanary("mallory")
	t := p.server()
	var (
		res       attacker.ImpersonationResult
		connected bool
		hangUp    = func() {}
	)
	if env.Sabotage() == lab.SabotageNone {
		if res, err = attacker.ImpersonateMTLS(ctx, attacker.MTLSImpersonation{
			Dial: insider, Addr: t.addr, ServerName: t.fqdn,
			Certificate: cert, CertSource: desc,
			Message: attacker.ForgedMessage{
				From: "alice@contoso.com", To: t.victim,
				Body:    fmt.Sprintf("alice to %s: code word %s", t.victim, forged),
				ViaHost: mtlsInsider.FQDN(), ViaPort: 5062,
			},
			Now: env.World.Now,
		}); err != nil {
			return err
		}
		connected = res.Connected
		noteImpersonation(env, res, desc, t)
	} else if connected, hangUp, err = sabotagedDial(ctx, env, "mallory", insider, t.fqdn, t.addr); err != nil {
		return err
	}
	defer hangUp()

	injected, accepted := findDelivery(c, t.home, forged)
	legit, _, legitErr := aliceSends(ctx, env, c, t.victim)
	if d, ok := findDelivery(c, t.home, legit); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Notef(t.home, "service check: %s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		env.Evidence.Notef("alice", "service check: the canary did not reach %s: %v", t.victim, errOrNothing(legitErr))
	}
	hangUp()

	if accepted {
		peer := injected.Peer.Identity
		if peer == "" {
			peer = "a peer without a certificate"
		}
		env.Evidence.Notef(t.home, "%s", describeDelivery(injected))
		env.Evidence.InjectionAccepted(t.home, fmt.Sprintf("MESSAGE from %s to %s carrying mallory's canary, relayed by %s from %s (%s verified: %v)",
			injected.From, injected.To, peer, hostOnly(injected.Peer.Addr), injected.Peer.Transport, injected.Peer.Verified))
		return nil
	}
	if !connected {
		return nil
	}
	refusal, ok := awaitInboundRejection(ctx, c, t.host, mtlsInsider.Addr)
	if !ok {
		noteRejections(env, c, t.host)
		return fmt.Errorf("scenarios: %s: %s neither delivered mallory's MESSAGE nor recorded refusing it (%s)", p.name, t.host, res.Err)
	}
	noteRejection(env, refusal)
	return nil
}

// noteImpersonation records how far an MTLS impersonation got: the
// server accepting the TCP connection (in position), the certificate
// presented once the attacker's handshake completed (presented) or that
// none was, and how the forged MESSAGE ended.
func noteImpersonation(env *lab.Env, res attacker.ImpersonationResult, desc string, t mtlsServer) {
	if res.Connected {
		env.Evidence.Reached("mallory", lab.MilestoneInPosition, "%s (%s) accepted her TCP connection from %v",
			t.fqdn, t.addr, res.Local)
	}
	switch {
	case res.Presented != nil && res.Handshake.Completed:
		env.Evidence.Reached("mallory", lab.MilestonePresented, "presented %s (%s, issued by %s, extended key usage %s) to %s (%s)",
			desc, res.Presented.Subject, res.Presented.Issuer, ekuList(res.Presented.ExtKeyUsage), t.fqdn, t.addr)
	case res.Presented != nil:
		env.Evidence.Notef("mallory", "did not get to present %s (%s) to %s (%s): %s",
			desc, res.Presented.Subject, t.fqdn, t.addr, res.Handshake.Err)
	default:
		env.Evidence.Notef("mallory", "presented no client certificate to %s (%s)", t.fqdn, t.addr)
	}
	if res.Answered {
		env.Evidence.Notef("mallory", "forged MESSAGE from alice@contoso.com to %s answered %d %s", t.victim, res.Status, res.Reason)
	} else {
		env.Evidence.Notef("mallory", "forged MESSAGE from alice@contoso.com to %s failed: %s", t.victim, res.Err)
	}
}

// sabotagedDial is an impersonator under the run's sabotage, dialling
// server (name, addr) from host as actor: under proxy-refuses and
// spoofer-silent it never dials; under proxy-hangs it connects and never
// sends its ClientHello, holding the connection until hangUp (which the
// caller calls when it has seen what it needed) or ctx ends. It records
// what it did, never as a step of the attack, and reports whether it
// connected. hangUp is never nil.
func sabotagedDial(ctx context.Context, env *lab.Env, actor string, host attacker.Dialer, name, addr string) (connected bool, hangUp func(), err error) {
	hangUp = func() {}
	if env.Sabotage() != lab.SabotageProxyHangs {
		env.Evidence.Notef(actor, "sabotaged (%s): never dialled %s (%s)", env.Sabotage(), name, addr)
		return false, hangUp, nil
	}
	conn, err := host.DialContext(ctx, "tcp", addr)
	if err != nil {
		env.Evidence.Notef(actor, "sabotaged (%s): dialling %s (%s) failed: %v", env.Sabotage(), name, addr, err)
		return false, hangUp, nil
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	env.Evidence.Notef(actor, "sabotaged (%s): connected to %s (%s) and never sent a ClientHello", env.Sabotage(), name, addr)
	return true, sync.OnceFunc(func() { stop(); conn.Close() }), nil
}

// awaitInboundRejection waits for host to record its refusal of an
// inbound connection from addr, which it does after sending its alert,
// so possibly after the peer has its answer: an event, whose wait
// eventWait only bounds. It returns the first such refusal.
func awaitInboundRejection(ctx context.Context, c *contoso.Deployment, host string, addr netip.Addr) (sip.Rejection, bool) {
	from := func(r sip.Rejection) bool {
		return r.Direction == sip.Inbound && hostOnly(r.Peer.Addr) == addr.String()
	}
	return awaitRejection(ctx, c, host, from)
}

// ekuList names extended key usages, "any" when there are none.
func ekuList(us []string) string {
	if len(us) == 0 {
		return "any"
	}
	return strings.Join(us, ",")
}

package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// The dns family: mallory steers alice's client to her own machine
// (10.0.0.66 on contoso-lan) by answering the lookup of pool01.contoso.com
// herself, and plays the pool there. How she gets to answer (alice's
// configured name server, an on-path spoof of dns01's answer, a blind
// flood) and what she presents (a certificate from her own CA, one a
// trusted CA mis-issued, a plaintext trap) vary. Alice's resolver (DNSSEC
// validation, random query IDs and ports) refuses the forgery, or her
// certificate checks refuse mallory's pool; a hijack the checks stop costs
// availability, not confidentiality.
//
// Every race is decided by events, never by a fixed wait: the on-path
// spoofer answers from the query's own frame, before the query reaches
// dns01; the blind flood is raced by a dns01 whose answer for pool01 is
// released only once every guess of the flood has reached alice after her
// query left (dnsBlindRace).
//
// Sabotage: under spoofer-silent her on-path and blind spoofers send
// nothing and her rogue name server is not there; under proxy-refuses and
// proxy-hangs the spoofers work, while her endpoints (the rogue name
// server, answering REFUSED or nothing, and her fake pool) refuse or hang.
// A forgery alice's resolver refuses (DNSSEC, randomisation) never
// reaches those endpoints, so such a run is held whatever the sabotage of
// the endpoints.

// dnsPosition is how mallory gets to answer alice's lookups.
type dnsPosition int

const (
	// dnsRogueServer: alice's configured name server is mallory's.
	dnsRogueServer dnsPosition = iota
	// dnsOnPath: mallory sees alice's queries to dns01 pass (a compromised
	// switch), answers first and holds each query back dnsQueryHold. The
	// switch acts through her machine's NIC (AttachSegmentVia): cut it off
	// and she sees no query.
	dnsOnPath
	// dnsBlind: mallory, off the path on contoso-lan, floods alice with
	// forged answers from dns01's address, guessing query IDs and ports.
	dnsBlind
)

// dnsPositions names the dns family's positions as scenario files spell
// them, in iota order.
var dnsPositions = []string{"rogue-dns", "dns-on-path", "dns-blind"}

// String returns the position as scenario files spell it, "rogue-dns".
func (p dnsPosition) String() string {
	if int(p) >= 0 && int(p) < len(dnsPositions) {
		return dnsPositions[p]
	}
	return fmt.Sprintf("dnsPosition(%d)", int(p))
}

// dnsParams declares one client-side scenario of the family. Scenario
// files (file_schema.go) fill one in too.
type dnsParams struct {
	header
	position dnsPosition
	// cert is the certificate mallory's pool presents (the catalog's
	// default is dnsForged). Mallory Root CA is the topology's attacker
	// CA here, which runs no revocation service. A stolen certificate
	// marked revoked is revoked by the topology (topologyConfig).
	cert certSpec
	// trustMallory has mallory create her own Mallory Root CA for the run,
	// with its OCSP responder on her machine (http://10.0.0.66/ocsp, as
	// the MITM family's), in place of the topology's attacker CA, and
	// adds it to alice's trust store.
	trustMallory bool
	// topology changes the preset (a scenario file's hosts: key types,
	// revocations, revocation modes); the zero value is the preset.
	topology contoso.Config
	// distrusted are the CAs (issuer keys) on the enterprise distrust
	// list (lab.Defenses.DistrustList); offer, when set, is the TLS
	// mallory's pool offers alice (see mitmParams).
	distrusted []string
	offer      *tlsOffer
}

// dnsForged is a certificate forged per SNI by Mallory Root CA.
var dnsForged = certSpec{source: certForged, issuer: issuerMallory}

var dnsMalloryAddr = netip.MustParsePrefix("10.0.0.66/24")

const dnsDave = "dave@contoso.com"

// The blind flood's guesses: query IDs 1-16 on the fixed port 53000 a
// pre-2008 resolver uses (see attackerText).
const (
	dnsBlindFirstTXID = 1
	dnsBlindTXIDs     = 16
	dnsBlindPort      = dns.DefaultFixedPort
)

var (
	dnsRogue = dnsParams{
		header: header{
			name:    "dns/rogue-server",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMITM},
			summary: "alice's configured DNS server is mallory's: pool01 resolves to her machine",
			story: "A rogue DHCP offer made mallory's machine (10.0.0.66) alice's name server. It answers " +
				"_sip._tls.contoso.com with pool01.contoso.com and pool01.contoso.com with 10.0.0.66, where mallory " +
				"plays the pool with a certificate for pool01.contoso.com forged by her own CA. Alice sends " +
				"dave@contoso.com a canary. Her client validates the chain and must refuse the handshake: mallory " +
				"reads nothing, and alice loses her service.",
			expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
		},
		position: dnsRogueServer,
		cert:     dnsForged,
	}
	dnsOnPathSpoof = dnsParams{
		header: header{
			name:    "dns/on-path-spoof",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMITM},
			summary: "mallory answers alice's query to dns01 first, from the path",
			story: "Mallory controls a switch on contoso-lan, sees alice's query to dns01 (10.0.0.53) for " +
				"pool01.contoso.com and answers it at once as dns01, with her own address 10.0.0.66; she holds the " +
				"query back 50 ms, so the real answer arrives second and is ignored. She plays the pool with a " +
				"certificate forged by her own CA. " +
				"Alice's certificate check must refuse it: service denied, nothing read.",
			expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
		},
		position: dnsOnPath,
		cert:     dnsForged,
	}
	dnsHijackFallback = dnsParams{
		header: header{
			name:    "dns/hijack-plaintext-fallback",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPlaintext, lab.LabelMisconfig},
			summary: "after the DNS hijack alice's client refuses mallory's TLS, then falls back to plaintext to her",
			story: "The on-path DNS spoof of dns/on-path-spoof against a client allowed to fall back to plaintext " +
				"(TLSOnly off). Alice refuses mallory's forged certificate on 5061, then retries pool01.contoso.com " +
				"on port 5060 in the clear, still at mallory's address, and hands her the canary.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		},
		position: dnsOnPath,
		cert:     dnsForged,
	}
	dnsHijackMisIssued = dnsParams{
		header: header{
			name:    "dns/hijack-mis-issued-cert",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI, lab.LabelMITM},
			summary: "after the DNS hijack mallory presents a certificate Contoso's CA mis-issued to her",
			story: "Mallory got Contoso Issuing CA 01 to issue her a certificate for pool01.contoso.com (a " +
				"mis-issuance the trust model names as its limit) and spoofs dns01's answer from the path. Alice's " +
				"client finds a valid chain, the right name and a good revocation status at 10.0.0.66, accepts " +
				"mallory as her pool and sends her the canary.",
			expected: lab.Broken,
		},
		position: dnsOnPath, cert: misIssuedCert,
	}
	dnsBlindRandomised = dnsParams{
		header: header{
			name:    "dns/blind-spoof-randomised",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP},
			summary: "an off-path flood of forged answers misses a resolver with random IDs and ports",
			story: "Mallory, on contoso-lan but off the path between alice and dns01 (a switched LAN), cannot see " +
				"alice's query. Knowing when alice will look pool01.contoso.com up, she floods her with forged " +
				"answers from dns01's address, query IDs 1-16 on port 53000, round after round, and dns01 answers " +
				"only after a whole round has reached alice. Alice's resolver picks random query IDs and source " +
				"ports (DNSRandomization): no forgery reaches its query's socket, dns01's answer wins and dave " +
				"gets the canary.",
			expected: lab.Held, stoppedBy: lab.DefenseDNSRandomization,
		},
		position: dnsBlind,
		cert:     dnsForged,
	}
	dnsBlindPredictable = dnsParams{
		header: header{
			name:    "dns/blind-spoof-predictable",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
			summary: "the off-path flood poisons a resolver with sequential IDs and a fixed port; TLS stops it",
			story: "The flood of dns/blind-spoof-randomised against a resolver with sequential query IDs and a " +
				"fixed source port (DNSRandomization off): a guess matches, alice's client resolves " +
				"pool01.contoso.com to mallory's 10.0.0.66 and meets her certificate forged by her own CA. The " +
				"poisoning succeeds; the certificate check must still refuse her (service denied, nothing read).",
			expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			defenses: func(d *lab.Defenses) { d.DNSRandomization = false },
		},
		position: dnsBlind,
		cert:     dnsForged,
	}
	dnsDNSSEC = dnsParams{
		header: header{
			name:    "dns/dnssec-on-path-spoof",
			labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI},
			summary: "the on-path spoof, with a mis-issued certificate, against a resolver that validates DNSSEC",
			story: "The on-path spoof of dns/on-path-spoof against signed contoso.com zones and resolvers that " +
				"validate DNSSEC. Mallory holds a certificate for pool01.contoso.com that Contoso Issuing CA 01 " +
				"mis-issued to her, which alice's client would accept (dns/hijack-mis-issued-cert): DNSSEC is " +
				"all that stands in her way. Her forged answer carries no valid signature; alice's resolver must " +
				"drop it with the exact validation error and take dns01's signed answer, so alice reaches the " +
				"real pool and dave gets the canary.",
			expected: lab.Held, stoppedBy: lab.DefenseDNSSECValidation,
			defenses: func(d *lab.Defenses) { d.DNSSECValidation = true },
		},
		position: dnsOnPath,
		cert:     misIssuedCert,
	}
)

// dnsFamily returns the scenarios of this family.
func dnsFamily() []lab.Scenario {
	var out []lab.Scenario
	for _, p := range []dnsParams{dnsRogue, dnsOnPathSpoof, dnsBlindRandomised, dnsBlindPredictable, dnsHijackFallback, dnsHijackMisIssued, dnsDNSSEC} {
		out = append(out, p.scenario())
	}
	for _, p := range []dnsSRVParams{dnsSRVPoison, dnsSRVPoisonNoMatch} {
		out = append(out, p.scenario())
	}
	return out
}

func (p dnsParams) scenario() lab.Scenario {
	s := p.header.scenario(p.attackerText(), lab.WithChanges(p.topologyConfig(), p.topologyChanges()...), p.run)
	if p.position != dnsBlind {
		// A real client reaches the pool through alice's resolver
		// (lab.RealPeers: {addr} resolved as it starts, or {proxy}); a
		// real client has no enterprise distrust list.
		s.RealPeers = lab.RealVictim
		if len(p.distrusted) > 0 {
			s.RealPeers = 0
		}
	}
	return s
}

// attackerText says, for handouts, where mallory answers alice's DNS
// queries from and what her rogue pool presents.
func (p dnsParams) attackerText() string {
	var b strings.Builder
	switch p.position {
	case dnsRogueServer:
		b.WriteString("mallory (10.0.0.66) on contoso-lan as alice's DNS server (a rogue DHCP offer), answering pool01.contoso.com with 10.0.0.66")
	case dnsOnPath:
		b.WriteString("mallory (10.0.0.66) on a compromised contoso-lan switch, answering alice's queries to dns01 (10.0.0.53) for pool01.contoso.com first, with 10.0.0.66")
	case dnsBlind:
		b.WriteString("mallory (10.0.0.66) on contoso-lan, off the path, flooding alice with forged answers from dns01's address (query IDs 1-16, port 53000) saying pool01.contoso.com is 10.0.0.66")
	}
	fmt.Fprintf(&b, "; there she plays the pool on %d with %s, and a plaintext trap on %d", portTLS, p.cert.text(pool01Name), portPlain)
	if p.trustMallory {
		b.WriteString("; alice's trust store includes her Mallory Root CA, whose OCSP responder she runs on 10.0.0.66")
	}
	return b.String()
}

// topologyConfig is the declared topology: the contoso preset, with the
// stolen certificate mallory presents revoked at build time when the spec
// says so (as mitmParams.topologyConfig does), whatever her position.
func (p dnsParams) topologyConfig() contoso.Config {
	cfg := p.topology
	if p.cert.source == certStolen && p.cert.revoked {
		cfg.Revoked = append(slices.Clone(cfg.Revoked), contoso.Revocation{Cert: p.cert.holder, Reason: pki.ReasonKeyCompromise})
	}
	return cfg
}

// dnsRun is one run of a client-side scenario: what it set up and what
// it observes after alice is done.
type dnsRun struct {
	p       dnsParams
	env     *lab.Env
	c       *contoso.Deployment
	proxies []*attacker.Proxy
	// resolver is alice's: mallory's rogue server's client, or the
	// topology's (asking dns01).
	resolver *dns.Resolver
	rogue    *attacker.RogueDNS     // dnsRogueServer, unless silent or hanging
	spoofer  *attacker.DNSSpoofer   // dnsOnPath, unless silent
	blind    *attacker.BlindSpoofer // dnsBlind, unless silent
	race     *dnsBlindRace          // with blind
}

// run puts mallory in position, has alice send dave a canary, and records
// what mallory's DNS did, what alice's resolver refused, how alice
// connected or why she refused, what mallory read and whether dave got the
// message.
func (p dnsParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topologyConfig().Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	malloryHost, malloryNIC, err := c.AttachHost("mallory", "contoso-lan", dnsMalloryAddr, false)
	if err != nil {
		return err
	}
	r := &dnsRun{p: p, env: env, c: c, resolver: c.Resolver("alice")}

	attackerCA := c.CA("attacker")
	var installed []*x509.Certificate
	if p.trustMallory {
		m := &mallory{host: malloryHost, nic: malloryNIC}
		stop, err := m.startCA(env)
		if err != nil {
			return err
		}
		defer stop()
		attackerCA = m.ca
		installed = append(installed, m.ca.Certificate())
	}
	if err := distrustRoots(env, c, attackerCA, p.distrusted); err != nil {
		return err
	}
	// mallory's pool: TLS on 5061, and a plaintext trap on 5060.
	certs, ca, err := p.cert.build(certWorld{env: env, c: c, server: contoso.Pool, mallory: attackerCA})
	if err != nil {
		return err
	}
	tlsSide := attacker.VictimTLS{Certs: certs, KeyLogWriter: env.KeyLog}
	if p.offer != nil {
		tlsSide = p.offer.victim(certs, env.KeyLog)
	}
	if p.cert.revoked && p.cert.source != certStolen {
		if err := revokeCert(env, ca, certs, contoso.Pool); err != nil {
			return err
		}
	}
	for _, side := range []struct {
		port   uint16
		victim attacker.VictimSide
	}{{contoso.PortSIPTLS, tlsSide}, {portPlain, attacker.VictimPlain{}}} {
		px, err := attacker.NewProxy(attacker.ProxyConfig{
			// A real victim program sends a canary line, not SIP: relayed raw.
			Host: malloryHost, Port: side.port, SIP: env.RealPeers.Victim == "", Victim: sabotagedVictim(env, side.victim), Upstream: attacker.SIPResponder{},
		})
		if err != nil {
			return err
		}
		if err := px.Start(ctx); err != nil {
			return err
		}
		defer px.Close()
		r.proxies = append(r.proxies, px)
	}

	cfg, err := c.ClientConfig("alice", "alice@contoso.com", installed...)
	if err != nil {
		return err
	}
	cfg.Timeout = dnsClientTimeout
	switch p.position {
	case dnsRogueServer:
		stop, err := r.startRogue(ctx, malloryHost)
		if err != nil {
			return err
		}
		defer stop()
		cfg.Resolver = r.resolver
	case dnsOnPath:
		if !spooferSilent(env) {
			if r.spoofer, err = attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{
				Forgery:     attacker.DNSForgery{Names: []string{contoso.Pool}, A: dnsMalloryAddr.Addr()},
				Servers:     []netip.Addr{c.Host("dns01").Addr()},
				HoldQueries: dnsQueryHold,
			}); err != nil {
				return err
			}
			defer r.spoofer.AttachSegmentVia(c.Segment("contoso-lan"), malloryNIC)()
		}
	case dnsBlind:
		if !spooferSilent(env) {
			stop, err := r.startBlind(ctx, malloryHost)
			if err != nil {
				return err
			}
			defer stop()
		}
	}
	if env.RealPeers.Victim != "" {
		v, err := realVictimSends(ctx, env, c, netip.AddrPort{}, cfg.Resolver, installed...)
		r.awaitGenuine(ctx)
		if r.blind != nil {
			_ = r.race.stop()
		}
		if err != nil {
			return err
		}
		r.noteDNS()
		r.observeRealVictim(ctx, v)
		return context.Cause(ctx)
	}
	client, err := sip.NewClient(cfg)
	if err != nil {
		return err
	}
	canary := env.NewCanary("alice")
	res, sendErr := client.SendMessage(ctx, dnsDave, fmt.Sprintf("alice to %s: code word %s", dnsDave, canary))
	r.awaitGenuine(ctx)
	if r.blind != nil {
		// mallory floods until alice is done: she knows when alice looks
		// up (she sent her the meeting invite), not what alice asks.
		if err := r.race.stop(); err != nil && ctx.Err() == nil {
			return fmt.Errorf("scenarios: mallory's flood: %w", err)
		}
	}
	r.noteDNS()
	r.noteResolverRefusals(res)
	r.observe(ctx, canary, res, sendErr)
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// dnsClientTimeout bounds each step of alice's client (a lookup, a
// connection with its handshake, a transaction). It matters when an
// endpoint of mallory's hangs (the proxy-hangs sabotage): alice gives up
// on it, and after a plaintext fallback on her second one, within the
// runner's deadline. It exceeds the revocation bound, since a handshake
// includes a revocation check, which on an impaired network may wait
// for lost packets.
const dnsClientTimeout = 10 * time.Second

// dnsQueryHold is how long an on-path mallory holds back each query she
// answers before passing it on (attacker.DNSSpoofConfig.HoldQueries): her
// forgery keeps its lead over the real answer on a network that reorders
// or jitters frames by less (--impair), and the real answer still comes,
// for a resolver that drops the forgery.
const dnsQueryHold = 50 * time.Millisecond

// dnsRogueTimeout and dnsRogueRetries are the resolver alice got from the
// rogue DHCP offer: one second per try, two retries, so a lost query
// or answer costs a second. They matter when mallory's server does not
// answer (the proxy-hangs and spoofer-silent sabotages): alice then gives
// up on both SRV records within 6 s.
const (
	dnsRogueTimeout = time.Second
	dnsRogueRetries = 2
)

// startRogue starts mallory's name server on her port 53 as the run's
// sabotage has it, and gives alice a resolver asking it. stop stops the
// server and waits for it.
func (r *dnsRun) startRogue(ctx context.Context, mallory *netsim.Host) (stop func(), err error) {
	me := dnsMalloryAddr.Addr()
	res, err := dns.NewResolver(dns.ResolverConfig{
		Net: r.c.Host("alice"), Servers: []netip.AddrPort{netip.AddrPortFrom(me, 53)},
		Timeout: dnsRogueTimeout, Retries: dnsRogueRetries,
	})
	if err != nil {
		return nil, err
	}
	r.resolver = res
	var handler miekg.Handler
	switch r.env.Sabotage() {
	case lab.SabotageSpooferSilent:
		return func() {}, nil // no server: alice's queries go unanswered
	case lab.SabotageProxyHangs:
		handler = miekg.HandlerFunc(func(miekg.ResponseWriter, *miekg.Msg) {}) // reads, never answers
	case lab.SabotageProxyRefuses:
		r.rogue = attacker.NewRogueDNS(attacker.DNSForgery{}) // forges nothing: REFUSED
		handler = r.rogue
	default:
		r.rogue = attacker.NewRogueDNS(attacker.DNSForgery{
			Names: []string{"_sip._tls.contoso.com", contoso.Pool}, A: me, SRVTarget: contoso.Pool, SRVPort: contoso.PortSIPTLS,
		})
		handler = r.rogue
	}
	pc, err := mallory.ListenPacket("udp", ":53")
	if err != nil {
		return nil, err
	}
	l, err := mallory.Listen("tcp", ":53")
	if err != nil {
		pc.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = dns.Serve(sctx, handler, pc, l) }()
	return func() { cancel(); <-done }, nil
}

// startBlind starts the blind race: dns01's slow answer for pool01
// (dnsBlindRace) and mallory's flood, which runs until race.stop.
func (r *dnsRun) startBlind(ctx context.Context, mallory *netsim.Host) (stop func(), err error) {
	dns01 := r.c.Host("dns01")
	if r.blind, err = attacker.NewBlindSpoofer(attacker.BlindSpoofConfig{
		NIC: mallory.NICs()[0], Victim: r.c.Host("alice").Addr(), Server: netip.AddrPortFrom(dns01.Addr(), 53),
		Name: contoso.Pool, Forgery: attacker.DNSForgery{Names: []string{contoso.Pool}, A: dnsMalloryAddr.Addr()},
		FirstTXID: dnsBlindFirstTXID, TXIDs: dnsBlindTXIDs, FirstPort: dnsBlindPort, Rounds: -1,
	}); err != nil {
		return nil, err
	}
	r.race = newDNSBlindRace(r.c.Segment("contoso-lan"), dns01, r.c.Host("alice"), r.blind.GuessSpace())
	remove := r.race.attach()
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.blind.Run(fctx) }()
	r.race.stop = sync.OnceValue(func() error {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return err // it ended on its own: resolving alice's MAC failed
		}
		return nil
	})
	return func() { _ = r.race.stop(); remove() }, nil
}

// noteDNS records what mallory's DNS did: the rogue server's answers
// (alice's queries reached mallory: in position) or refusals, the on-path
// spoofer's and the blind flood's forged answers (attempts).
func (r *dnsRun) noteDNS() {
	ev := r.env.Evidence
	me := dnsMalloryAddr.Addr()
	if r.rogue != nil {
		for _, q := range r.rogue.Queries() {
			if q.Forged {
				ev.Reached("mallory", lab.MilestoneInPosition, "answered %s's query %s %s (ID %d) with %v", q.Client.Addr(), q.Type, q.Name, q.ID, me)
			} else {
				ev.Notef("mallory", "answered %s's query %s %s (ID %d) REFUSED", q.Client.Addr(), q.Type, q.Name, q.ID)
			}
		}
	}
	if r.spoofer != nil {
		for _, q := range r.spoofer.Questions() {
			if q.Forged {
				ev.Reached("mallory", lab.MilestoneAttempted, "answered %s's query %s %s (ID %d) with %v", q.Client.Addr(), q.Type, q.Name, q.ID, me)
			}
		}
	}
	if r.blind != nil && r.blind.Report().Rounds > 0 {
		ev.Reached("mallory", lab.MilestoneAttempted, "flooded alice with forged answers for %s from dns01's address, %d guesses of query ID and port per round, until she was done",
			contoso.Pool, r.blind.GuessSpace())
	}
}

// noteResolverRefusals records what alice's resolver refused, from its own
// record of dropped datagrams and, for forgeries sent to a port no query of
// hers waited on, from the blind race's view of her NIC: a forged answer
// DNSSEC validation failed (dnssec-validation), forged answers whose query
// ID or port missed her random ones (dns-randomization, when it is on).
// Then, when she took a forged answer, that mallory presented it.
func (r *dnsRun) noteResolverRefusals(res *sip.Result) {
	ev := r.env.Evidence
	randomised := r.env.Defenses.DNSRandomization
	var txidMissed []dns.DroppedAnswer
	noteDNSSECDrops(r.env, "alice", r.resolver)
	for _, d := range r.resolver.Dropped() {
		if d.Reason == dns.DropTXIDMismatch && randomised && forgedPool(d.Msg) {
			txidMissed = append(txidMissed, d)
		}
	}
	if r.race != nil && randomised {
		if q, ok := r.race.missed(); ok {
			ev.Refused("alice", lab.DefenseDNSRandomization, "forged answers for %s from %v, to port %d with query IDs %d-%d, reached no socket: "+
				"its resolver asked from random port %d with random query ID %d", contoso.Pool, q.server, dnsBlindPort,
				dnsBlindFirstTXID, dnsBlindFirstTXID+dnsBlindTXIDs-1, q.port, q.id)
		}
	}
	if len(txidMissed) > 0 {
		d := txidMissed[0]
		ev.Refused("alice", lab.DefenseDNSRandomization, "resolver dropped the forged answers from %v to its port %d whose query IDs missed the random ID %d of its query %s %s (query ID mismatch)",
			d.From, d.Port, d.QueryID, miekg.Type(d.QueryType), dnsName(d.QueryName))
	}
	if r.p.position != dnsRogueServer && slices.ContainsFunc(res.Attempts, func(a sip.Attempt) bool { return a.Addr.Addr() == dnsMalloryAddr.Addr() }) {
		ev.Reached("mallory", lab.MilestonePresented, "her forged answer was taken: alice's resolver gave %s as %v", contoso.Pool, dnsMalloryAddr.Addr())
	}
}

// forgedPool reports whether m answers pool01 with mallory's address.
func forgedPool(m *miekg.Msg) bool {
	if m == nil {
		return false
	}
	for _, rr := range m.Answer {
		if a, ok := rr.(*miekg.A); ok && a.A.Equal(dnsMalloryAddr.Addr().AsSlice()) {
			return true
		}
	}
	return false
}

// dnsName drops a name's trailing dot.
func dnsName(name string) string {
	if len(name) > 1 && name[len(name)-1] == '.' {
		return name[:len(name)-1]
	}
	return name
}

// observeRealVictim records, for alice's real client program, what
// mallory's pool did with its connections, what she read, and whether the
// program completed a handshake with her certificate or refused it with
// an alert (credited as for the MITM family). fe01 reads SIP, not the
// program's canary line: delivery is not judged.
func (r *dnsRun) observeRealVictim(ctx context.Context, v *realVictim) {
	ev := r.env.Evidence
	me := dnsMalloryAddr.Addr()
	sessions := r.noteSessions(ctx, "alice's "+v.res.Program())
	ev.Notef("fe01", "the simulated fe01 reads SIP, not a real client's canary line: delivery is not judged")
	found, bytes := 0, int64(0)
	for _, px := range r.proxies {
		rep := px.Report([]string{v.canary.Token})
		found += len(rep.Found)
		bytes += rep.CapturedBytes
	}
	ev.CanariesObtained("mallory", min(found, 1), 1, fmt.Sprintf("%d B alice's real client sent to %v", bytes, me))
	for _, s := range sessions {
		switch vs := s.VictimSide; {
		case vs.TLS && vs.Completed && vs.Certificate != nil:
			ev.IdentityAccepted("alice", vs.ServerName, fmt.Sprintf("%s completed the %s handshake with mallory's machine %v, certificate %s issued by %s",
				v.res.Program(), vs.Version, me, vs.Certificate.Subject, vs.Certificate.Issuer))
		case vs.Alert != nil:
			ev.RefusedByAlert("alice", "mallory", vs.Alert.Description, vs.Alert.Name, vs.Alert.Plaintext, v.res.Program(), v.diag)
		}
	}
}

// awaitGenuine waits, with mallory on the path and the run recorded
// (Env.Recorded), until dns01's own answers to the queries she forged for
// (held back dnsQueryHold) have crossed contoso-lan, or eventWait passes:
// the run's capture and timeline then show the genuine answer after the
// forgery, as a resolver met it (DNSSEC takes it; a plain stub has
// already taken the forgery). The answer changes no verdict, so an
// unrecorded run (a matrix cell) does not wait for it.
func (r *dnsRun) awaitGenuine(ctx context.Context) {
	if r.spoofer == nil || !r.env.Recorded() {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, eventWait)
	defer cancel()
	r.spoofer.AwaitGenuineAnswers(wctx)
}

// noteSessions waits for mallory's pool's sessions to end and records
// what each did with the connection of who ("alice", "alice's openssl").
func (r *dnsRun) noteSessions(ctx context.Context, who string) []attacker.Session {
	ev := r.env.Evidence
	sessions := endedSessions(ctx, r.proxies)
	for _, s := range sessions {
		line := fmt.Sprintf("%s (%v) connected to her pool at %v", who, s.Victim.Addr(), s.Dialled)
		v := s.VictimSide
		switch {
		case sabotaged(v.Err):
			// The attacker's own endpoint failed: no step of the attack.
			ev.At(s.Start).Notef("mallory", "%s, which failed: %s", line, v.Err)
		case v.Certificate != nil:
			ev.At(s.Start).Reached("mallory", lab.MilestonePresented, "%s and presented %s issued by %s (%s)", line, v.Certificate.Subject, v.Certificate.Issuer, v.Certificate.Source)
		default:
			ev.At(s.Start).Reached("mallory", lab.MilestoneInPosition, "%s in plaintext", line)
		}
	}
	return sessions
}

// observe records how alice's session went when mallory may have answered
// for pool01: mallory's pool's sessions, alice's revocation checks and
// connection, whether dave got the message, what mallory read, and last
// each failure of alice's client, as the defense's refusal when it was
// one.
func (r *dnsRun) observe(ctx context.Context, canary lab.Canary, res *sip.Result, sendErr error) {
	ev := r.env.Evidence
	r.noteSessions(ctx, "alice")
	r.c.NoteRevocations(ev, "alice")
	me := dnsMalloryAddr.Addr()
	if ci := res.Conn; ci.Addr.IsValid() {
		how := "plain TCP"
		if ci.TLS != nil {
			how = fmt.Sprintf("%s, server certificate %s issued by %s", ci.TLS.VersionName(), ci.TLS.PeerSubject, ci.TLS.PeerIssuer)
		}
		ev.Notef("alice", "connected to %s at %v over %s", ci.Target, ci.Addr, how)
		if ci.Addr.Addr() == me && ci.TLS != nil {
			ev.IdentityAccepted("alice", ci.Target, fmt.Sprintf("mallory's machine %v completed the TLS handshake with certificate %s issued by %s",
				ci.Addr, ci.TLS.PeerSubject, ci.TLS.PeerIssuer))
		}
	}
	if d, ok := findDelivery(r.c, "fe01", canary); ok {
		ev.SetService(lab.ServiceIntact)
		ev.At(d.Time).Notef("fe01", "%s", describeDelivery(d))
	} else {
		ev.SetService(lab.ServiceDenied)
		noteAnswer(r.env, "alice", "MESSAGE to "+dnsDave, sendErr)
	}
	found, bytes := 0, int64(0)
	for _, px := range r.proxies {
		rep := px.Report([]string{canary.Token})
		found += len(rep.Found)
		bytes += rep.CapturedBytes
	}
	ev.CanariesObtained("mallory", min(found, 1), 1, fmt.Sprintf("%d B alice sent to %v", bytes, me))
	// Last, why alice's client gave up on each server it tried: a TLS
	// handshake's error with mallory's machine is her defense's refusal
	// when it names one; with any other server it is only a note.
	for _, a := range res.Attempts {
		switch {
		case a.Err != nil && a.Transport == sip.TransportTLS && a.Addr.Addr() == me:
			line := fmt.Sprintf("%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
			if !r.p.offer.noteSuiteRefusal(ev, a.Err, line) {
				ev.NoteFailure("alice", a.Err, "%s", line)
			}
		case a.Err != nil && a.Transport == sip.TransportTLS && a.Addr.IsValid():
			ev.Notef("alice", "%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
		case a.Err != nil:
			ev.Notef("alice", "%v", a)
		}
	}
}

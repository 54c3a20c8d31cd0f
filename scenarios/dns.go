package scenarios

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// The dns family: mallory steers alice's client to her own machine
// (10.0.0.66 on contoso-lan) by answering the lookup of pool01.contoso.com
// herself, and plays the pool there. How she gets to answer (alice's
// configured name server, an on-path spoof of dns01's answer) and what she
// presents (a certificate from her own CA, one a trusted CA mis-issued, a
// plaintext trap) vary. alice's certificate checks decide; a hijack the
// checks stop costs availability, not confidentiality.

// dnsPosition is how mallory gets to answer alice's lookups.
type dnsPosition int

const (
	// dnsRogueServer: alice's configured name server is mallory's.
	dnsRogueServer dnsPosition = iota
	// dnsOnPath: mallory sees alice's queries to dns01 pass (a compromised
	// switch) and answers first.
	dnsOnPath
	// dnsBlind: mallory, off the path on contoso-lan, floods alice with
	// forged answers from dns01's address, guessing query IDs and ports.
	dnsBlind
)

// dnsParams declares one client-side scenario of the family.
type dnsParams struct {
	name     string
	labels   []lab.Label
	summary  string
	story    string
	expected lab.Verdict
	defenses func(*lab.Defenses)
	position dnsPosition
	// cert is the certificate mallory's pool presents (the catalog's
	// default is dnsForged). Mallory Root CA is the topology's attacker
	// CA here, which runs no revocation service.
	cert certSpec
}

// dnsForged is a certificate forged per SNI by Mallory Root CA.
var dnsForged = certSpec{source: certForged, issuer: issuerMallory}

var dnsMalloryAddr = netip.MustParsePrefix("10.0.0.66/24")

const dnsDave = "dave@contoso.com"

var (
	dnsRogue = dnsParams{
		name:    "dns/rogue-server",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMITM},
		summary: "alice's configured DNS server is mallory's: pool01 resolves to her machine",
		story: "A rogue DHCP offer made mallory's machine (10.0.0.66) alice's name server. It answers " +
			"_sip._tls.contoso.com with pool01.contoso.com and pool01.contoso.com with 10.0.0.66, where mallory " +
			"plays the pool with a certificate for pool01.contoso.com forged by her own CA. Alice sends " +
			"dave@contoso.com a canary. Her client validates the chain and must refuse the handshake: mallory " +
			"reads nothing, and alice loses her service.",
		expected: lab.Held, position: dnsRogueServer,
		cert: dnsForged,
	}
	dnsOnPathSpoof = dnsParams{
		name:    "dns/on-path-spoof",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMITM},
		summary: "mallory answers alice's query to dns01 first, from the path",
		story: "Mallory controls a switch on contoso-lan, sees alice's query to dns01 (10.0.0.53) for " +
			"pool01.contoso.com and answers it at once as dns01, with her own address 10.0.0.66; the real " +
			"answer arrives second and is ignored. She plays the pool with a certificate forged by her own CA. " +
			"Alice's certificate check must refuse it: service denied, nothing read.",
		expected: lab.Held, position: dnsOnPath,
		cert: dnsForged,
	}
	dnsHijackFallback = dnsParams{
		name:    "dns/hijack-plaintext-fallback",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPlaintext, lab.LabelMisconfig},
		summary: "after the DNS hijack alice's client refuses mallory's TLS, then falls back to plaintext to her",
		story: "The on-path DNS spoof of dns/on-path-spoof against a client allowed to fall back to plaintext " +
			"(TLSOnly off). Alice refuses mallory's forged certificate on 5061, then retries pool01.contoso.com " +
			"on port 5060 in the clear, still at mallory's address, and hands her the canary.",
		expected: lab.Broken,
		defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		position: dnsOnPath,
		cert:     dnsForged,
	}
	dnsHijackMisIssued = dnsParams{
		name:    "dns/hijack-mis-issued-cert",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI, lab.LabelMITM},
		summary: "after the DNS hijack mallory presents a certificate Contoso's CA mis-issued to her",
		story: "Mallory got Contoso Issuing CA 01 to issue her a certificate for pool01.contoso.com (a " +
			"mis-issuance the trust model names as its limit) and spoofs dns01's answer from the path. Alice's " +
			"client finds a valid chain, the right name and a good revocation status at 10.0.0.66, accepts " +
			"mallory as her pool and sends her the canary.",
		expected: lab.Broken, position: dnsOnPath, cert: misIssuedCert,
	}
	dnsBlindRandomised = dnsParams{
		name:    "dns/blind-spoof-randomised",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP},
		summary: "an off-path flood of forged answers misses a resolver with random IDs and ports",
		story: "Mallory, on contoso-lan but off the path between alice and dns01 (a switched LAN), cannot see " +
			"alice's query. Knowing when alice will look pool01.contoso.com up, she floods her with forged " +
			"answers from dns01's address: query IDs 1-16 on port 53000, 60 rounds, while dns01 takes 30 ms to " +
			"answer. Alice's resolver picks random query IDs and source ports (DNSRandomization): no forgery " +
			"matches, dns01's answer wins and dave gets the canary.",
		expected: lab.Held, position: dnsBlind,
		cert: dnsForged,
	}
	dnsBlindPredictable = dnsParams{
		name:    "dns/blind-spoof-predictable",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
		summary: "the off-path flood poisons a resolver with sequential IDs and a fixed port; TLS stops it",
		story: "The flood of dns/blind-spoof-randomised against a resolver with sequential query IDs and a " +
			"fixed source port (DNSRandomization off): a guess matches, alice's client resolves " +
			"pool01.contoso.com to mallory's 10.0.0.66 and meets her certificate forged by her own CA. The " +
			"poisoning succeeds; the certificate check must still refuse her (service denied, nothing read).",
		expected: lab.Held,
		defenses: func(d *lab.Defenses) { d.DNSRandomization = false },
		position: dnsBlind,
		cert:     dnsForged,
	}
	dnsDNSSEC = dnsParams{
		name:    "dns/dnssec-on-path-spoof",
		labels:  []lab.Label{lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
		summary: "the on-path spoof against a resolver that validates DNSSEC: the forgery is rejected",
		story: "The on-path spoof of dns/on-path-spoof against signed contoso.com zones and resolvers that " +
			"validate DNSSEC. Mallory's forged answer carries no valid signature; alice's resolver must reject " +
			"it with the exact validation error and take dns01's signed answer, so alice reaches the real " +
			"pool and dave gets the canary.",
		expected: lab.Held,
		defenses: func(d *lab.Defenses) { d.DNSSECValidation = true },
		position: dnsOnPath,
		cert:     dnsForged,
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
	return lab.Scenario{
		Name: p.name, Labels: slices.Clone(p.labels), Summary: p.summary, Story: p.story,
		Expected: p.expected, Attacker: p.attackerText(), Defenses: p.defenses, Topology: lab.ContosoConfig{}, Run: p.run,
	}
}

// run puts mallory in position, has alice send dave a canary, and records
// what mallory's DNS did, how alice connected or why she refused, what
// mallory read and whether dave got the message.
func (p dnsParams) run(ctx context.Context, env *lab.Env) error {
	c, err := lab.ContosoConfig{}.Build(ctx, env, env.Defenses)
	if err != nil {
		return err
	}
	defer c.Close()
	mallory, _, err := c.AttachHost("mallory", "contoso-lan", dnsMalloryAddr, false)
	if err != nil {
		return err
	}
	me := dnsMalloryAddr.Addr()

	// mallory's pool: TLS on 5061, and a plaintext trap on 5060.
	certs, ca, err := p.cert.build(certWorld{env: env, c: c, server: lab.ContosoPool, mallory: c.CA("attacker")})
	if err != nil {
		return err
	}
	if p.cert.revoked && p.cert.source != certStolen {
		if err := revokeCert(env, ca, certs, lab.ContosoPool); err != nil {
			return err
		}
	}
	var proxies []*attacker.Proxy
	for _, side := range []struct {
		port   uint16
		victim attacker.VictimSide
	}{{lab.PortSIPTLS, attacker.VictimTLS{Certs: certs, KeyLogWriter: env.KeyLog}}, {5060, attacker.VictimPlain{}}} {
		px, err := attacker.NewProxy(attacker.ProxyConfig{Host: mallory, Port: side.port, SIP: true, Victim: side.victim, Upstream: attacker.SIPResponder{}})
		if err != nil {
			return err
		}
		if err := px.Start(ctx); err != nil {
			return err
		}
		defer px.Close()
		proxies = append(proxies, px)
	}

	cfg, err := c.ClientConfig("alice", "alice@contoso.com")
	if err != nil {
		return err
	}
	var questions func() []attacker.DNSQuestion
	switch p.position {
	case dnsRogueServer:
		rogue := attacker.NewRogueDNS(attacker.DNSForgery{
			Names: []string{"_sip._tls.contoso.com", lab.ContosoPool}, A: me, SRVTarget: lab.ContosoPool, SRVPort: lab.PortSIPTLS,
		})
		pc, err := mallory.ListenPacket("udp", ":53")
		if err != nil {
			return err
		}
		l, err := mallory.Listen("tcp", ":53")
		if err != nil {
			return err
		}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = rogue.Serve(sctx, pc, l) }()
		defer func() { stop(); pc.Close(); l.Close(); <-done }()
		r, err := dns.NewResolver(dns.ResolverConfig{Net: c.Host("alice"), Servers: []netip.AddrPort{netip.AddrPortFrom(me, 53)}})
		if err != nil {
			return err
		}
		cfg.Resolver = r
		questions = rogue.Queries
	case dnsOnPath:
		spoof, err := attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{
			Forgery: attacker.DNSForgery{Names: []string{lab.ContosoPool}, A: me},
			Servers: []netip.Addr{c.Host("dns01").Addr()},
		})
		if err != nil {
			return err
		}
		defer spoof.AttachSegment(c.Segment("contoso-lan"))()
		questions = spoof.Questions
	}
	var flood chan error
	var blind *attacker.BlindSpoofer
	var stopBlind context.CancelFunc
	if p.position == dnsBlind {
		lan := c.Segment("contoso-lan")
		defer slowAnswers(lan, c.Host("dns01").Addr(), dnsSlowAnswer)()
		if blind, err = attacker.NewBlindSpoofer(attacker.BlindSpoofConfig{
			NIC: mallory.NICs()[0], Victim: c.Host("alice").Addr(), Server: netip.AddrPortFrom(c.Host("dns01").Addr(), 53),
			Name: lab.ContosoPool, Forgery: attacker.DNSForgery{Names: []string{lab.ContosoPool}, A: me},
			FirstTXID: 1, TXIDs: 16, Rounds: 500, Interval: time.Millisecond,
		}); err != nil {
			return err
		}
		// mallory floods until alice is done (she knows when alice looks
		// up: she sent her the meeting invite).
		floodCtx, stopFlood := context.WithCancel(ctx)
		defer stopFlood()
		flood = make(chan error, 1)
		go func() { flood <- blind.Run(floodCtx); stopFlood() }()
		stopBlind = stopFlood
		questions = func() []attacker.DNSQuestion { return nil }
	}
	client, err := sip.NewClient(cfg)
	if err != nil {
		return err
	}
	canary := env.NewCanary("alice")
	res, sendErr := client.SendMessage(ctx, dnsDave, fmt.Sprintf("alice to %s: code word %s", dnsDave, canary))
	if blind != nil {
		stopBlind()
		if err := <-flood; err != nil && ctx.Err() != nil {
			return err
		}
		r := blind.Report()
		env.Evidence.Notef("mallory", "flooded alice with forged answers for %s from dns01's address, %d guesses of query ID and port per round, until she was done",
			lab.ContosoPool, r.GuessSpace)
	}

	for _, q := range questions() {
		if q.Forged {
			env.Evidence.Notef("mallory", "answered %s's query %s %s (ID %d) with 10.0.0.66", q.Client.Addr(), q.Type, q.Name, q.ID)
		}
	}
	return noteHijack(env, c, canary, res, sendErr, proxies)
}

// noteHijack records how alice's session went when mallory may have
// answered for pool01: her connection, whether dave got the message, what
// mallory read, and last each refusal of alice's client.
func noteHijack(env *lab.Env, c *lab.Contoso, canary lab.Canary, res *sip.Result, sendErr error, proxies []*attacker.Proxy) error {
	me := dnsMalloryAddr.Addr()
	ci := res.Conn
	if ci.Addr.IsValid() {
		how := "plain TCP"
		if ci.TLS != nil {
			how = fmt.Sprintf("%s, server certificate %s issued by %s", ci.TLS.VersionName(), ci.TLS.PeerSubject, ci.TLS.PeerIssuer)
		}
		env.Evidence.Notef("alice", "connected to %s at %v over %s", ci.Target, ci.Addr, how)
		if ci.Addr.Addr() == me && ci.TLS != nil {
			env.Evidence.IdentityAccepted("alice", ci.Target, fmt.Sprintf("mallory's machine %v completed the TLS handshake with certificate %s issued by %s",
				ci.Addr, ci.TLS.PeerSubject, ci.TLS.PeerIssuer))
		}
	}
	if d, ok := findDelivery(c, "fe01", canary); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.Notef("fe01", "%s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		noteAnswer(env, "alice", "MESSAGE to "+dnsDave, sendErr)
	}
	found, bytes := 0, int64(0)
	for _, px := range proxies {
		rep := px.Report([]string{canary.Token})
		found += len(rep.Found)
		bytes += rep.CapturedBytes
	}
	if found > 1 {
		found = 1
	}
	env.Evidence.CanariesObtained("mallory", found, 1, fmt.Sprintf("%d B alice sent to 10.0.0.66", bytes))
	// Last, why alice's client gave up on each server it tried: the
	// defense's exact reason.
	for _, a := range res.Attempts {
		if a.Err != nil && a.Transport == sip.TransportTLS && a.Addr.IsValid() {
			env.Evidence.Notef("alice", "%v, in the TLS handshake with %s (%v)", a.Err, a.Target, a.Addr)
		} else if a.Err != nil {
			env.Evidence.Notef("alice", "%v", a)
		}
	}
	return nil
}

// dnsSlowAnswer is how long dns01 takes to answer in the blind spoofing
// scenarios (it asks upstream): the window a blind flood must hit.
const dnsSlowAnswer = 30 * time.Millisecond

// slowAnswers delays every UDP answer from server's port 53 on seg by d:
// the hook holds the frame and injects it again later, once.
func slowAnswers(seg *netsim.Segment, server netip.Addr, d time.Duration) (remove func()) {
	var mu sync.Mutex
	released := map[string]bool{}
	var timers []*time.Timer
	unhook := seg.AddHook(netsim.HookFunc(func(f *netsim.Frame) netsim.HookAction {
		if !udpFrom(f.Data, server, 53) {
			return netsim.Pass
		}
		key := string(f.Data)
		mu.Lock()
		defer mu.Unlock()
		if released[key] {
			delete(released, key)
			return netsim.Pass
		}
		frame := slices.Clone(f.Data)
		timers = append(timers, time.AfterFunc(d, func() {
			mu.Lock()
			released[key] = true
			mu.Unlock()
			seg.Inject(frame)
		}))
		return netsim.Drop
	}))
	return func() {
		unhook()
		mu.Lock()
		defer mu.Unlock()
		for _, t := range timers {
			t.Stop()
		}
	}
}

// udpFrom reports whether an Ethernet frame carries IPv4 UDP from
// src:port.
func udpFrom(frame []byte, src netip.Addr, port uint16) bool {
	const eth = 14
	if len(frame) < eth+28 || frame[12] != 0x08 || frame[13] != 0x00 || frame[eth+9] != 17 {
		return false
	}
	ihl := int(frame[eth]&0x0f) * 4
	if len(frame) < eth+ihl+8 || netip.AddrFrom4([4]byte(frame[eth+12:eth+16])) != src {
		return false
	}
	return uint16(frame[eth+ihl])<<8|uint16(frame[eth+ihl+1]) == port
}

package scenarios

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/actors/linemsg"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// eavesdropMessages is how many instant messages alice sends, one canary
// each, one connection each.
const eavesdropMessages = 2

// eavesdropParams declares one scenario of the eavesdrop family: alice sends
// instant messages to pool01 across the office LAN while a passive listener
// on a mirror port of the LAN switch records every frame.
type eavesdropParams struct {
	name     string
	labels   []lab.Label
	summary  string
	story    string
	expected lab.Verdict
	// stoppedBy is the decisive defense when expected is held.
	stoppedBy string
	// defenses changes the hardened defaults (Scenario.Defenses). The
	// transport follows the tls-only switch of the run (Env.Defenses):
	// on, alice and pool01 speak TLS 1.3 on port 5061, the client
	// verifying the chain to the Contoso Enterprise Root CA and the name
	// pool01.contoso.com; off, they speak plain TCP on port 5060, as a
	// deployment without TLS does. So the switch decides the verdict, and
	// the defense matrix's tls-only column shows it.
	defenses func(*lab.Defenses)
}

var (
	eavesdropTLS = eavesdropParams{
		name:    "eavesdrop/tls",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
		summary: "a listener on alice's LAN sees only TLS 1.3 ciphertext",
		story: "Alice (10.0.0.10) sends two instant messages to her Front End pool, pool01.contoso.com " +
			"(10.0.0.20), across the Contoso office LAN. An eavesdropper on a mirror port of the LAN switch " +
			"records every frame and reassembles the TCP streams, wanting to read the messages. " +
			"Defenses in force: TLS 1.3 on port 5061; alice's client verifies the certificate chain to the " +
			"Contoso Enterprise Root CA and the name pool01.contoso.com. The eavesdropper should learn the " +
			"server name, version and cipher suite from the handshake, and nothing of the messages.",
		expected:  lab.Held,
		stoppedBy: lab.DefenseTLSOnly,
	}
	eavesdropPlaintext = eavesdropParams{
		name:    "eavesdrop/plaintext",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelPlaintext, lab.LabelMisconfig},
		summary: "with TLS switched off, a listener on the LAN reads alice's messages",
		story: "The same office LAN as eavesdrop/tls: alice (10.0.0.10) sends two instant messages to " +
			"pool01.contoso.com (10.0.0.20) while an eavesdropper on a mirror port of the LAN switch " +
			"records every frame, wanting to read them. Defense switched off: client and pool talk plain " +
			"TCP on port 5060, as a legacy or misconfigured deployment would. Nothing stands between the " +
			"eavesdropper and the message bodies.",
		expected: lab.Broken,
		defenses: func(d *lab.Defenses) { d.TLSOnly = false },
	}
)

// eavesdropFamily returns the family's scenarios in catalog order.
func eavesdropFamily() []lab.Scenario {
	return []lab.Scenario{eavesdropTLS.scenario(), eavesdropPlaintext.scenario()}
}

// scenario declares p as a lab scenario.
func (p eavesdropParams) scenario() lab.Scenario {
	return lab.Scenario{
		Name:      p.name,
		Labels:    slices.Clone(p.labels),
		Summary:   p.summary,
		Story:     p.story,
		Expected:  p.expected,
		StoppedBy: p.stoppedBy,
		Attacker:  "an eavesdropper on a mirror port of the office LAN's switch (segment lan), passive: it records every frame between alice (10.0.0.10) and pool01 (10.0.0.20) and sends nothing",
		Defenses:  p.defenses,
		Topology:  officeLANTopology{},
		Run:       p.run,
	}
}

// run plays the scenario. Evidence, in order: what alice sent and how, what
// pool01 received (which sets the service), the frames the eavesdropper
// captured of alice's connections (its position), what it learned of each
// TLS handshake, the refusal it met (alice's connections carried only TLS
// records, whose keys it lacks), and last its canary count. Under any
// sabotage the tap sees nothing.
func (p eavesdropParams) run(ctx context.Context, env *lab.Env) error {
	office, err := newOfficeLAN(env)
	if err != nil {
		return err
	}
	useTLS := env.Defenses.TLSOnly
	eve := eavesdrop.New(eavesdrop.Config{})
	if !tapSilenced(env) {
		defer office.lan.AddTap(eve)()
	}

	canaries := make([]lab.Canary, eavesdropMessages)
	bodies := make([]string, eavesdropMessages)
	for i := range canaries {
		canaries[i] = env.NewCanary("alice")
		bodies[i] = fmt.Sprintf("alice@contoso.com to bob@contoso.com: message %d, code word %s", i+1, canaries[i])
	}

	var serverTLS *tls.Config
	client := &clientTLS{}
	port := portPlain
	if useTLS {
		if serverTLS, err = client.configure(env); err != nil {
			return err
		}
		port = portTLS
	}
	serverAddr := netip.AddrPortFrom(pool01Addr.Addr(), uint16(port)).String()

	ln, err := office.pool01.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return fmt.Errorf("scenarios: pool01 listening on port %d: %w", port, err)
	}
	srv := linemsg.NewServer(linemsg.ServerConfig{TLS: serverTLS, Now: env.World.Now})
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()

	sent, sendErr := 0, error(nil)
	sender := linemsg.NewClient(linemsg.ClientConfig{TLS: client.config, Now: env.World.Now})
	for i, body := range bodies {
		if sendErr = send(ctx, office, sender, serverAddr, body); sendErr != nil {
			sendErr = fmt.Errorf("scenarios: alice sending message %d to %s (%s): %w", i+1, pool01Name, serverAddr, sendErr)
			break
		}
		sent++
	}

	// Stop the server: with its listener closed it finishes the exchanges
	// in progress and returns; if the run is being stopped, cancel them.
	ln.Close()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		stopServe()
		serveErr = <-served
	}

	how := "over plain TCP"
	if useTLS {
		how = "over " + client.summary()
	}
	env.Evidence.Notef("alice", "sent %d of %d messages to %s (%s) %s", sent, len(bodies), pool01Name, serverAddr, how)

	received := srv.Received()
	delivered := 0
	for _, b := range bodies {
		if slices.Contains(received, b) {
			delivered++
		}
	}
	env.Evidence.Notef("pool01", "received %d of %d messages", delivered, len(bodies))
	for _, err := range srv.Errors() {
		env.Evidence.Notef("pool01", "exchange failed: %v", err)
	}
	if delivered == len(bodies) {
		env.Evidence.SetService(lab.ServiceIntact)
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
	}

	tokens := make([]string, len(canaries))
	for i, c := range canaries {
		tokens[i] = c.Token
	}
	report := eve.Report(tokens)
	legs := tapLegs(report, segmentHostNames(office.lan), func(eavesdrop.ConnInfo) bool { return true })
	notePosition(env, legs)
	recordTLSFacts(env, report)
	notePassiveRefusals(env, legs, nil)
	env.Evidence.CanariesObtained("eavesdropper", len(report.Found), len(canaries),
		lab.FormatBytes(report.PayloadBytes)+" of captured TCP payload")

	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if sendErr != nil {
		return sendErr
	}
	if serveErr != nil {
		return fmt.Errorf("scenarios: pool01 serving: %w", serveErr)
	}
	return nil
}

// send dials pool01 from alice and delivers one message.
func send(ctx context.Context, office *officeLAN, c *linemsg.Client, serverAddr, body string) error {
	conn, err := office.alice.DialContext(ctx, "tcp", serverAddr)
	if err != nil {
		return err
	}
	return c.Send(ctx, conn, body)
}

// recordTLSFacts records what the eavesdropper read in each TLS handshake.
func recordTLSFacts(env *lab.Env, r eavesdrop.Report) {
	if r.Malformed > 0 {
		env.Evidence.Notef("eavesdropper", "%d of %d frames did not decode", r.Malformed, r.Frames)
	}
	if len(r.TLS) == 0 {
		env.Evidence.Notef("eavesdropper", "no TLS handshake in %d TCP stream directions", r.Streams)
		return
	}
	for _, t := range r.TLS {
		env.Evidence.Notef("eavesdropper", "TLS %s -> %s: %s", t.Client, t.Server, describeTLS(t))
	}
}

// tapLeg is one host's connections to one server address, as a passive
// tap captured them, in the order first seen.
type tapLeg struct {
	client, server string         // host names, or addresses when unknown
	addr           netip.AddrPort // the server's address
	conns          []eavesdrop.ConnInfo
}

// tapLegs groups the captured connections that carries selects (those
// that carried the victim's message) by client host and server address,
// naming hosts by names.
func tapLegs(r eavesdrop.Report, names map[netip.Addr]string, carries func(eavesdrop.ConnInfo) bool) []tapLeg {
	name := func(a netip.Addr) string {
		if n, ok := names[a]; ok {
			return n
		}
		return a.String()
	}
	var legs []tapLeg
	for _, c := range r.Conns {
		if !carries(c) {
			continue
		}
		i := slices.IndexFunc(legs, func(l tapLeg) bool { return l.client == name(c.Client.Addr()) && l.addr == c.Server })
		if i < 0 {
			legs = append(legs, tapLeg{client: name(c.Client.Addr()), server: name(c.Server.Addr()), addr: c.Server})
			i = len(legs) - 1
		}
		legs[i].conns = append(legs[i].conns, c)
	}
	return legs
}

// segmentHostNames maps every address on seg to its host's name.
func segmentHostNames(seg *netsim.Segment) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for _, nic := range seg.NICs() {
		out[nic.Addr()] = nic.Host().Name()
	}
	return out
}

// notePosition records the eavesdropper's position: for each leg, the
// frames it captured of the victim's connections.
func notePosition(env *lab.Env, legs []tapLeg) {
	for _, l := range legs {
		frames := 0
		for _, c := range l.conns {
			frames += c.Frames
		}
		env.Evidence.Reached("eavesdropper", lab.MilestoneInPosition, "captured %d frames of %s's %s to %s (%v)",
			frames, l.client, tapCount(len(l.conns), "connection"), l.server, l.addr)
	}
}

// tapStolenKey is a server private key the passive attacker holds, and what
// it decrypted with it.
type tapStolenKey struct {
	holder string     // the host whose key it is
	addr   netip.Addr // the holder's address on the tapped segment
	report attacker.KeyReport
}

// notePassiveRefusals records the protection the tap met on each leg
// whose connections all carried nothing but TLS records: the keys the
// attacker lacks. For a leg to the holder of a stolen key, whose every
// session negotiated ephemeral (ECDHE) key exchange so that the key
// decrypted none, it is the holder's forward-secrecy-only; for any other
// leg, the client's tls-only. A leg that carried anything else, or whose
// session the stolen key decrypted, gets no refusal: the canary count
// says what the attacker read.
func notePassiveRefusals(env *lab.Env, legs []tapLeg, key *tapStolenKey) {
	for _, l := range legs {
		if !slices.ContainsFunc(l.conns, func(c eavesdrop.ConnInfo) bool { return c.TLS != nil }) ||
			slices.ContainsFunc(l.conns, func(c eavesdrop.ConnInfo) bool { return !c.OnlyTLS }) {
			continue
		}
		sessions := tapSessions(l.conns)
		if key != nil && l.addr.Addr() == key.addr {
			if tapEphemeralOnly(l.conns, key.report) {
				env.Evidence.Refused(key.holder, lab.DefenseForwardSecrecyOnly,
					"negotiated ephemeral (ECDHE) key exchange with %s on %s to %v, %s; the stolen RSA key does not decrypt it",
					l.client, tapCount(len(l.conns), "connection"), l.addr, sessions)
			}
			continue
		}
		env.Evidence.Refused(l.client, lab.DefenseTLSOnly,
			"sent and received only TLS records on %s to %s (%v), %s; the eavesdropper holds no key for them",
			tapCount(len(l.conns), "connection"), l.server, l.addr, sessions)
	}
}

// tapEphemeralOnly reports whether the stolen key decrypted none of conns
// because each negotiated ephemeral key exchange (an ECDHE suite, or TLS
// 1.3, whose key exchange always is).
func tapEphemeralOnly(conns []eavesdrop.ConnInfo, r attacker.KeyReport) bool {
	for _, c := range conns {
		i := slices.IndexFunc(r.Conns, func(d attacker.DecryptResult) bool { return d.Client == c.Client && d.Server == c.Server })
		if i < 0 {
			return false
		}
		d := r.Conns[i]
		if d.Decrypted || !errors.Is(d.Error, attacker.ErrEphemeralKeyExchange) && !errors.Is(d.Error, attacker.ErrTLS13) {
			return false
		}
	}
	return true
}

// tapSessions lists the distinct versions and suites the connections'
// ServerHellos chose, as the tap read them: "TLS 1.3
// TLS_AES_128_GCM_SHA256".
func tapSessions(conns []eavesdrop.ConnInfo) string {
	var out []string
	for _, c := range conns {
		s := "no ServerHello"
		if t := c.TLS; t != nil && t.ServerHello {
			s = t.Version + " " + t.CipherSuite
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// tapCount says "1 connection", "2 connections".
func tapCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// describeTLS says what a passive observer learned from one handshake, e.g.
// "TLS 1.3, TLS_AES_128_GCM_SHA256, SNI pool01.contoso.com".
func describeTLS(t eavesdrop.TLSStreamInfo) string {
	var facts []string
	if t.ServerHello {
		facts = append(facts, t.Version, t.CipherSuite)
	} else {
		facts = append(facts, "no ServerHello")
	}
	switch {
	case !t.ClientHello:
		facts = append(facts, "no ClientHello")
	case t.SNI == "":
		facts = append(facts, "no SNI")
	default:
		facts = append(facts, "SNI "+t.SNI)
	}
	for _, a := range t.ClientAlerts {
		facts = append(facts, "client alert "+a)
	}
	for _, a := range t.ServerAlerts {
		facts = append(facts, "server alert "+a)
	}
	return strings.Join(facts, ", ")
}

// clientTLS is alice's TLS configuration (nil config: plain TCP) and what
// its handshakes established, recorded from VerifyConnection, which runs
// after the standard chain and hostname checks have passed.
type clientTLS struct {
	config *tls.Config

	mu     sync.Mutex
	states []tls.ConnectionState
}

// configure sets up the TLS defense: the Contoso Enterprise Root CA issues
// pool01's certificate, pool01 serves it with TLS 1.3 only, and alice's
// client trusts only that root, checks the name pool01.contoso.com and the
// validity period against the World's clock, and logs its secrets to
// env.KeyLog. It returns pool01's config.
func (c *clientTLS) configure(env *lab.Env) (*tls.Config, error) {
	ca, err := newContosoPKI(env)
	if err != nil {
		return nil, err
	}
	c.config = &tls.Config{
		RootCAs:          ca.root.Pool(),
		ServerName:       pool01Name,
		MinVersion:       tls.VersionTLS13,
		KeyLogWriter:     env.KeyLog,
		Time:             env.World.Now,
		VerifyConnection: c.record,
	}
	return &tls.Config{
		Certificates: []tls.Certificate{ca.pool01},
		MinVersion:   tls.VersionTLS13,
		Time:         env.World.Now,
	}, nil
}

// record is alice's VerifyConnection: it keeps the state and accepts it.
func (c *clientTLS) record(cs tls.ConnectionState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = append(c.states, cs)
	return nil
}

// summary reads like "TLS 1.3, certificate verified to Contoso Enterprise
// Root CA", from the last handshake, or says no handshake completed.
func (c *clientTLS) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.states) == 0 {
		return "TLS (no handshake completed)"
	}
	cs := c.states[len(c.states)-1]
	s := tls.VersionName(cs.Version)
	if len(cs.VerifiedChains) > 0 {
		chain := cs.VerifiedChains[0]
		s += ", certificate verified to " + chain[len(chain)-1].Subject.CommonName
	}
	return s
}

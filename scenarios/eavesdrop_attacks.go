package scenarios

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/eavesdrop"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The eavesdrop attack family: a passive tap on one segment of the Contoso
// topology while alice's canary travels, with the defenses in force deciding
// whether it reads it. The listener never sends a frame.

// fe01Mode says how fe01's client listener is configured for the run.
type fe01Mode int

const (
	// fe01AsBuilt: the topology's fe01 (ECDSA certificate, TLS on 5061).
	fe01AsBuilt fe01Mode = iota
	// fe01NoTLS: fe01's TLS listener is down; only port 5060 answers
	// (there only when TLSOnly is off).
	fe01NoTLS
	// fe01RSA: fe01 re-keyed with an RSA certificate on a TLS 1.2 stack
	// that prefers the static-RSA suites when its policy allows them.
	fe01RSA
)

// eavesdropAttackParams declares one scenario of the family.
type eavesdropAttackParams struct {
	name     string
	labels   []lab.Label
	summary  string
	story    string
	expected lab.Verdict
	// stoppedBy is the decisive defense when expected is held.
	stoppedBy string
	defenses  func(*lab.Defenses)
	topology  contoso.Config
	// segment is where the tap sits; to is alice's recipient, whose home
	// Front End (home) must deliver for the service to be intact.
	segment, to, home string
	fe01              fe01Mode
	// stolenKey gives the tap fe01's private key: it decrypts what it can.
	stolenKey bool
	// rsaFE02 re-keys fe02's MTLS listener with an RSA certificate on a
	// TLS 1.2 stack preferring static RSA when allowed, and gives the tap
	// fe02's private key.
	rsaFE02 bool
	// rsaFabrikamEdge re-keys fabrikam-edge01's federation listener with
	// an RSA certificate for sip.fabrikam.com (from the CA that issued its
	// current external certificate) on a TLS 1.2 stack preferring static
	// RSA when allowed, and gives the tap that certificate's private key.
	rsaFabrikamEdge bool
}

var (
	eavesdropClientTLS = eavesdropAttackParams{
		name:    "eavesdrop/client-tls",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelTLS},
		summary: "a passive tap on contoso-lan while alice IMs dave over TLS",
		story: "Mallory taps contoso-lan (a mirrored switch port) and records every frame while alice registers " +
			"with pool01.contoso.com (fe01) and sends dave@contoso.com an instant message carrying a canary. " +
			"Defenses in force: TLS only, ECDHE key exchange only. The tap sees handshakes and ciphertext and " +
			"must find no canary; dave still gets the message.",
		expected: lab.Held, stoppedBy: lab.DefenseTLSOnly, segment: "contoso-lan", to: "dave@contoso.com", home: "fe01",
	}
	eavesdropPlaintextFallback = eavesdropAttackParams{
		name:    "eavesdrop/plaintext-fallback",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelPlaintext, lab.LabelMisconfig},
		summary: "fe01's TLS listener is down and alice's client falls back to SIP over TCP 5060",
		story: "Mallory's tap on contoso-lan records every frame. fe01's TLS listener on 5061 is down (nothing " +
			"answers there), and alice's client is allowed to fall back to plaintext (TLSOnly off): after the " +
			"failed TLS attempt it registers on port 5060 and sends dave@contoso.com a canary in the clear. The " +
			"tap reads it.",
		expected: lab.Broken,
		defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		segment:  "contoso-lan", to: "dave@contoso.com", home: "fe01", fe01: fe01NoTLS,
	}
	eavesdropFEMTLS = eavesdropAttackParams{
		name:    "eavesdrop/fe-mtls",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelMTLS},
		summary: "a passive tap on contoso-lan while fe01 relays alice's IM to fe02 over MTLS",
		story: "Mallory's tap on contoso-lan records alice's message to bob@contoso.com twice: from alice to " +
			"fe01 over TLS, and from fe01 to bob's home fe02 over mutual TLS on 5062. Both legs are encrypted " +
			"with ECDHE key exchange; the tap must find no canary, and bob still gets the message.",
		expected: lab.Held, stoppedBy: lab.DefenseTLSOnly, segment: "contoso-lan", to: "bob@contoso.com", home: "fe02",
	}
	eavesdropFederation = eavesdropAttackParams{
		name:    "eavesdrop/federation",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelFederation, lab.LabelMTLS},
		summary: "a passive tap on the Internet segment while edge01 federates alice's IM to Fabrikam",
		story: "Mallory records every frame on the Internet segment between sip.contoso.com and " +
			"sip.fabrikam.com (an ISP tap) while alice sends carol@fabrikam.com a canary. The Edges federate " +
			"over mutual TLS with certificates from their own CAs; the tap must find no canary, and carol " +
			"still gets the message.",
		expected: lab.Held, stoppedBy: lab.DefenseTLSOnly, segment: "internet", to: "carol@fabrikam.com", home: "fabrikam-fe01",
	}
	eavesdropStolenRSA = eavesdropAttackParams{
		name:    "eavesdrop/stolen-key-static-rsa",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
		summary: "fe01 uses static RSA key exchange; mallory stole its private key and decrypts the capture",
		story: "fe01 was re-keyed with an RSA certificate (fe01.contoso.com, pool01.contoso.com, from Contoso " +
			"Issuing CA 01) on a TLS 1.2 stack, and static RSA key exchange is allowed (ForwardSecrecyOnly " +
			"off). Mallory stole fe01's private key and taps contoso-lan while alice sends dave@contoso.com a " +
			"canary: the premaster secret travels encrypted under fe01's key, so she decrypts the recorded " +
			"session and reads the canary. The certificate is fine; only revocation would end the exposure.",
		expected: lab.Broken,
		defenses: func(d *lab.Defenses) { d.ForwardSecrecyOnly = false },
		segment:  "contoso-lan", to: "dave@contoso.com", home: "fe01", fe01: fe01RSA, stolenKey: true,
	}
	eavesdropStolenFS = eavesdropAttackParams{
		name:    "eavesdrop/stolen-key-forward-secrecy",
		labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelTLS},
		summary: "the same stolen RSA key, but only ECDHE key exchange: the capture stays sealed",
		story: "The setting of eavesdrop/stolen-key-static-rsa with forward secrecy enforced: fe01 holds an RSA " +
			"certificate and speaks TLS 1.2, mallory holds its private key and taps contoso-lan, but only ECDHE " +
			"suites are allowed. The key only signs the server's ephemeral share, so the recorded session " +
			"cannot be decrypted with it, and the tap must report exactly why.",
		expected: lab.Held, stoppedBy: lab.DefenseForwardSecrecyOnly,
		segment: "contoso-lan", to: "dave@contoso.com", home: "fe01", fe01: fe01RSA, stolenKey: true,
	}
)

// eavesdropAttackFamily returns the scenarios of this family.
func eavesdropAttackFamily() []lab.Scenario {
	var out []lab.Scenario
	for _, p := range []eavesdropAttackParams{
		eavesdropClientTLS, eavesdropPlaintextFallback, eavesdropFEMTLS, eavesdropFederation, eavesdropStolenRSA, eavesdropStolenFS,
	} {
		out = append(out, p.scenario())
	}
	return out
}

func (p eavesdropAttackParams) scenario() lab.Scenario {
	return lab.Scenario{
		Name: p.name, Labels: slices.Clone(p.labels), Summary: p.summary, Story: p.story,
		Expected: p.expected, StoppedBy: p.stoppedBy, Attacker: p.attackerText(), Defenses: p.defenses, Topology: p.topology, Run: p.run,
	}
}

// carriesSIP reports whether a captured connection is one of those that
// carry alice's message: SIP on 5060, 5061 or 5062 (not the OCSP and CRL
// fetches beside them).
func carriesSIP(c eavesdrop.ConnInfo) bool {
	switch c.Server.Port() {
	case portPlain, contoso.PortSIPTLS, contoso.PortSIPMTLS:
		return true
	}
	return false
}

// run builds the topology, reconfigures fe01 if asked, taps the segment,
// has alice send her canary, and records: alice's connection (and her
// refusal to fall back to plaintext, when her TLS attempt failed), the
// delivery (service), the frames the tap captured of the connections that
// carried the message (its position), what it learned of each TLS
// handshake, what the stolen key decrypted, the protection it met (TLS
// records whose keys it lacks: tls-only; ECDHE sessions of the key's
// holder: forward-secrecy-only), and last the canary count. Under any
// sabotage the tap and the key thief see nothing.
func (p eavesdropAttackParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topology.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	var (
		fe01   *sip.FrontEnd
		rsaKey pki.Credential
	)
	switch p.fe01 {
	case fe01NoTLS:
		if fe01, err = restartFE01(ctx, env, c, nil); err != nil {
			return err
		}
		defer fe01.Close()
	case fe01RSA:
		key, err := rsaKeyOf("fe01")
		if err != nil {
			return err
		}
		if rsaKey, err = c.CA("contoso-issuing").Issue(pki.CertRequest{
			DNSNames: []string{"fe01.contoso.com", "pool01.contoso.com"}, Organization: "Contoso", KeyType: pki.KeyRSA2048, Key: key,
		}); err != nil {
			return err
		}
		srv := c.TLS().Server(rsaKey.TLS)
		srv.MaxVersion = tls.VersionTLS12
		if rsa := staticRSASuites(srv.CipherSuites); len(rsa) > 0 {
			srv.CipherSuites = rsa
		}
		if fe01, err = restartFE01(ctx, env, c, srv); err != nil {
			return err
		}
		defer fe01.Close()
	}
	keyHolder := "fe01"
	if p.rsaFE02 {
		keyHolder = "fe02"
		key, err := rsaKeyOf("fe02")
		if err != nil {
			return err
		}
		if rsaKey, err = c.CA("contoso-issuing").Issue(pki.CertRequest{
			DNSNames: []string{"fe02.contoso.com"}, Organization: "Contoso", KeyType: pki.KeyRSA2048, Purpose: pki.PurposeServerClient, Key: key,
		}); err != nil {
			return err
		}
		fe02, err := restartFE02(ctx, env, c, rsaKey)
		if err != nil {
			return err
		}
		defer fe02.Close()
		if p.home == "fe02" {
			fe01 = fe02
		}
	}
	if p.rsaFabrikamEdge {
		keyHolder = "fabrikam-edge01"
		var edge *sip.Edge
		if rsaKey, edge, err = restartFabrikamEdge(ctx, env, c, p.topology.Timeout); err != nil {
			return err
		}
		defer edge.Close()
	}
	seg := c.Segment(p.segment)
	if seg == nil {
		return fmt.Errorf("scenarios: the topology has no segment %q", p.segment)
	}
	tap := eavesdrop.New(eavesdrop.Config{})
	var thief *attacker.KeyEavesdropper
	if p.stolenKey || p.rsaFE02 || p.rsaFabrikamEdge {
		thief = attacker.NewKeyEavesdropper(rsaKey.Key, 0)
	}
	if !tapSilenced(env) {
		defer seg.AddTap(tap)()
		if thief != nil {
			defer seg.AddTap(thief)()
		}
	}

	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
	noteConnection(env, res)
	if res.Conn.TLS == nil && res.Conn.Addr.IsValid() {
		env.Evidence.Notef("alice", "fell back to plain TCP: connected to %s (%v) after %s", res.Conn.Target, res.Conn.Addr, describeFailedTLS(res.Attempts))
	}
	noteNoFallback(env, res, sendErr)
	var d sip.Delivery
	var delivered bool
	if fe01 != nil && (p.home == "fe01" || p.rsaFE02) {
		d, delivered = findDeliveryOn(fe01, canary)
	} else {
		d, delivered = findDelivery(c, p.home, canary)
	}
	if delivered {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.Notef(p.home, "%s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		noteAnswer(env, "alice", "MESSAGE to "+p.to, sendErr)
	}

	tokens := []string{canary.Token}
	rep := tap.Report(tokens)
	names := segmentHostNames(seg)
	legs := tapLegs(rep, names, carriesSIP)
	notePosition(env, legs)
	recordTLSFacts(env, rep)
	if thief != nil {
		kr := thief.Report(tokens)
		key := &tapStolenKey{holder: keyHolder, report: kr}
		for a, n := range names {
			if n == keyHolder {
				key.addr = a
			}
		}
		for _, cr := range kr.Conns {
			if cr.Decrypted {
				env.Evidence.Notef("mallory", "decrypted %v -> %v with %s's stolen key: %s %s, %d B from the client",
					cr.Client, cr.Server, keyHolder, cr.Session.Version, cr.Session.CipherSuite, len(cr.Session.ClientPlaintext))
			} else {
				env.Evidence.Notef("mallory", "cannot decrypt %v -> %v with %s's stolen key: %s", cr.Client, cr.Server, keyHolder, cr.Err)
			}
		}
		notePassiveRefusals(env, legs, key)
		found := len(kr.Found)
		if len(rep.Found) > found {
			found = len(rep.Found)
		}
		env.Evidence.CanariesObtained("mallory", found, 1, fmt.Sprintf("the plaintext of %d captured TLS session(s) decrypted with %s's stolen key", len(kr.Conns), keyHolder))
		return nil
	}
	notePassiveRefusals(env, legs, nil)
	env.Evidence.CanariesObtained("eavesdropper", len(rep.Found), 1, lab.FormatBytes(rep.PayloadBytes)+" of captured TCP payload on "+p.segment)
	return nil
}

// noteNoFallback records alice's tls-only refusing to fall back to
// plaintext SIP after fe01 refused her TLS connection (its TLS listener is
// down, the scenario's setup): her client's exact reason, with the hint
// that fallback is off. Nothing when she connected; a TLS attempt that
// failed for a reason a defense names is recorded as that defense's, and
// one that failed otherwise (a time-out) credits nothing.
func noteNoFallback(env *lab.Env, res *sip.Result, sendErr error) {
	var ce *sip.ConnectError
	if res.Conn.Addr.IsValid() || !errors.As(sendErr, &ce) || ce.Hint != sip.HintNoPlaintextFallback {
		return
	}
	a, ok := lastTLSAttempt(res.Attempts)
	if !ok {
		return
	}
	line := fmt.Sprintf("%v, in the TLS connection to %s (%v); %s", a.Err, a.Target, a.Addr, ce.Hint)
	if !errors.Is(a.Err, syscall.ECONNREFUSED) {
		env.Evidence.NoteFailure("alice", a.Err, "%s", line)
		return
	}
	env.Evidence.Refused("alice", lab.DefenseTLSOnly, "%s", line)
}

// staticRSASuites keeps the suites that use static RSA key exchange.
func staticRSASuites(suites []uint16) []uint16 {
	var out []uint16
	for _, s := range suites {
		if name := tls.CipherSuiteName(s); strings.HasPrefix(name, "TLS_RSA_") {
			out = append(out, s)
		}
	}
	return out
}

// describeFailedTLS summarises the client's failed TLS attempts.
func describeFailedTLS(as []sip.Attempt) string {
	if a, ok := lastTLSAttempt(as); ok {
		return fmt.Sprintf("TLS to %s (%v) failed: %v", a.Target, a.Addr, a.Err)
	}
	return "no TLS attempt succeeded"
}

// findDeliveryOn is findDelivery on a Front End the scenario started.
func findDeliveryOn(fe *sip.FrontEnd, canary lab.Canary) (sip.Delivery, bool) {
	for _, d := range fe.Deliveries() {
		if strings.Contains(d.Body, canary.Token) {
			return d, true
		}
	}
	return sip.Delivery{}, false
}

// restartFE01 replaces the topology's fe01 by one configured as the
// topology would, except for its client listener: clientTLS on 5061, or no
// TLS listener when nil. Port 5060 answers when TLSOnly is off. The caller
// closes it.
func restartFE01(ctx context.Context, env *lab.Env, c *contoso.Deployment, clientTLS *tls.Config) (*sip.FrontEnd, error) {
	if err := c.FrontEnd("fe01").Close(); err != nil {
		return nil, fmt.Errorf("scenarios: stopping fe01: %w", err)
	}
	mtls, err := c.MTLSConfig("fe01")
	if err != nil {
		return nil, err
	}
	d := c.Defenses()
	cfg := sip.FrontEndConfig{
		FQDN: "fe01.contoso.com", Name: "fe01", Pool: "pool01.contoso.com", Domain: contoso.Domain, Net: c.Host("fe01"),
		ServerAddr: "10.0.0.11:5062", ServerTLS: mtls,
		Peers: map[string]string{"fe02.contoso.com": "10.0.0.12:5062"},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe01.contoso.com", "dave@contoso.com": "fe01.contoso.com", "bob@contoso.com": "fe02.contoso.com",
		}),
		TrustedServers: []string{"fe02.contoso.com"}, SkipTrustedServerCheck: !d.TrustedServerList,
		Now: env.World.Now,
	}
	if clientTLS != nil {
		cfg.ClientAddr, cfg.ClientTLS = "10.0.0.11:5061", clientTLS
	}
	if !d.TLSOnly {
		cfg.PlainAddr = "10.0.0.11:5060"
	}
	fe, err := sip.NewFrontEnd(cfg)
	if err != nil {
		return nil, fmt.Errorf("scenarios: fe01: %w", err)
	}
	if err := fe.Start(ctx); err != nil {
		return nil, fmt.Errorf("scenarios: restarting fe01: %w", err)
	}
	return fe, nil
}

// restartFE02 replaces the topology's fe02 by one whose MTLS listener
// presents cred (an RSA certificate) on TLS 1.2, preferring the static-RSA
// suites when the policy allows them; bob is homed on it and fe01 is its
// peer. It checks no revocation. The caller closes it.
func restartFE02(ctx context.Context, env *lab.Env, c *contoso.Deployment, cred pki.Credential) (*sip.FrontEnd, error) {
	if err := c.FrontEnd("fe02").Close(); err != nil {
		return nil, fmt.Errorf("scenarios: stopping fe02: %w", err)
	}
	roots, err := c.Roots("fe02")
	if err != nil {
		return nil, err
	}
	mtls := c.TLS().MTLS(cred.TLS, roots, nil)
	mtls.MaxVersion = tls.VersionTLS12
	if rsa := staticRSASuites(mtls.CipherSuites); len(rsa) > 0 {
		mtls.CipherSuites = rsa
	}
	d := c.Defenses()
	fe, err := sip.NewFrontEnd(sip.FrontEndConfig{
		FQDN: "fe02.contoso.com", Name: "fe02", Pool: "pool01.contoso.com", Domain: contoso.Domain, Net: c.Host("fe02"),
		ServerAddr: "10.0.0.12:5062", ServerTLS: mtls,
		Peers: map[string]string{"fe01.contoso.com": "10.0.0.11:5062"},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe01.contoso.com", "dave@contoso.com": "fe01.contoso.com", "bob@contoso.com": "fe02.contoso.com",
		}),
		TrustedServers: []string{"fe01.contoso.com"}, SkipTrustedServerCheck: !d.TrustedServerList,
		Now: env.World.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: fe02: %w", err)
	}
	if err := fe.Start(ctx); err != nil {
		return nil, fmt.Errorf("scenarios: restarting fe02: %w", err)
	}
	return fe, nil
}

// restartFabrikamEdge replaces the topology's fabrikam-edge01 by one
// configured as the topology would, except for its federation listener: it
// presents a new RSA certificate for sip.fabrikam.com, issued by the CA that
// issued the Edge's current external certificate, on TLS 1.2, preferring
// the static-RSA suites when the policy allows them. Its federation side
// checks no revocation. It returns the new credential (whose key the tap
// steals) and the Edge; the caller closes it.
func restartFabrikamEdge(ctx context.Context, env *lab.Env, c *contoso.Deployment, timeout time.Duration) (pki.Credential, *sip.Edge, error) {
	const host = "fabrikam-edge01"
	cur, ok := c.Credential(host + "-external")
	if !ok {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: %s has no external certificate", host)
	}
	var issuer *pki.CA
	for _, key := range []string{"fabrikam-issuing", "public-issuing"} {
		if ca := c.CA(key); ca != nil && bytes.Equal(ca.Certificate().RawSubject, cur.Leaf.RawIssuer) {
			issuer = ca
			break
		}
	}
	if issuer == nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: no CA of the topology issued %s's external certificate (%s)", host, cur.Leaf.Issuer)
	}
	key, err := rsaKeyOf(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	cred, err := issuer.Issue(pki.CertRequest{
		DNSNames: []string{"sip.fabrikam.com"}, Organization: "Fabrikam", KeyType: pki.KeyRSA2048, Purpose: pki.PurposeServerClient, Key: key,
	})
	if err != nil {
		return pki.Credential{}, nil, err
	}
	internal, err := c.MTLSConfig(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	fedRoots, err := c.FederationRoots(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	external := c.TLS().MTLS(cred.TLS, fedRoots, nil)
	external.MaxVersion = tls.VersionTLS12
	if rsa := staticRSASuites(external.CipherSuites); len(rsa) > 0 {
		external.CipherSuites = rsa
	}
	if timeout <= 0 {
		timeout = contoso.DefaultTimeout
	}
	d := c.Defenses()
	edge, err := sip.NewEdge(sip.EdgeConfig{
		FQDN: "edge01.fabrikam.com", ExternalFQDN: "sip.fabrikam.com", Name: host, Domain: contoso.FabrikamDomain, Net: c.Host(host),
		InternalAddr: "10.1.0.5:5062", InternalTLS: internal,
		ExternalAddr: "203.0.113.20:5061", ExternalTLS: external,
		Resolver:       c.Resolver(host),
		FrontEnds:      map[string]string{"fe01.fabrikam.com": "10.1.0.11:5062"},
		Registrar:      sip.NewRegistrar(map[string]string{"carol@fabrikam.com": "fe01.fabrikam.com"}),
		TrustedServers: []string{"fe01.fabrikam.com", "edge01.fabrikam.com"}, SkipTrustedServerCheck: !d.TrustedServerList,
		Partners: []string{contoso.Domain}, AllowAnyPartner: !d.FederationAllowList,
		AllowSRVTargetOutsideDomain: !d.FederationSRVDomainMatch,
		Timeout:                     timeout, Now: env.World.Now,
	})
	if err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: %s: %w", host, err)
	}
	if err := c.Edge(host).Close(); err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: stopping %s: %w", host, err)
	}
	if err := edge.Start(ctx); err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: restarting %s: %w", host, err)
	}
	return cred, edge, nil
}

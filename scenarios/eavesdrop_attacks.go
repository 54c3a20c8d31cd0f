package scenarios

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"syscall"

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
	header
	topology contoso.Config
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
		header: header{
			name:    "eavesdrop/client-tls",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelTLS},
			summary: "a passive tap on contoso-lan while alice IMs dave over TLS",
			story: "Mallory taps contoso-lan (a mirrored switch port) and records every frame while alice registers " +
				"with pool01.contoso.com (fe01) and sends dave@contoso.com an instant message carrying a canary. " +
				"Defenses in force: TLS only, ECDHE key exchange only. The tap sees handshakes and ciphertext and " +
				"must find no canary; dave still gets the message.",
			expected: lab.Held, stoppedBy: lab.DefenseTLSOnly,
		},
		segment: "contoso-lan", to: "dave@contoso.com", home: "fe01",
	}
	eavesdropPlaintextFallback = eavesdropAttackParams{
		header: header{
			name:    "eavesdrop/plaintext-fallback",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelPlaintext, lab.LabelMisconfig},
			summary: "fe01's TLS listener is down and alice's client falls back to SIP over TCP 5060",
			story: "Mallory's tap on contoso-lan records every frame. fe01's TLS listener on 5061 is down (nothing " +
				"answers there), and alice's client is allowed to fall back to plaintext (TLSOnly off): after the " +
				"failed TLS attempt it registers on port 5060 and sends dave@contoso.com a canary in the clear. The " +
				"tap reads it.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.TLSOnly = false },
		},
		segment: "contoso-lan", to: "dave@contoso.com", home: "fe01", fe01: fe01NoTLS,
	}
	eavesdropFEMTLS = eavesdropAttackParams{
		header: header{
			name:    "eavesdrop/fe-mtls",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelMTLS},
			summary: "a passive tap on contoso-lan while fe01 relays alice's IM to fe02 over MTLS",
			story: "Mallory's tap on contoso-lan records alice's message to bob@contoso.com twice: from alice to " +
				"fe01 over TLS, and from fe01 to bob's home fe02 over mutual TLS on 5062. Both legs are encrypted " +
				"with ECDHE key exchange; the tap must find no canary, and bob still gets the message.",
			expected: lab.Held, stoppedBy: lab.DefenseTLSOnly,
		},
		segment: "contoso-lan", to: "bob@contoso.com", home: "fe02",
	}
	eavesdropFederation = eavesdropAttackParams{
		header: header{
			name:    "eavesdrop/federation",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelFederation, lab.LabelMTLS},
			summary: "a passive tap on the Internet segment while edge01 federates alice's IM to Fabrikam",
			story: "Mallory records every frame on the Internet segment between sip.contoso.com and " +
				"sip.fabrikam.com (an ISP tap) while alice sends carol@fabrikam.com a canary. The Edges federate " +
				"over mutual TLS with certificates from their own CAs; the tap must find no canary, and carol " +
				"still gets the message.",
			expected: lab.Held, stoppedBy: lab.DefenseTLSOnly,
		},
		segment: "internet", to: "carol@fabrikam.com", home: "fabrikam-fe01",
	}
	eavesdropStolenRSA = eavesdropAttackParams{
		header: header{
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
		},
		segment: "contoso-lan", to: "dave@contoso.com", home: "fe01", fe01: fe01RSA, stolenKey: true,
	}
	eavesdropStolenFS = eavesdropAttackParams{
		header: header{
			name:    "eavesdrop/stolen-key-forward-secrecy",
			labels:  []lab.Label{lab.LabelEavesdrop, lab.LabelSIP, lab.LabelTLS},
			summary: "the same stolen RSA key, but only ECDHE key exchange: the capture stays sealed",
			story: "The setting of eavesdrop/stolen-key-static-rsa with forward secrecy enforced: fe01 holds an RSA " +
				"certificate and speaks TLS 1.2, mallory holds its private key and taps contoso-lan, but only ECDHE " +
				"suites are allowed. The key only signs the server's ephemeral share, so the recorded session " +
				"cannot be decrypted with it, and the tap must report exactly why.",
			expected: lab.Held, stoppedBy: lab.DefenseForwardSecrecyOnly,
		},
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
	s := p.header.scenario(p.attackerText(), lab.WithChanges(p.topology, p.topologyChanges()...), p.run)
	if p.fe01 == fe01RSA {
		// A real server program can present fe01's RSA certificate
		// (lab.RealPeers.Server).
		s.RealPeers = lab.RealServer
	}
	return s
}

// attackerText says, for handouts, where the tap records and which
// stolen keys it holds.
func (p eavesdropAttackParams) attackerText() string {
	var b strings.Builder
	switch p.segment {
	case "internet":
		b.WriteString("mallory's passive tap on the internet segment between sip.contoso.com and sip.fabrikam.com (an ISP tap), recording every frame")
	default:
		fmt.Fprintf(&b, "mallory's passive tap on %s (a mirrored switch port), recording every frame", p.segment)
	}
	var keys []string
	if p.stolenKey {
		keys = append(keys, "fe01's")
	}
	if p.rsaFE02 {
		keys = append(keys, "fe02's")
	}
	if p.rsaFabrikamEdge {
		keys = append(keys, "fabrikam-edge01's (sip.fabrikam.com)")
	}
	if len(keys) > 0 {
		fmt.Fprintf(&b, ", holding %s stolen RSA private key", strings.Join(keys, " and "))
	}
	b.WriteString("; it sends nothing")
	return b.String()
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
		real   *realServer // fe01's real server program (lab.RealPeers.Server), if any
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
		if env.RealPeers.Server != "" {
			// fe01's real server program presents the RSA certificate;
			// its template chooses the versions and suites.
			if real, err = startRealServer(ctx, env, c, rsaKey); err != nil {
				return err
			}
			defer real.stop(env)
			break
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
	eve, err := attachEavesdropper(c, p.segment)
	if err != nil {
		return err
	}
	tap := eavesdrop.New(eavesdrop.Config{})
	var thief *attacker.KeyEavesdropper
	if p.stolenKey || p.rsaFE02 || p.rsaFabrikamEdge {
		thief = attacker.NewKeyEavesdropper(rsaKey.Key, 0)
	}
	if !tapSilenced(env) {
		defer seg.AddTapVia(eve, tap)()
		if thief != nil {
			defer seg.AddTapVia(eve, thief)()
		}
	}

	var (
		canary  lab.Canary
		res     *sip.Result
		sendErr error
	)
	if real != nil {
		canary = env.NewCanary("alice")
		client, err := c.Client("alice", "alice@contoso.com")
		if err != nil {
			return err
		}
		res, sendErr = sendToRealServer(ctx, real, canary, client, p.to, fmt.Sprintf("alice to %s: code word %s", p.to, canary))
	} else {
		canary, res, sendErr = aliceSends(ctx, env, c, p.to)
	}
	noteConnection(env, res)
	if res.Conn.TLS == nil && res.Conn.Addr.IsValid() {
		env.Evidence.Notef("alice", "fell back to plain TCP: connected to %s (%v) after %s", res.Conn.Target, res.Conn.Addr, describeFailedTLS(res.Attempts))
	}
	noteNoFallback(env, res, sendErr)
	var d sip.Delivery
	var delivered bool
	if real != nil {
		if real.delivered(ctx, env, canary, res.Conn.TLS != nil) {
			env.Evidence.SetService(lab.ServiceIntact)
		} else {
			env.Evidence.SetService(lab.ServiceDenied)
			env.Evidence.Notef("alice", "the canary did not reach fe01's real server")
		}
	} else if fe01 != nil && (p.home == "fe01" || p.rsaFE02) {
		d, delivered = findDeliveryOn(fe01, canary)
	} else {
		d, delivered = findDelivery(c, p.home, canary)
	}
	switch {
	case real != nil:
	case delivered:
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Notef(p.home, "%s", describeDelivery(d))
	default:
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

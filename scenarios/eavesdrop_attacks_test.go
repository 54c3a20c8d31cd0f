package scenarios

import (
	"errors"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

var (
	aliceToFE01TLS13    = aliceToFE01(`TLS 1\.3`, `TLS_\w+`)
	daveDelivered       = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"
	daveDeliveredPlain  = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TCP connection (10.0.0.10)"
	ecdheRefusal        = "session used ECDHE key exchange: the server key cannot recover the premaster secret"
	stolenKeyCanaryLine = func(found int) types.GomegaMatcher {
		return MatchRegexp(`^mallory: %d of 1 canary in the plaintext of 1 captured TLS session\(s\) decrypted with fe01's stolen key$`, found)
	}
	// fe01's RSA-keyed TLS 1.2 stack, as the tap and alice see it.
	staticRSASuite = `TLS_RSA_WITH_AES_\d+_GCM_SHA\d+`
	ecdheRSASuite  = `TLS_ECDHE_RSA_WITH_\w+`
)

// aliceToFE01 matches alice's registration with fe01 over version and
// suite (regular expressions).
func aliceToFE01(version, suite string) types.GomegaMatcher {
	return MatchRegexp(`^alice: registered with pool01\.contoso\.com \(10\.0\.0\.11:5061, found through _sip\._tls\.contoso\.com\) ` +
		`over ` + version + ` ` + suite + `, server certificate CN=fe01\.contoso\.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso$`)
}

// tapLine matches the passive tap's canary count on a segment.
func tapLine(found int, segment string) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: %d of 1 canary in [0-9]+(\.[0-9])? (B|KiB) of captured TCP payload on %s$`, found, segment)
}

// captured matches the tap's position: the frames it captured of client's
// one connection to server at addr ("10.0.0.11:5061").
func captured(client, server, addr string) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: captured \d+ frames of %s's 1 connection to %s \(%s\)$`, client, server, regexp.QuoteMeta(addr))
}

// tapTLS matches what the tap read of one handshake from client to server
// (addresses, the server's with its port).
func tapTLS(client, server, version, suite, sni string) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: TLS %s:\d+ -> %s: %s, %s, SNI %s$`, regexp.QuoteMeta(client), regexp.QuoteMeta(server), version, suite, regexp.QuoteMeta(sni))
}

// onlyTLS matches client's tls-only refusal of the tap on its one
// connection to server at addr, over TLS 1.3.
func onlyTLS(client, server, addr string) types.GomegaMatcher {
	return MatchRegexp(`^%s: sent and received only TLS records on 1 connection to %s \(%s\), TLS 1\.3 %s; the eavesdropper holds no key for them$`,
		client, server, regexp.QuoteMeta(addr), tls13Suite)
}

// ephemeral matches holder's forward-secrecy-only refusal of the stolen
// key, on client's one connection to addr.
func ephemeral(holder, client, addr string) types.GomegaMatcher {
	return MatchRegexp(`^%s: negotiated ephemeral \(ECDHE\) key exchange with %s on 1 connection to %s, TLS 1\.2 %s; the stolen RSA key does not decrypt it$`,
		holder, client, regexp.QuoteMeta(addr), ecdheRSASuite)
}

var _ = Describe("eavesdrop attack family", func() {
	DescribeTable("a passive tap while alice's canary travels", runCase,
		scenarioEntry(scenarioCase{
			name: "eavesdrop/client-tls", verdict: lab.Held, stoppedBy: []string{lab.DefenseTLSOnly}, service: lab.ServiceIntact,
			main: onlyTLS("alice", "fe01", "10.0.0.11:5061"),
			evidence: []types.GomegaMatcher{
				aliceToFE01TLS13,
				Equal(daveDelivered),
				captured("alice", "fe01", "10.0.0.11:5061"),
				tapTLS("10.0.0.10", "10.0.0.11:5061", `TLS 1\.3`, tls13Suite, pool01Name),
				onlyTLS("alice", "fe01", "10.0.0.11:5061"),
				tapLine(0, "contoso-lan"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "eavesdrop/plaintext-fallback", verdict: lab.Broken, service: lab.ServiceIntact,
			main: tapLine(1, "contoso-lan"),
			evidence: []types.GomegaMatcher{
				Equal("alice: fell back to plain TCP: connected to pool01.contoso.com (10.0.0.11:5060) after TLS to pool01.contoso.com " +
					"(10.0.0.11:5061) failed: dial tcp 10.0.0.11:5061: connect: connection refused"),
				Equal(daveDeliveredPlain),
				captured("alice", "fe01", "10.0.0.11:5061"),
				captured("alice", "fe01", "10.0.0.11:5060"),
				Equal("eavesdropper: no TLS handshake in 4 TCP stream directions"),
				tapLine(1, "contoso-lan"),
			},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		scenarioEntry(scenarioCase{
			name: "eavesdrop/fe-mtls", verdict: lab.Held, stoppedBy: []string{lab.DefenseTLSOnly}, service: lab.ServiceIntact,
			main: onlyTLS("alice", "fe01", "10.0.0.11:5061"),
			evidence: []types.GomegaMatcher{
				aliceToFE01TLS13,
				Equal(feToFEDelivered),
				captured("alice", "fe01", "10.0.0.11:5061"),
				captured("fe01", "fe02", "10.0.0.12:5062"),
				tapTLS("10.0.0.10", "10.0.0.11:5061", `TLS 1\.3`, tls13Suite, pool01Name),
				tapTLS("10.0.0.11", "10.0.0.12:5062", `TLS 1\.3`, tls13Suite, "fe02.contoso.com"),
				onlyTLS("alice", "fe01", "10.0.0.11:5061"),
				onlyTLS("fe01", "fe02", "10.0.0.12:5062"),
				tapLine(0, "contoso-lan"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "eavesdrop/federation", verdict: lab.Held, stoppedBy: []string{lab.DefenseTLSOnly}, service: lab.ServiceIntact,
			main: onlyTLS("edge01", "fabrikam-edge01", "203.0.113.20:5061"),
			evidence: []types.GomegaMatcher{
				aliceToFE01TLS13,
				Equal(federationDelivered),
				captured("edge01", "fabrikam-edge01", "203.0.113.20:5061"),
				tapTLS("203.0.113.10", "203.0.113.20:5061", `TLS 1\.3`, tls13Suite, "sip.fabrikam.com"),
				onlyTLS("edge01", "fabrikam-edge01", "203.0.113.20:5061"),
				tapLine(0, "internet"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "eavesdrop/stolen-key-static-rsa", verdict: lab.Broken, service: lab.ServiceIntact,
			main: stolenKeyCanaryLine(1),
			evidence: []types.GomegaMatcher{
				aliceToFE01(`TLS 1\.2`, staticRSASuite),
				Equal(daveDelivered),
				captured("alice", "fe01", "10.0.0.11:5061"),
				tapTLS("10.0.0.10", "10.0.0.11:5061", `TLS 1\.2`, staticRSASuite, pool01Name),
				MatchRegexp(`^mallory: decrypted 10\.0\.0\.10:\d+ -> 10\.0\.0\.11:5061 with fe01's stolen key: TLS 1\.2 ` + staticRSASuite + `, \d+ B from the client$`),
				stolenKeyCanaryLine(1),
			},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		scenarioEntry(scenarioCase{
			name: "eavesdrop/stolen-key-forward-secrecy", verdict: lab.Held, stoppedBy: []string{lab.DefenseForwardSecrecyOnly}, service: lab.ServiceIntact,
			main: ephemeral("fe01", "alice", "10.0.0.11:5061"),
			evidence: []types.GomegaMatcher{
				aliceToFE01(`TLS 1\.2`, ecdheRSASuite),
				Equal(daveDelivered),
				captured("alice", "fe01", "10.0.0.11:5061"),
				tapTLS("10.0.0.10", "10.0.0.11:5061", `TLS 1\.2`, ecdheRSASuite, pool01Name),
				MatchRegexp(`^mallory: cannot decrypt 10\.0\.0\.10:\d+ -> 10\.0\.0\.11:5061 with fe01's stolen key: ` + ecdheRefusal + `$`),
				ephemeral("fe01", "alice", "10.0.0.11:5061"),
				stolenKeyCanaryLine(0),
			},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelEavesdrop)), func() {
		It("client-tls with TLSOnly off and fe01's TLS listener down: alice falls back and the tap reads the canary (broken)", func(ctx SpecContext) {
			p := eavesdropClientTLS
			p.fe01 = fe01NoTLS
			p.defenses = func(d *lab.Defenses) { d.TLSOnly = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(tapLine(1, "contoso-lan"))
		})
		It("plaintext-fallback with TLSOnly on: alice refuses plaintext, the service is denied, the tap reads nothing (held by tls-only)", func(ctx SpecContext) {
			p := eavesdropPlaintextFallback
			p.defenses = nil
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceDenied)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseTLSOnly}))
			Expect(res.MainEvidence()).To(Equal("alice: dial tcp 10.0.0.11:5061: connect: connection refused, " +
				"in the TLS connection to pool01.contoso.com (10.0.0.11:5061); plaintext fallback is off"))
			Expect(res.Evidence).To(ContainElement(captured("alice", "fe01", "10.0.0.11:5061")))
			Expect(res.Evidence[len(res.Evidence)-1]).To(tapLine(0, "contoso-lan"))
		})
		It("stolen-key-forward-secrecy with static RSA allowed: the stolen key decrypts the capture (broken)", func(ctx SpecContext) {
			p := eavesdropStolenFS
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(stolenKeyCanaryLine(1))
			Expect(res.Refusals).To(BeEmpty())
		})
		It("stolen-key-static-rsa with forward secrecy enforced: ECDHE, nothing decrypted (held by forward-secrecy-only)", func(ctx SpecContext) {
			p := eavesdropStolenRSA
			p.defenses = nil
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseForwardSecrecyOnly}))
			Expect(res.MainEvidence()).To(ephemeral("fe01", "alice", "10.0.0.11:5061"))
			Expect(res.Evidence).To(ContainElement(HaveSuffix("with fe01's stolen key: " + ecdheRefusal)))
		})
		It("fe-mtls and federation with tls-only and forward-secrecy-only off: the tap still reads nothing, but no switch that is on refused it (error)", func(ctx SpecContext) {
			for _, p := range []eavesdropAttackParams{eavesdropFEMTLS, eavesdropFederation} {
				p.defenses = func(d *lab.Defenses) { d.TLSOnly = false; d.ForwardSecrecyOnly = false }
				res := lab.Runner{}.Run(ctx, p.scenario())
				Expect(res.Verdict).To(Equal(lab.Error), "%s: evidence %q", p.name, res.Evidence)
				Expect(res.Service).To(Equal(lab.ServiceIntact))
				var inc *lab.InconclusiveError
				Expect(errors.As(res.Err, &inc)).To(BeTrue(), "%s: %v", p.name, res.Err)
				Expect(inc.Reason).To(Equal(lab.ReasonNoDefense))
				Expect(res.Compromises).To(BeEmpty())
				Expect(res.Evidence[len(res.Evidence)-1]).To(tapLine(0, p.segment))
				for _, r := range res.Refusals {
					Expect(r.Defense).To(Equal(lab.DefenseTLSOnly), "%s: %s", p.name, r.Line)
				}
			}
		})
		It("fe-mtls with fe02 on an RSA certificate and its key stolen: forward secrecy keeps the relay sealed; off, the tap reads it (broken)", func(ctx SpecContext) {
			p := eavesdropFEMTLS
			p.rsaFE02 = true
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseTLSOnly, lab.DefenseForwardSecrecyOnly}))
			Expect(res.Evidence).To(ContainElements(
				onlyTLS("alice", "fe01", "10.0.0.11:5061"),
				MatchRegexp(`^mallory: cannot decrypt 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062 with fe02's stolen key: `+ecdheRefusal+`$`),
				ephemeral("fe02", "fe01", "10.0.0.12:5062"),
			))
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res = runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(MatchRegexp(`^mallory: 1 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fe02's stolen key$`))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: decrypted 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062 with fe02's stolen key: TLS 1\.2 TLS_RSA_WITH_\w+`)))
		})
		It("federation with fabrikam-edge01 on an RSA certificate and its key stolen: forward secrecy keeps the Internet leg sealed; off, the tap reads it (broken)", func(ctx SpecContext) {
			p := eavesdropFederation
			p.rsaFabrikamEdge = true
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseForwardSecrecyOnly}))
			Expect(res.MainEvidence()).To(ephemeral("fabrikam-edge01", "edge01", "203.0.113.20:5061"))
			Expect(res.Evidence).To(ContainElements(
				MatchRegexp(`^mallory: cannot decrypt 203\.0\.113\.10:\d+ -> 203\.0\.113\.20:5061 with fabrikam-edge01's stolen key: `+ecdheRefusal+`$`),
				MatchRegexp(`^mallory: 0 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fabrikam-edge01's stolen key$`),
				Equal(federationDelivered),
			))
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res = runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(MatchRegexp(`^mallory: 1 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fabrikam-edge01's stolen key$`))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: decrypted 203\.0\.113\.10:\d+ -> 203\.0\.113\.20:5061 with fabrikam-edge01's stolen key: TLS 1\.2 TLS_RSA_WITH_\w+`)))
			Expect(res.Evidence).To(ContainElement(Equal(federationDelivered)))
		})
	})

	// Under any sabotage the tap sees nothing: the attack was not carried
	// out, whatever the transport.
	It("a sabotaged tap captures nothing: every scenario of the family is inconclusive", Label(string(lab.LabelEavesdrop), "sabotage"), func(ctx SpecContext) {
		var family []lab.Scenario
		family = append(family, eavesdropFamily()...)
		family = append(family, eavesdropAttackFamily()...)
		for _, sab := range lab.Sabotages() {
			for i, res := range (lab.Runner{Sabotage: sab, Parallel: len(family)}).RunAll(ctx, family) {
				var inc *lab.InconclusiveError
				Expect(errors.As(res.Err, &inc)).To(BeTrue(), "%s with %s: %s %v", family[i].Name, sab, res.Verdict, res.Err)
				Expect(inc.Reason).To(Equal(lab.ReasonNotCarriedOut), "%s with %s", family[i].Name, sab)
				Expect(res.Milestones).To(BeEmpty(), "%s with %s", family[i].Name, sab)
				Expect(res.Evidence).To(ContainElement(MatchRegexp(`^(eavesdropper|mallory): 0 of \d canar(y|ies) in `)), "%s with %s", family[i].Name, sab)
				Expect(res.Evidence).NotTo(ContainElement(HavePrefix("eavesdropper: captured")), "%s with %s", family[i].Name, sab)
			}
		}
	})
})

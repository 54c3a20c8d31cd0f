package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

var (
	aliceToFE01TLS13 = MatchRegexp(`^alice: registered with pool01\.contoso\.com \(10\.0\.0\.11:5061, found through _sip\._tls\.contoso\.com\) ` +
		`over TLS 1\.3 TLS_\w+, server certificate CN=fe01\.contoso\.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso$`)
	daveDelivered       = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"
	daveDeliveredPlain  = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TCP connection (10.0.0.10)"
	ecdheRefusal        = "session used ECDHE key exchange: the server key cannot recover the premaster secret"
	stolenKeyCanaryLine = func(found int) types.GomegaMatcher {
		return MatchRegexp(`^mallory: %d of 1 canary in the plaintext of 1 captured TLS session\(s\) decrypted with fe01's stolen key$`, found)
	}
)

// tapLine matches the passive tap's canary count on a segment.
func tapLine(found int, segment string) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: %d of 1 canary in [0-9]+(\.[0-9])? (B|KiB) of captured TCP payload on %s$`, found, segment)
}

var _ = Describe("eavesdrop attack family", func() {
	DescribeTable("a passive tap while alice's canary travels", runFamilyCase,
		familyEntry(familyCase{
			name: "eavesdrop/client-tls", verdict: lab.Held, service: lab.ServiceIntact,
			main: tapLine(0, "contoso-lan"),
			lines: []types.GomegaMatcher{
				aliceToFE01TLS13, Equal(daveDelivered),
				MatchRegexp(`^eavesdropper: TLS 10\.0\.0\.10:\d+ -> 10\.0\.0\.11:5061: TLS 1\.3, TLS_\w+, SNI pool01\.contoso\.com$`),
			},
		}),
		familyEntry(familyCase{
			name: "eavesdrop/plaintext-fallback", verdict: lab.Broken, service: lab.ServiceIntact,
			main: tapLine(1, "contoso-lan"),
			lines: []types.GomegaMatcher{
				Equal("alice: fell back to plain TCP: connected to pool01.contoso.com (10.0.0.11:5060) after TLS to pool01.contoso.com " +
					"(10.0.0.11:5061) failed: dial tcp 10.0.0.11:5061: connect: connection refused"),
				Equal(daveDeliveredPlain),
				Equal("eavesdropper: no TLS handshake in 4 TCP stream directions"),
			},
			kinds: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		familyEntry(familyCase{
			name: "eavesdrop/fe-mtls", verdict: lab.Held, service: lab.ServiceIntact,
			main: tapLine(0, "contoso-lan"),
			lines: []types.GomegaMatcher{
				Equal(feToFEDelivered),
				MatchRegexp(`^eavesdropper: TLS 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062: TLS 1\.3, TLS_\w+, SNI fe02\.contoso\.com$`),
			},
		}),
		familyEntry(familyCase{
			name: "eavesdrop/federation", verdict: lab.Held, service: lab.ServiceIntact,
			main: tapLine(0, "internet"),
			lines: []types.GomegaMatcher{
				Equal(federationDelivered),
				MatchRegexp(`^eavesdropper: TLS 203\.0\.113\.10:\d+ -> 203\.0\.113\.20:5061: TLS 1\.3, TLS_\w+, SNI sip\.fabrikam\.com$`),
			},
		}),
		familyEntry(familyCase{
			name: "eavesdrop/stolen-key-static-rsa", verdict: lab.Broken, service: lab.ServiceIntact,
			main: stolenKeyCanaryLine(1),
			lines: []types.GomegaMatcher{
				MatchRegexp(`over TLS 1\.2 TLS_RSA_WITH_AES_\d+_GCM_SHA\d+, server certificate CN=fe01\.contoso\.com`),
				MatchRegexp(`^mallory: decrypted 10\.0\.0\.10:\d+ -> 10\.0\.0\.11:5061 with fe01's stolen key: TLS 1\.2 TLS_RSA_WITH_AES_\d+_GCM_SHA\d+, \d+ B from the client$`),
				Equal(daveDelivered),
			},
			kinds: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		familyEntry(familyCase{
			name: "eavesdrop/stolen-key-forward-secrecy", verdict: lab.Held, service: lab.ServiceIntact,
			main: stolenKeyCanaryLine(0),
			lines: []types.GomegaMatcher{
				MatchRegexp(`over TLS 1\.2 TLS_ECDHE_RSA_WITH_\w+, server certificate CN=fe01\.contoso\.com`),
				MatchRegexp(`^mallory: cannot decrypt 10\.0\.0\.10:\d+ -> 10\.0\.0\.11:5061 with fe01's stolen key: ` + ecdheRefusal + `$`),
				Equal(daveDelivered),
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
		It("plaintext-fallback with TLSOnly on: alice refuses plaintext, the service is denied, the tap reads nothing (held)", func(ctx SpecContext) {
			p := eavesdropPlaintextFallback
			p.defenses = nil
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(tapLine(0, "contoso-lan"))
		})
		It("stolen-key-forward-secrecy with static RSA allowed: the stolen key decrypts the capture (broken)", func(ctx SpecContext) {
			p := eavesdropStolenFS
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(stolenKeyCanaryLine(1))
		})
		It("stolen-key-static-rsa with forward secrecy enforced: ECDHE, nothing decrypted (held)", func(ctx SpecContext) {
			p := eavesdropStolenRSA
			p.defenses = nil
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.Evidence).To(ContainElement(HaveSuffix("with fe01's stolen key: " + ecdheRefusal)))
		})
		It("fe-mtls and federation: no single switch exposes server-to-server MTLS to a tap (held with TLSOnly and ForwardSecrecyOnly off)", func(ctx SpecContext) {
			for _, p := range []eavesdropAttackParams{eavesdropFEMTLS, eavesdropFederation} {
				p.defenses = func(d *lab.Defenses) { d.TLSOnly = false; d.ForwardSecrecyOnly = false }
				runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			}
		})
		It("fe-mtls with fe02 on an RSA certificate and its key stolen: forward secrecy keeps the relay sealed; off, the tap reads it (broken)", func(ctx SpecContext) {
			p := eavesdropFEMTLS
			p.rsaFE02 = true
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: cannot decrypt 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062 with fe02's stolen key: ` + ecdheRefusal + `$`)))
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res = runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(MatchRegexp(`^mallory: 1 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fe02's stolen key$`))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: decrypted 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062 with fe02's stolen key: TLS 1\.2 TLS_RSA_WITH_\w+`)))
		})
		It("federation with fabrikam-edge01 on an RSA certificate and its key stolen: forward secrecy keeps the Internet leg sealed; off, the tap reads it (broken)", func(ctx SpecContext) {
			p := eavesdropFederation
			p.rsaFabrikamEdge = true
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(MatchRegexp(`^mallory: 0 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fabrikam-edge01's stolen key$`))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: cannot decrypt 203\.0\.113\.10:\d+ -> 203\.0\.113\.20:5061 with fabrikam-edge01's stolen key: ` + ecdheRefusal + `$`)))
			Expect(res.Evidence).To(ContainElement(Equal(federationDelivered)))
			p.defenses = func(d *lab.Defenses) { d.ForwardSecrecyOnly = false }
			res = runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(MatchRegexp(`^mallory: 1 of 1 canary in the plaintext of \d+ captured TLS session\(s\) decrypted with fabrikam-edge01's stolen key$`))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^mallory: decrypted 203\.0\.113\.10:\d+ -> 203\.0\.113\.20:5061 with fabrikam-edge01's stolen key: TLS 1\.2 TLS_RSA_WITH_\w+`)))
			Expect(res.Evidence).To(ContainElement(Equal(federationDelivered)))
		})
	})
})

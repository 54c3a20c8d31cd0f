package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

const federationServiceCheck = "fabrikam-fe01: service check: " +
	"delivered the canary to carol@fabrikam.com from verified MTLS peer edge01.fabrikam.com (10.1.0.5), " +
	"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com > sip.contoso.com > edge01.fabrikam.com"

func peerNotAllowed(peer string) string {
	return "edge01: federation peer " + peer + " is not in an allowed partner domain, in the inbound handshake from 203.0.113.66 on the external listener"
}

var _ = Describe("federation family", func() {
	DescribeTable("a stranger on the Internet relays to contoso's Edge", runFamilyCase,
		familyEntry(familyCase{
			name: "federation/impersonate-partner-public-ca", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(peerNotAllowed("sip.mallory.example")),
			lines: []types.GomegaMatcher{
				Equal("mallory: presented her own public-CA certificate (CN=sip.mallory.example, issued by CN=Public Trust TLS CA,O=Public Trust) " +
					"to sip.contoso.com (203.0.113.10:5061)"),
				Equal("mallory: MESSAGE from carol@fabrikam.com to alice@contoso.com failed: remote error: tls: bad certificate"),
				Equal(federationServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "federation/partner-not-allowed", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(peerNotAllowed("sip.litware.com")),
			lines: []types.GomegaMatcher{
				Equal("litware: MESSAGE from sales@litware.com to alice@contoso.com failed: remote error: tls: bad certificate"),
				Equal(federationServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "federation/impersonate-with-other-partner-cert", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(peerNotAllowed("sip.litware.com")),
			lines: []types.GomegaMatcher{
				Equal("mallory: presented litware's public-CA certificate (CN=sip.litware.com, issued by CN=Public Trust TLS CA,O=Public Trust) " +
					"to sip.contoso.com (203.0.113.10:5061)"),
				Equal(federationServiceCheck),
			},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelFederation), string(lab.LabelMisconfig)), func() {
		allowListOff := func(p federationParams) lab.Scenario {
			p.defenses = func(d *lab.Defenses) { d.FederationAllowList = false }
			return p.scenario()
		}
		for _, c := range []struct {
			p      federationParams
			detail string
		}{
			{federationImpersonatePublicCA, "MESSAGE from carol@fabrikam.com to alice@contoso.com carrying mallory's canary, relayed by edge01 from federation peer sip.mallory.example (203.0.113.66)"},
			{federationPartnerNotAllowed, "MESSAGE from sales@litware.com to alice@contoso.com carrying litware's canary, relayed by edge01 from federation peer sip.litware.com (203.0.113.66)"},
			{federationOtherPartnerCert, "MESSAGE from carol@fabrikam.com to alice@contoso.com carrying mallory's canary, relayed by edge01 from federation peer sip.litware.com (203.0.113.66)"},
		} {
			It(c.p.name+" with the allow-list off: fe01 delivers the message to alice (broken)", func(ctx SpecContext) {
				res := runFlipped(ctx, allowListOff(c.p), lab.Broken, lab.ServiceIntact)
				Expect(res.Compromises).To(HaveLen(1))
				Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseInjection))
				Expect(res.MainEvidence()).To(Equal("fe01: accepted an injected message: " + c.detail))
			})
		}
	})
})

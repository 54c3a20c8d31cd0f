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

// federationAttempt is what the actor's attempt records: its connection
// to edge01's listener (in position), the certificate it presented and
// the alert edge01 answered with.
func federationAttempt(actor, presented, from string) []types.GomegaMatcher {
	return []types.GomegaMatcher{
		Equal(actor + ": connected to sip.contoso.com (203.0.113.10:5061) from 203.0.113.66"),
		Equal(actor + ": presented " + presented + " to sip.contoso.com (203.0.113.10:5061)"),
		Equal(actor + ": MESSAGE from " + from + " to alice@contoso.com failed: remote error: tls: bad certificate"),
	}
}

var _ = Describe("federation family", func() {
	DescribeTable("a stranger on the Internet relays to contoso's Edge", runCase,
		scenarioEntry(scenarioCase{
			name: "federation/impersonate-partner-public-ca", verdict: lab.Held, stoppedBy: []string{lab.DefenseFederationAllowList},
			service: lab.ServiceIntact, main: Equal(peerNotAllowed("sip.mallory.example")),
			evidence: cat(federationAttempt("mallory",
				"her own public-CA certificate (CN=sip.mallory.example, issued by CN=Public Trust TLS CA,O=Public Trust)", "carol@fabrikam.com"),
				[]types.GomegaMatcher{Equal(federationServiceCheck), Equal(peerNotAllowed("sip.mallory.example"))}),
		}),
		scenarioEntry(scenarioCase{
			name: "federation/partner-not-allowed", verdict: lab.Held, stoppedBy: []string{lab.DefenseFederationAllowList},
			service: lab.ServiceIntact, main: Equal(peerNotAllowed("sip.litware.com")),
			evidence: cat(federationAttempt("litware",
				"its own public-CA certificate (CN=sip.litware.com, issued by CN=Public Trust TLS CA,O=Public Trust)", "sales@litware.com"),
				[]types.GomegaMatcher{Equal(federationServiceCheck), Equal(peerNotAllowed("sip.litware.com"))}),
		}),
		scenarioEntry(scenarioCase{
			name: "federation/impersonate-with-other-partner-cert", verdict: lab.Held, stoppedBy: []string{lab.DefenseFederationAllowList},
			service: lab.ServiceIntact, main: Equal(peerNotAllowed("sip.litware.com")),
			evidence: cat(federationAttempt("mallory",
				"litware's public-CA certificate (CN=sip.litware.com, issued by CN=Public Trust TLS CA,O=Public Trust)", "carol@fabrikam.com"),
				[]types.GomegaMatcher{Equal(federationServiceCheck), Equal(peerNotAllowed("sip.litware.com"))}),
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
				Expect(res.Refusals).To(BeEmpty())
			})
		}
	})

	Describe("a sabotaged attacker is never judged", Label(string(lab.LabelFederation)), func() {
		It("does not dial under proxy-refuses and spoofer-silent, and under proxy-hangs connects and never speaks: error, never held", func(ctx SpecContext) {
			p := federationImpersonatePublicCA
			for _, c := range []struct {
				sab    lab.Sabotage
				reason string
				lines  []types.GomegaMatcher
			}{
				{lab.SabotageProxyRefuses, lab.ReasonNotCarriedOut, []types.GomegaMatcher{
					Equal("mallory: sabotaged (proxy-refuses): did not connect to sip.contoso.com (203.0.113.10:5061)"), Equal(federationServiceCheck),
				}},
				{lab.SabotageSpooferSilent, lab.ReasonNotCarriedOut, []types.GomegaMatcher{
					Equal("mallory: sabotaged (spoofer-silent): did not connect to sip.contoso.com (203.0.113.10:5061)"), Equal(federationServiceCheck),
				}},
				// edge01's handshake deadline ends her connection: a
				// time-out, which is no refusal.
				{lab.SabotageProxyHangs, lab.ReasonNoDefense, []types.GomegaMatcher{
					Equal("mallory: connected to sip.contoso.com (203.0.113.10:5061) from 203.0.113.66"),
					Equal("mallory: sabotaged (proxy-hangs): sent nothing on her connection to sip.contoso.com until it was closed"),
					Equal(federationServiceCheck),
					MatchRegexp(`^edge01: read tcp 203\.0\.113\.10:5061->203\.0\.113\.66:\d+: i/o timeout, in the inbound handshake from 203\.0\.113\.66 on the external listener$`),
				}},
			} {
				res := lab.Runner{Sabotage: c.sab}.Run(ctx, p.scenario())
				Expect(res.Verdict).To(Equal(lab.Error), "%s: evidence %q", c.sab, res.Evidence)
				Expect(res.Err).To(MatchError("inconclusive: "+c.reason), string(c.sab))
				Expect(res.Evidence).To(HaveExactElements(c.lines), string(c.sab))
				Expect(res.Refusals).To(BeEmpty(), string(c.sab))
			}
		})
	})
})

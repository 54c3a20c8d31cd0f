package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
)

// Lines shared by several baselines.
var (
	aliceRegistered = MatchRegexp(`^alice: registered with pool01\.contoso\.com \(10\.0\.0\.11:5061, found through _sip\._tls\.contoso\.com\) ` +
		`over TLS 1\.3 TLS_\w+, server certificate CN=fe01\.contoso\.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso$`)
	serial = `\(serial 0x[0-9a-f]+\)`
)

// ocspGood matches host's OCSP check of subject at pki.<domain>.
func ocspGood(host, domain, subject string) types.GomegaMatcher {
	return MatchRegexp(`^%s: revocation: OCSP http://pki\.%s/ocsp: "%s" %s good$`, host, domain, subject, serial)
}

// The OCSP checks every baseline's hosts make, by host and certificate.
var (
	aliceChecksFE01 = []types.GomegaMatcher{
		ocspGood("alice", "contoso\\.com", "fe01\\.contoso\\.com"),
		ocspGood("alice", "contoso\\.com", "Contoso Issuing CA 01"),
	}
	contosoInternal = func(host, peer string) []types.GomegaMatcher {
		return []types.GomegaMatcher{
			ocspGood(host, "contoso\\.com", regexp.QuoteMeta(peer)),
			ocspGood(host, "contoso\\.com", "Contoso Issuing CA 01"),
		}
	}
	fabrikamInternal = func(host, peer string) []types.GomegaMatcher {
		return []types.GomegaMatcher{
			ocspGood(host, "fabrikam\\.com", regexp.QuoteMeta(peer)),
			ocspGood(host, "fabrikam\\.com", "Fabrikam Issuing CA"),
		}
	}
)

// lines concatenates groups of line matchers.
func lines(groups ...[]types.GomegaMatcher) []types.GomegaMatcher {
	var out []types.GomegaMatcher
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// one is a group of one matcher; a string is matched exactly.
func one(m any) []types.GomegaMatcher {
	if s, ok := m.(string); ok {
		return []types.GomegaMatcher{Equal(s)}
	}
	return []types.GomegaMatcher{m.(types.GomegaMatcher)}
}

const (
	federationDelivered = "fabrikam-fe01: delivered the canary to carol@fabrikam.com from verified MTLS peer edge01.fabrikam.com (10.1.0.5), " +
		"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com > sip.contoso.com > edge01.fabrikam.com"
	feToFEDelivered = "fe02: delivered the canary to bob@contoso.com from verified MTLS peer fe01.contoso.com (10.0.0.11), " +
		"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com"
	clientDelivered  = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"
	unknownAuthority = "edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
		"in the outbound handshake with sip.fabrikam.com (203.0.113.20:5061)"
	notInTopology = "fe02: MTLS peer fe99.contoso.com is not in the trusted server list, in the inbound handshake from 10.0.0.99 on the mtls listener"

	fe01ToEdge = "fe01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to edge01.contoso.com (172.16.0.10:5062) over MTLS, " +
		"TLS 1.3, peer certificate CN=edge01.contoso.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso; answered "
	fabrikamEdgeToFE = "fabrikam-edge01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to fe01.fabrikam.com (10.1.0.11:5062) " +
		"over MTLS, TLS 1.3, peer certificate CN=fe01.fabrikam.com,O=Fabrikam issued by CN=Fabrikam Issuing CA,O=Fabrikam; answered 200"
)

// edgeToFabrikam is edge01's relay to sip.fabrikam.com, whose certificate
// issuer is given.
func edgeToFabrikam(issuer string) string {
	return "edge01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to sip.fabrikam.com (203.0.113.20:5061) over MTLS, " +
		"TLS 1.3, peer certificate CN=sip.fabrikam.com,O=Fabrikam issued by " + issuer + "; answered 200"
}

var revokedRefusal = MatchRegexp(`^alice: pki: certificate "fe01\.contoso\.com" ` + serial +
	` revoked at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, reason keyCompromise \(OCSP http://pki\.contoso\.com/ocsp\), ` +
	`in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\)$`)

// revokedCheck is alice's OCSP answer for fe01's revoked certificate.
var revokedCheck = MatchRegexp(`^alice: revocation: OCSP http://pki\.contoso\.com/ocsp: "fe01\.contoso\.com" ` + serial +
	` revoked at \S+Z, reason keyCompromise$`)

var _ = Describe("baseline family", func() {
	DescribeTable("every defense on", runCase,
		scenarioEntry(scenarioCase{
			name:    "baseline/client-register-im",
			verdict: lab.Passed,
			service: lab.ServiceIntact,
			main:    Equal(clientDelivered),
			evidence: lines(
				one(aliceRegistered),
				aliceChecksFE01,
				one(clientDelivered),
			),
		}),
		scenarioEntry(scenarioCase{
			name:    "baseline/fe-to-fe-mtls",
			verdict: lab.Passed,
			service: lab.ServiceIntact,
			main:    Equal(feToFEDelivered),
			evidence: lines(
				one(aliceRegistered),
				aliceChecksFE01,
				contosoInternal("fe01", "fe02.contoso.com"),
				contosoInternal("fe02", "fe01.contoso.com"),
				one("fe01: relayed MESSAGE from alice@contoso.com to bob@contoso.com to fe02.contoso.com (10.0.0.12:5062) over MTLS, TLS 1.3, "+
					"peer certificate CN=fe02.contoso.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso; answered 200"),
				one(feToFEDelivered),
			),
		}),
		scenarioEntry(scenarioCase{
			name:    "baseline/federation-partner-ca",
			verdict: lab.Passed,
			service: lab.ServiceIntact,
			main:    Equal(federationDelivered),
			evidence: lines(
				one(aliceRegistered),
				aliceChecksFE01,
				contosoInternal("fe01", "edge01.contoso.com"),
				contosoInternal("edge01", "fe01.contoso.com"),
				fabrikamInternal("edge01", "sip.fabrikam.com"),
				contosoInternal("fabrikam-edge01", "sip.contoso.com"),
				fabrikamInternal("fabrikam-edge01", "fe01.fabrikam.com"),
				fabrikamInternal("fabrikam-fe01", "edge01.fabrikam.com"),
				one(fe01ToEdge+"200"),
				one(edgeToFabrikam("CN=Fabrikam Issuing CA,O=Fabrikam")),
				one(fabrikamEdgeToFE),
				one(federationDelivered),
			),
		}),
		scenarioEntry(scenarioCase{
			name:    "baseline/federation-public-ca",
			verdict: lab.Passed,
			service: lab.ServiceIntact,
			main:    Equal(federationDelivered),
			evidence: lines(
				one(aliceRegistered),
				aliceChecksFE01,
				contosoInternal("fe01", "edge01.contoso.com"),
				contosoInternal("edge01", "fe01.contoso.com"),
				one(ocspGood("edge01", "publictrust\\.com", "sip\\.fabrikam\\.com")),
				one(ocspGood("edge01", "publictrust\\.com", "Public Trust TLS CA")),
				one(ocspGood("fabrikam-edge01", "publictrust\\.com", "sip\\.contoso\\.com")),
				one(ocspGood("fabrikam-edge01", "publictrust\\.com", "Public Trust TLS CA")),
				fabrikamInternal("fabrikam-edge01", "fe01.fabrikam.com"),
				fabrikamInternal("fabrikam-fe01", "edge01.fabrikam.com"),
				one(fe01ToEdge+"200"),
				one(edgeToFabrikam("CN=Public Trust TLS CA,O=Public Trust")),
				one(fabrikamEdgeToFE),
				one(federationDelivered),
			),
		}),
		scenarioEntry(scenarioCase{
			name:      "baseline/federation-untrusted-partner-ca",
			verdict:   lab.Held,
			stoppedBy: []string{lab.DefenseChainValidation},
			service:   lab.ServiceDenied,
			main:      Equal(unknownAuthority),
			evidence: lines(
				one(aliceRegistered),
				aliceChecksFE01,
				contosoInternal("fe01", "edge01.contoso.com"),
				contosoInternal("edge01", "fe01.contoso.com"),
				one(fe01ToEdge+"502"),
				one("alice: MESSAGE to carol@fabrikam.com answered 502 Bad Gateway: edge01: tls: failed to verify certificate: "+
					"x509: certificate signed by unknown authority"),
				one("fabrikam-edge01: accepted edge01's federation connection to sip.fabrikam.com (203.0.113.20:5061)"),
				one("fabrikam-edge01: presented its certificate CN=sip.fabrikam.com,O=Fabrikam issued by CN=Fabrikam Issuing CA,O=Fabrikam to edge01"),
				one(unknownAuthority),
			),
		}),
		scenarioEntry(scenarioCase{
			name:      "baseline/mtls-peer-not-in-topology",
			verdict:   lab.Held,
			stoppedBy: []string{lab.DefenseTrustedServerList},
			service:   lab.ServiceIntact,
			main:      Equal(notInTopology),
			evidence: lines(
				one("fe02: service check: "+feToFEDelivered[len("fe02: "):]),
				one("fe99: rogue Front End running with certificate CN=fe99.contoso.com,O=Contoso (server+client) issued by "+
					"CN=Contoso Issuing CA 01,O=Contoso; fe99.contoso.com is not in the trusted server list"),
				one("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com through fe99 answered 502 Bad Gateway: "+
					"fe99: remote error: tls: bad certificate"),
				contosoInternal("fe99", "fe02.contoso.com"),
				contosoInternal("fe02", "fe99.contoso.com"),
				contosoInternal("fe02", "fe01.contoso.com"),
				one("fe99: fe02 accepted its MTLS connection from 10.0.0.99"),
				one("fe99: presented its certificate for fe99.contoso.com to fe02"),
				one(notInTopology),
			),
		}),
		scenarioEntry(scenarioCase{
			name:      "baseline/revoked-server-cert",
			verdict:   lab.Held,
			stoppedBy: []string{lab.DefenseRevocation},
			service:   lab.ServiceDenied,
			main:      revokedRefusal,
			evidence: lines(
				one(revokedCheck),
				one("fe01: accepted alice's connection to pool01.contoso.com (10.0.0.11:5061)"),
				one(MatchRegexp(`^fe01: presented its certificate CN=fe01\.contoso\.com,O=Contoso `+serial+
					` issued by CN=Contoso Issuing CA 01,O=Contoso to alice$`)),
				one(revokedRefusal),
			),
		}),
	)
})

// runParams runs a variant of a baseline and checks verdict and service;
// the expectation stays the catalog's, so a flipped defense shows as a
// mismatch when the verdict changes.
func runParams(ctx SpecContext, p baselineParams, verdict lab.Verdict, service lab.Availability) lab.Result {
	GinkgoHelper()
	res := lab.Runner{}.Run(ctx, p.scenario())
	if verdict == lab.Error {
		Expect(res.Err).To(HaveOccurred(), "evidence: %q", res.Evidence)
	} else {
		Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	}
	Expect(res.Verdict).To(Equal(verdict), "evidence: %q", res.Evidence)
	Expect(res.Service).To(Equal(service), "evidence: %q", res.Evidence)
	return res
}

// inconclusive asserts that res is an Error for the oracle's reason.
func inconclusive(res lab.Result, reason string) {
	GinkgoHelper()
	var inc *lab.InconclusiveError
	Expect(errors.As(res.Err, &inc)).To(BeTrue(), "%v", res.Err)
	Expect(inc.Reason).To(Equal(reason))
}

// Each refusal baseline holds because of one defense: turned off (or its
// configuration undone), the same attack succeeds or the same traffic
// flows.
var _ = Describe("the responsible defense does the work", func() {
	It("trusted server list off: fe02 accepts fe99's forged MESSAGE (broken)",
		Label(string(lab.LabelMTLS), string(lab.LabelMisconfig)), func(ctx SpecContext) {
			p := baselineInsider
			p.defenses = func(d *lab.Defenses) { d.TrustedServerList = false }
			res := runParams(ctx, p, lab.Broken, lab.ServiceIntact)
			Expect(res.OK).To(BeFalse())
			Expect(res.Compromises).To(HaveLen(1))
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseInjection))
			Expect(res.MainEvidence()).To(Equal("fe02: accepted an injected message: MESSAGE from alice@contoso.com to bob@contoso.com " +
				"carrying mallory's canary, relayed by fe99.contoso.com (MTLS verified: true), a server the topology does not list"))
			Expect(res.Evidence).To(ContainElement(HavePrefix("fe02: delivered the canary to bob@contoso.com from verified MTLS peer fe99.contoso.com (10.0.0.99)")))
			Expect(res.Evidence).NotTo(ContainElement(ContainSubstring("not in the trusted server list, in the inbound")))
		})

	It("revocation off: alice accepts fe01's revoked certificate (broken)",
		Label(string(lab.LabelRevocation), string(lab.LabelMisconfig)), func(ctx SpecContext) {
			p := baselineRevoked
			p.defenses = func(d *lab.Defenses) { d.Revocation = pki.RevocationOff }
			res := runParams(ctx, p, lab.Broken, lab.ServiceIntact)
			Expect(res.Compromises).To(HaveLen(1))
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseIdentity))
			Expect(res.MainEvidence()).To(MatchRegexp(`^alice: accepted the attacker as "pool01\.contoso\.com": certificate CN=fe01\.contoso\.com,O=Contoso ` +
				`\(serial 0x[0-9a-f]+\) was revoked at \S+Z, reason keyCompromise, and the handshake succeeded$`))
			Expect(res.Evidence).NotTo(ContainElement(ContainSubstring("revocation:")), "nothing was checked")
			Expect(res.Evidence).To(ContainElement(clientDelivered))
		})

	It("revocation soft-fail still refuses a certificate known to be revoked (held by revocation)",
		Label(string(lab.LabelRevocation)), func(ctx SpecContext) {
			p := baselineRevoked
			p.defenses = func(d *lab.Defenses) { d.Revocation = pki.RevocationSoftFail }
			res := runParams(ctx, p, lab.Held, lab.ServiceDenied)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseRevocation}))
			Expect(res.MainEvidence()).To(revokedRefusal)
		})

	It("contoso's Edge importing Fabrikam's root: the partner is trusted and the canary reaches carol; nothing refused, so no verdict (error)",
		Label(string(lab.LabelFederation)), func(ctx SpecContext) {
			p := baselineUntrustedPartner
			p.topology.ContosoEdgeOmitsFabrikamRoot = false
			res := runParams(ctx, p, lab.Error, lab.ServiceIntact)
			inconclusive(res, lab.ReasonNoDefense)
			Expect(res.Compromises).To(BeEmpty())
			Expect(res.Refusals).To(BeEmpty())
			Expect(res.Evidence).To(ContainElements(
				"fabrikam-edge01: presented its certificate CN=sip.fabrikam.com,O=Fabrikam issued by CN=Fabrikam Issuing CA,O=Fabrikam to edge01",
				federationDelivered,
			))
			Expect(res.Evidence).NotTo(ContainElement(ContainSubstring("unknown authority")))
		})

	It("chain validation off: contoso's Edge accepts the partner it does not trust (broken)",
		Label(string(lab.LabelFederation), string(lab.LabelMisconfig)), func(ctx SpecContext) {
			p := baselineUntrustedPartner
			p.defenses = func(d *lab.Defenses) { d.ChainValidation = false }
			res := runParams(ctx, p, lab.Broken, lab.ServiceIntact)
			Expect(res.Compromises).To(HaveLen(1))
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseIdentity))
			Expect(res.MainEvidence()).To(Equal(`edge01: accepted the attacker as "sip.fabrikam.com": its certificate CN=sip.fabrikam.com,O=Fabrikam ` +
				`issued by CN=Fabrikam Issuing CA,O=Fabrikam does not verify against edge01's federation trust store ` +
				`(x509: certificate signed by unknown authority)`))
		})
})

// With the PKI host unreachable (its frames dropped), only the revocation
// mode decides: soft-fail accepts fe01's certificate (the baseline passes),
// hard-fail refuses it with the exact reason, which fails the baseline.
// Every query timed out, which the lab cannot tell from its own load, so
// hard-fail's refusal is not counted as a refusal (lab.ClassifyRefusal):
// the baseline fails because its canary was not delivered.
var _ = Describe("an unreachable PKI host", Label(string(lab.LabelRevocation)), func() {
	unreachable := func(mode pki.RevocationMode) baselineParams {
		p := baselineClientIM
		p.play = refuseRevoked // alice's client accepts or refuses fe01, and says why
		p.unreachable = []string{"pki01"}
		p.topology.RevocationTimeout = 200 * time.Millisecond
		p.defenses = func(d *lab.Defenses) { d.Revocation = mode }
		return p
	}
	queries := `OCSP http://pki\.contoso\.com/ocsp: .+; CRL http://pki\.contoso\.com/crl/contoso-issuing\.crl: .+`
	timedOut := `OCSP http://pki\.contoso\.com/ocsp: dial tcp 10\.0\.0\.80:80: i/o timeout; ` +
		`CRL http://pki\.contoso\.com/crl/contoso-issuing\.crl: dial tcp 10\.0\.0\.80:80: i/o timeout`

	It("soft-fail accepts fe01's certificate and alice's canary is delivered (passed)", func(ctx SpecContext) {
		res := runParams(ctx, unreachable(pki.RevocationSoftFail), lab.Passed, lab.ServiceIntact)
		Expect(res.MainEvidence()).To(Equal(clientDelivered))
		Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: revocation: "fe01\.contoso\.com" ` + serial +
			` unavailable, soft-fail accepted: ` + queries + `$`)))
	})

	It("hard-fail refuses fe01's certificate, status unavailable: the baseline fails (error)", func(ctx SpecContext) {
		res := runParams(ctx, unreachable(pki.RevocationHardFail), lab.Error, lab.ServiceDenied)
		inconclusive(res, lab.ReasonNotDelivered)
		Expect(res.Refusals).To(BeEmpty())
		Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: pki: revocation status of "fe01\.contoso\.com" unavailable: ` + timedOut +
			`, in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\)$`)))
		Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: revocation: "fe01\.contoso\.com" ` + serial +
			` unavailable, hard-fail rejected: ` + queries + `$`)))
	})
})

// A sabotaged untrusted peer never reaches its victim's certificate
// check, and each refusal baseline is inconclusive: a peer that is down
// (proxy-refuses, spoofer-silent) never got in position; one that accepts
// connections and never answers (proxy-hangs) did, for the two whose
// victim dials them, and no defense was seen refusing it.
var _ = Describe("sabotaged untrusted peers", Label("sabotage"), func() {
	It("leave every refusal baseline inconclusive", func(ctx SpecContext) {
		ps := []baselineParams{baselineUntrustedPartner, baselineInsider, baselineRevoked}
		for _, sab := range lab.Sabotages() {
			scenarios := make([]lab.Scenario, len(ps))
			for i, p := range ps {
				scenarios[i] = p.scenario()
			}
			for i, res := range (lab.Runner{Sabotage: sab, Parallel: len(ps)}).RunAll(ctx, scenarios) {
				Expect(res.Verdict).To(Equal(lab.Error), "%s with %s: evidence %q", ps[i].name, sab, res.Evidence)
				Expect(res.Refusals).To(BeEmpty(), "%s with %s", ps[i].name, sab)
				if sab == lab.SabotageProxyHangs && ps[i].name != baselineRevoked.name {
					inconclusive(res, lab.ReasonNoDefense)
					Expect(res.Milestones).To(HaveLen(1), "%s with %s", ps[i].name, sab)
					Expect(res.Milestones[0].Milestone).To(Equal(lab.MilestoneInPosition))
				} else {
					inconclusive(res, lab.ReasonNotCarriedOut)
					Expect(res.Milestones).To(BeEmpty(), "%s with %s", ps[i].name, sab)
				}
				Expect(res.Evidence).To(ContainElement(HavePrefix(fmt.Sprintf("%s: sabotaged (%s): ", []string{"fabrikam-edge01", "fe99", "fe01"}[i], sab))),
					"%s with %s", ps[i].name, sab)
			}
		}
	}, SpecTimeout(time.Minute))
})

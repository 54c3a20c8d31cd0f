package scenarios

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
)

// baselineCase is what one baseline scenario must produce with every
// defense on: held, the service as observed, the exact main evidence, and
// some of the lines before it.
type baselineCase struct {
	name    string
	service lab.Availability
	main    types.GomegaMatcher
	// lines must each match some evidence line.
	lines []types.GomegaMatcher
}

// baselineEntry is a table entry for a baseline scenario, labelled with
// its labels and counted as covered.
func baselineEntry(c baselineCase) TableEntry {
	covered[c.name] = true
	s, err := Catalog().Lookup(c.name)
	if err != nil {
		panic(err)
	}
	return Entry(c.name, ginkgoLabels(s), c)
}

// runBaseline runs a catalog baseline and checks it.
func runBaseline(ctx SpecContext, c baselineCase) {
	s, err := Catalog().Lookup(c.name)
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Topology).To(BeAssignableToTypeOf(lab.ContosoConfig{}), "baselines run on the contoso preset")

	res := lab.Runner{}.Run(ctx, s)

	Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(lab.Held), "evidence: %q", res.Evidence)
	Expect(res.OK).To(BeTrue())
	Expect(res.Compromises).To(BeEmpty())
	Expect(res.Service).To(Equal(c.service))
	Expect(res.MainEvidence()).To(c.main)
	for _, m := range c.lines {
		Expect(res.Evidence).To(ContainElement(m))
	}
}

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

const (
	federationDelivered = "fabrikam-fe01: delivered the canary to carol@fabrikam.com from verified MTLS peer edge01.fabrikam.com (10.1.0.5), " +
		"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com > sip.contoso.com > edge01.fabrikam.com"
	feToFEDelivered = "fe02: delivered the canary to bob@contoso.com from verified MTLS peer fe01.contoso.com (10.0.0.11), " +
		"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com"
	clientDelivered  = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.10)"
	unknownAuthority = "edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
		"in the outbound handshake with sip.fabrikam.com (203.0.113.20:5061)"
	notInTopology = "fe02: MTLS peer fe99.contoso.com is not in the trusted server list, in the inbound handshake from 10.0.0.99 on the mtls listener"
)

var revokedRefusal = MatchRegexp(`^alice: pki: certificate "fe01\.contoso\.com" ` + serial +
	` revoked at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, reason keyCompromise \(OCSP http://pki\.contoso\.com/ocsp\), ` +
	`in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\)$`)

var _ = Describe("baseline family", func() {
	DescribeTable("every defense on", runBaseline,
		baselineEntry(baselineCase{
			name:    "baseline/client-register-im",
			service: lab.ServiceIntact,
			main:    Equal(clientDelivered),
			lines: []types.GomegaMatcher{
				aliceRegistered,
				ocspGood("alice", "contoso\\.com", "fe01\\.contoso\\.com"),
				ocspGood("alice", "contoso\\.com", "Contoso Issuing CA 01"),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/fe-to-fe-mtls",
			service: lab.ServiceIntact,
			main:    Equal(feToFEDelivered),
			lines: []types.GomegaMatcher{
				aliceRegistered,
				ocspGood("fe01", "contoso\\.com", "fe02\\.contoso\\.com"),
				ocspGood("fe02", "contoso\\.com", "fe01\\.contoso\\.com"),
				MatchRegexp(`^fe01: relayed MESSAGE from alice@contoso\.com to bob@contoso\.com to fe02\.contoso\.com \(10\.0\.0\.12:5062\) ` +
					`over MTLS, TLS 1\.3, peer certificate CN=fe02\.contoso\.com,O=Contoso issued by CN=Contoso Issuing CA 01,O=Contoso; answered 200$`),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/federation-partner-ca",
			service: lab.ServiceIntact,
			main:    Equal(federationDelivered),
			lines: []types.GomegaMatcher{
				ocspGood("edge01", "fabrikam\\.com", "sip\\.fabrikam\\.com"),
				ocspGood("fabrikam-edge01", "contoso\\.com", "sip\\.contoso\\.com"),
				ContainSubstring("edge01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to sip.fabrikam.com (203.0.113.20:5061) over MTLS, " +
					"TLS 1.3, peer certificate CN=sip.fabrikam.com,O=Fabrikam issued by CN=Fabrikam Issuing CA,O=Fabrikam; answered 200"),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/federation-public-ca",
			service: lab.ServiceIntact,
			main:    Equal(federationDelivered),
			lines: []types.GomegaMatcher{
				ocspGood("edge01", "publictrust\\.com", "sip\\.fabrikam\\.com"),
				ocspGood("fabrikam-edge01", "publictrust\\.com", "sip\\.contoso\\.com"),
				ContainSubstring("to sip.fabrikam.com (203.0.113.20:5061) over MTLS, TLS 1.3, peer certificate CN=sip.fabrikam.com,O=Fabrikam " +
					"issued by CN=Public Trust TLS CA,O=Public Trust; answered 200"),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/federation-untrusted-partner-ca",
			service: lab.ServiceDenied,
			main:    Equal(unknownAuthority),
			lines: []types.GomegaMatcher{
				Equal("alice: MESSAGE to carol@fabrikam.com answered 502 Bad Gateway: edge01: tls: failed to verify certificate: " +
					"x509: certificate signed by unknown authority"),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/mtls-peer-not-in-topology",
			service: lab.ServiceIntact,
			main:    Equal(notInTopology),
			lines: []types.GomegaMatcher{
				Equal("fe02: service check: " + feToFEDelivered[len("fe02: "):]),
				Equal("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com through fe99 answered 502 Bad Gateway: " +
					"fe99: remote error: tls: bad certificate"),
				ocspGood("fe02", "contoso\\.com", "fe99\\.contoso\\.com"),
			},
		}),
		baselineEntry(baselineCase{
			name:    "baseline/revoked-server-cert",
			service: lab.ServiceDenied,
			main:    revokedRefusal,
			lines: []types.GomegaMatcher{
				MatchRegexp(`^alice: revocation: OCSP http://pki\.contoso\.com/ocsp: "fe01\.contoso\.com" ` + serial +
					` revoked at \S+Z, reason keyCompromise$`),
			},
		}),
	)
})

// runParams runs a variant of a baseline and checks verdict and service;
// the expectation stays the catalog's, so a flipped defense shows as a
// mismatch when the verdict changes.
func runParams(ctx SpecContext, p baselineParams, verdict lab.Verdict, service lab.Availability) lab.Result {
	GinkgoHelper()
	res := lab.Runner{}.Run(ctx, p.scenario())
	Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(verdict), "evidence: %q", res.Evidence)
	Expect(res.Service).To(Equal(service), "evidence: %q", res.Evidence)
	return res
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

	It("revocation soft-fail still refuses a certificate known to be revoked (held)",
		Label(string(lab.LabelRevocation)), func(ctx SpecContext) {
			p := baselineRevoked
			p.defenses = func(d *lab.Defenses) { d.Revocation = pki.RevocationSoftFail }
			res := runParams(ctx, p, lab.Held, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(revokedRefusal)
		})

	It("contoso's Edge importing Fabrikam's root: the canary reaches carol (held, service intact)",
		Label(string(lab.LabelFederation)), func(ctx SpecContext) {
			p := baselineUntrustedPartner
			p.topology.ContosoEdgeOmitsFabrikamRoot = false
			res := runParams(ctx, p, lab.Held, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(Equal(federationDelivered))
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

// With the PKI host unreachable, only the revocation mode decides: soft-fail
// accepts fe01's certificate, hard-fail refuses it with the exact reason.
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

	It("soft-fail accepts fe01's certificate and alice's canary is delivered", func(ctx SpecContext) {
		res := runParams(ctx, unreachable(pki.RevocationSoftFail), lab.Held, lab.ServiceIntact)
		Expect(res.MainEvidence()).To(Equal(clientDelivered))
		Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: revocation: "fe01\.contoso\.com" ` + serial +
			` unavailable, soft-fail accepted: ` + queries + `$`)))
	})

	It("hard-fail refuses fe01's certificate: status unavailable", func(ctx SpecContext) {
		res := runParams(ctx, unreachable(pki.RevocationHardFail), lab.Held, lab.ServiceDenied)
		Expect(res.MainEvidence()).To(MatchRegexp(`^alice: pki: revocation status of "fe01\.contoso\.com" unavailable: ` + queries +
			`, in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\)$`))
		Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: revocation: "fe01\.contoso\.com" ` + serial +
			` unavailable, hard-fail rejected: ` + queries + `$`)))
	})
})

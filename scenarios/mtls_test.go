package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

// familyCase is what one attack scenario must produce as the catalog
// declares it: its verdict, the service, the exact main evidence and some
// lines before it.
type familyCase struct {
	name    string
	verdict lab.Verdict
	service lab.Availability
	main    types.GomegaMatcher
	lines   []types.GomegaMatcher
	kinds   []lab.CompromiseKind
}

// familyEntry is a table entry for a catalog scenario, labelled with its
// labels and counted as covered.
func familyEntry(c familyCase) TableEntry {
	covered[c.name] = true
	s, err := Catalog().Lookup(c.name)
	if err != nil {
		panic(err)
	}
	return Entry(c.name, ginkgoLabels(s), c)
}

// runFamilyCase runs a catalog scenario and checks it against c.
func runFamilyCase(ctx SpecContext, c familyCase) {
	s, err := Catalog().Lookup(c.name)
	Expect(err).NotTo(HaveOccurred())
	res := lab.Runner{}.Run(ctx, s)
	Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(c.verdict), "evidence: %q", res.Evidence)
	Expect(res.Expected).To(Equal(c.verdict))
	Expect(res.OK).To(BeTrue())
	Expect(res.Service).To(Equal(c.service), "evidence: %q", res.Evidence)
	Expect(res.MainEvidence()).To(c.main, "evidence: %q", res.Evidence)
	for _, m := range c.lines {
		Expect(res.Evidence).To(ContainElement(m))
	}
	kinds := []lab.CompromiseKind{}
	for _, cp := range res.Compromises {
		kinds = append(kinds, cp.Kind)
	}
	if c.kinds == nil {
		c.kinds = []lab.CompromiseKind{}
	}
	Expect(kinds).To(Equal(c.kinds))
}

// runFlipped runs a scenario built from a family's params with a defense
// flipped and checks the verdict and service it observed.
func runFlipped(ctx SpecContext, s lab.Scenario, verdict lab.Verdict, service lab.Availability) lab.Result {
	GinkgoHelper()
	res := lab.Runner{}.Run(ctx, s)
	Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(verdict), "evidence: %q", res.Evidence)
	Expect(res.Service).To(Equal(service), "evidence: %q", res.Evidence)
	return res
}

const (
	mtlsServiceCheck = "fe02: service check: delivered the canary to bob@contoso.com from verified MTLS peer fe01.contoso.com (10.0.0.11), " +
		"sent by alice@contoso.com, path 10.0.0.10 > fe01.contoso.com"
	mtlsInjected = "fe02: accepted an injected message: MESSAGE from alice@contoso.com to bob@contoso.com carrying mallory's canary, " +
		"relayed by fe99.contoso.com from 10.0.0.99 (MTLS verified: true)"
)

func inbound(reason string) string {
	return "fe02: " + reason + ", in the inbound handshake from 10.0.0.99 on the mtls listener"
}

var _ = Describe("mtls family", func() {
	DescribeTable("mallory connects to fe02's MTLS port", runFamilyCase,
		familyEntry(familyCase{
			name: "mtls/no-client-cert", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(inbound("tls: client didn't provide a certificate")),
			lines: []types.GomegaMatcher{
				Equal("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com failed: remote error: tls: certificate required"),
				Equal(mtlsServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "mtls/untrusted-client-cert", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(inbound("tls: failed to verify certificate: x509: certificate signed by unknown authority")),
			lines: []types.GomegaMatcher{
				HavePrefix("mallory: presented a self-signed certificate (CN=fe01.contoso.com, issued by CN=fe01.contoso.com"),
				Equal(mtlsServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "mtls/not-in-topology", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(inbound("MTLS peer fe99.contoso.com is not in the trusted server list")),
			lines: []types.GomegaMatcher{
				Equal("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com failed: remote error: tls: bad certificate"),
				Equal(mtlsServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "mtls/not-in-topology-list-off", verdict: lab.Broken, service: lab.ServiceIntact,
			main: Equal(mtlsInjected),
			lines: []types.GomegaMatcher{
				Equal("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com answered 200 OK"),
				Equal("fe02: delivered the canary to bob@contoso.com from verified MTLS peer fe99.contoso.com (10.0.0.99), sent by alice@contoso.com, path fe99.contoso.com"),
			},
			kinds: []lab.CompromiseKind{lab.CompromiseInjection},
		}),
		familyEntry(familyCase{
			name: "mtls/missing-client-auth-eku", verdict: lab.Held, service: lab.ServiceIntact,
			main: Equal(inbound("tls: failed to verify certificate: x509: certificate specifies an incompatible key usage")),
			lines: []types.GomegaMatcher{
				ContainSubstring("extended key usage serverAuth) to fe02.contoso.com (10.0.0.12:5062)"),
				Equal(mtlsServiceCheck),
			},
		}),
		familyEntry(familyCase{
			name: "mtls/relay-between-front-ends", verdict: lab.Held, service: lab.ServiceDenied,
			main: Equal("fe01: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
				"in the outbound handshake with fe02.contoso.com (10.0.0.12:5062)"),
			lines: []types.GomegaMatcher{
				Equal("mallory: 0 of 1 canary in 0 B of plaintext SIP after terminating fe01's TLS"),
				MatchRegexp(`^mallory: 10\.0\.0\.11 -> 10\.0\.0\.12 intercepted \(\d+ frames\)$`),
				MatchRegexp(`^mallory: intercepted 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062: fe01's side failed: remote error: tls: bad certificate; fe02's side not reached$`),
			},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelMTLS), string(lab.LabelMisconfig)), func() {
		flip := func(p mtlsParams, f func(*lab.Defenses)) lab.Scenario {
			p.defenses = f
			return p.scenario()
		}
		It("client certificate not required: the trusted server list still refuses a peer without a name (held)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsNoClientCert, func(d *lab.Defenses) { d.ClientCertRequired = false }), lab.Held, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(Equal(inbound("MTLS peer presented no certificate, so it cannot be matched against the trusted server list")))
		})
		It("client certificate not required and no trusted server list: fe02 takes mallory's message without one (broken)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsNoClientCert, func(d *lab.Defenses) { d.ClientCertRequired = false; d.TrustedServerList = false }),
				lab.Broken, lab.ServiceIntact)
			Expect(res.Compromises).To(HaveLen(1))
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseInjection))
			Expect(res.MainEvidence()).To(Equal("fe02: accepted an injected message: MESSAGE from alice@contoso.com to bob@contoso.com " +
				"carrying mallory's canary, relayed by a peer without a certificate from 10.0.0.99 (TLS verified: false)"))
		})
		It("chain validation off: fe02 takes the self-signed certificate (broken)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsUntrustedCert, func(d *lab.Defenses) { d.ChainValidation = false }), lab.Broken, lab.ServiceIntact)
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseInjection))
		})
		It("trusted server list off: fe02 takes fe99's message (broken)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsNotInTopology, func(d *lab.Defenses) { d.TrustedServerList = false }), lab.Broken, lab.ServiceIntact)
			Expect(res.MainEvidence()).To(Equal(mtlsInjected))
		})
		It("chain validation off: fe02 takes the serverAuth-only certificate (broken)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsMissingClientAuth, func(d *lab.Defenses) { d.ChainValidation = false }), lab.Broken, lab.ServiceIntact)
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseInjection))
		})
		// fe01 taking mallory's certificate is the compromise; whether the
		// relay then also carries the canary depends on mallory keeping both
		// directions of her ARP position through the exchange.
		It("chain validation off: fe01 accepts mallory as fe02 (broken)", func(ctx SpecContext) {
			p := mtlsRelay
			p.defenses = func(d *lab.Defenses) { d.ChainValidation = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceDenied)
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseIdentity))
			Expect(res.MainEvidence()).To(HavePrefix("fe01: accepted"))
		})
	})
})

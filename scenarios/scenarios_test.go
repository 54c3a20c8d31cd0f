package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

// scenarioCase is what one catalog scenario must produce when run.
type scenarioCase struct {
	name    string
	verdict lab.Verdict
	// stoppedBy is, for held, every defense seen refusing, in order: the
	// first is the decisive one and must be the scenario's StoppedBy.
	stoppedBy   []string
	service     lab.Availability
	main        types.GomegaMatcher   // Result.MainEvidence
	evidence    []types.GomegaMatcher // every evidence line, in order
	compromises []lab.CompromiseKind  // kinds, in order
}

// covered collects the names of the scenarios that have a table entry, while
// the spec tree is built, so a spec can insist that none is left out.
var covered = map[string]bool{}

// scenarioEntry is a table entry for a catalog scenario, labelled with the
// scenario's labels so 'ginkgo --label-filter=tls' selects it.
func scenarioEntry(c scenarioCase) TableEntry {
	covered[c.name] = true
	s, err := Catalog().Lookup(c.name)
	if err != nil {
		// Building the tree: fail loudly rather than skip a scenario.
		panic(err)
	}
	return Entry(c.name, ginkgoLabels(s), c)
}

func ginkgoLabels(s lab.Scenario) Labels {
	ls := make(Labels, len(s.Labels))
	for i, l := range s.Labels {
		ls[i] = string(l)
	}
	return ls
}

// runCase runs one catalog scenario in a fresh World and checks its result.
func runCase(ctx SpecContext, c scenarioCase) {
	s, err := Catalog().Lookup(c.name)
	Expect(err).NotTo(HaveOccurred())

	res := lab.Runner{}.Run(ctx, s)

	Expect(res.Err).NotTo(HaveOccurred(), "evidence so far: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(c.verdict), "evidence: %q", res.Evidence)
	Expect(res.Expected).To(Equal(c.verdict), "the catalog's expectation")
	Expect(res.OK).To(BeTrue())
	if len(c.stoppedBy) == 0 {
		Expect(res.StoppedBy).To(BeEmpty(), "evidence: %q", res.Evidence)
	} else {
		Expect(res.StoppedBy).To(Equal(c.stoppedBy), "evidence: %q", res.Evidence)
		Expect(res.ExpectedStoppedBy).To(Equal(c.stoppedBy[0]), "the catalog's decisive defense")
	}
	Expect(res.Service).To(Equal(c.service))
	Expect(res.MainEvidence()).To(c.main)
	Expect(res.Evidence).To(HaveExactElements(toAny(c.evidence)...))
	kinds := make([]lab.CompromiseKind, len(res.Compromises))
	for i, cp := range res.Compromises {
		kinds[i] = cp.Kind
	}
	if len(c.compromises) == 0 {
		Expect(kinds).To(BeEmpty())
	} else {
		Expect(kinds).To(Equal(c.compromises))
	}
}

// officeTLSEvidence is every line of a TLS run of the office family, in
// order: two messages sent and delivered, the tap's position and
// handshakes, its refusal (TLS records only) and its empty haul.
func officeTLSEvidence() []types.GomegaMatcher {
	return []types.GomegaMatcher{
		MatchRegexp(`^alice: sent 2 of 2 messages to dave@contoso\.com through pool01\.contoso\.com \(10\.0\.0\.11:5061, ` +
			`found through _sip\._tls\.contoso\.com\) over TLS 1\.3 ` + tls13Suite + `, server certificate CN=fe01\.contoso\.com,O=Contoso ` +
			`issued by CN=Contoso Issuing CA 01,O=Contoso$`),
		Equal(officeDelivered),
		officeCaptured(5061),
		tlsFact,
		tlsFact,
		officeTLSOnly,
		canaryLine(0, 2),
	}
}

// officePlainEvidence is every line of a plaintext run of the office
// family: fe01 refuses TLS, alice falls back to 5060 and the tap reads
// both canaries.
func officePlainEvidence() []types.GomegaMatcher {
	return []types.GomegaMatcher{
		Equal("alice: sent 2 of 2 messages to dave@contoso.com through pool01.contoso.com (10.0.0.11:5060) over plain TCP, " +
			"after TLS to pool01.contoso.com (10.0.0.11:5061) failed: dial tcp 10.0.0.11:5061: connect: connection refused"),
		Equal(officeDelivered),
		officeCaptured(5061),
		officeCaptured(5060),
		Equal("eavesdropper: no TLS handshake in 8 TCP stream directions"),
		canaryLine(2, 2),
	}
}

// officeDelivered is fe01's delivery line in every office run.
const officeDelivered = "fe01: delivered 2 of 2 messages to dave@contoso.com"

func toAny(ms []types.GomegaMatcher) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// canaryLine matches the eavesdropper's verdict-bearing line, e.g.
// "eavesdropper: 0 of 2 canaries in 8.0 KiB of captured TCP payload on
// contoso-lan".
func canaryLine(found, total int) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: %d of %d canaries in [0-9]+(\.[0-9])? (B|KiB) of captured TCP payload on contoso-lan$`, found, total)
}

// tlsFact matches what the eavesdropper read in one TLS 1.3 handshake from
// alice to fe01 (the cipher suite depends on the CPU's AES support).
var tlsFact = MatchRegexp(`^eavesdropper: TLS 10\.0\.0\.10:[0-9]+ -> 10\.0\.0\.11:5061: TLS 1\.3, ` +
	`(TLS_AES_128_GCM_SHA256|TLS_AES_256_GCM_SHA384|TLS_CHACHA20_POLY1305_SHA256), SNI pool01\.contoso\.com$`)

var _ = Describe("catalog", func() {
	It("is valid: unique family/name names, known labels, one-line summaries, stories", func() {
		c := Catalog()
		Expect(c.Validate()).To(Succeed())
		for _, s := range c {
			Expect(s.Story).NotTo(BeEmpty(), "%s has no story", s.Name)
		}
	})

	It("has a table entry for every scenario", func() {
		Expect(covered).To(HaveLen(len(Catalog())))
		for _, name := range Catalog().Names() {
			Expect(covered).To(HaveKey(name), "add an entry for %s to scenarios_test.go", name)
		}
	})
})

// tls13Suite matches any TLS 1.3 cipher suite (which one depends on the
// CPU's AES support).
const tls13Suite = `(TLS_AES_128_GCM_SHA256|TLS_AES_256_GCM_SHA384|TLS_CHACHA20_POLY1305_SHA256)`

// officeCaptured matches the eavesdropper's position: the frames it
// captured of alice's two connections to fe01 on port.
func officeCaptured(port int) types.GomegaMatcher {
	return MatchRegexp(`^eavesdropper: captured [0-9]+ frames of alice's 2 connections to fe01 \(10\.0\.0\.11:%d\)$`, port)
}

// officeTLSOnly matches the refusal the eavesdropper met on contoso-lan:
// alice's two connections carried only TLS records.
var officeTLSOnly = MatchRegexp(`^alice: sent and received only TLS records on 2 connections to fe01 \(10\.0\.0\.11:5061\), ` +
	`TLS 1\.3 ` + tls13Suite + `; the eavesdropper holds no key for them$`)

var _ = Describe("eavesdrop family", func() {
	DescribeTable("a passive listener on contoso-lan while alice messages dave", runCase,
		scenarioEntry(scenarioCase{
			name:      "eavesdrop/tls",
			verdict:   lab.Held,
			stoppedBy: []string{lab.DefenseTLSOnly},
			service:   lab.ServiceIntact,
			main:      officeTLSOnly,
			evidence:  officeTLSEvidence(),
		}),
		scenarioEntry(scenarioCase{
			name:        "eavesdrop/plaintext",
			verdict:     lab.Broken,
			service:     lab.ServiceIntact,
			main:        canaryLine(2, 2),
			evidence:    officePlainEvidence(),
			compromises: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
	)
})

// Flipping a defense in a scenario's declaration, without touching its
// expectation, must flip the verdict: the verdict is decided from what the
// run observed, never from what the catalog expects. The office family's
// transport follows the run's tls-only switch.
var _ = Describe("verdicts follow evidence, not expectations", func() {
	It("eavesdrop/tls run with tls-only off falls back to plain TCP and comes out broken, though it still expects held",
		Label(string(lab.LabelEavesdrop), string(lab.LabelPlaintext), string(lab.LabelMisconfig)),
		func(ctx SpecContext) {
			p := eavesdropTLS
			p.defenses = func(d *lab.Defenses) { d.TLSOnly = false }
			s := p.scenario()
			Expect(s.Name).To(Equal("eavesdrop/tls"))
			Expect(s.Expected).To(Equal(lab.Held))
			Expect(s.StoppedBy).To(Equal(lab.DefenseTLSOnly))

			res := lab.Runner{}.Run(ctx, s)

			Expect(res.Err).NotTo(HaveOccurred())
			Expect(res.Verdict).To(Equal(lab.Broken))
			Expect(res.StoppedBy).To(BeEmpty())
			Expect(res.Refusals).To(BeEmpty())
			Expect(res.OK).To(BeFalse())
			Expect(res.MainEvidence()).To(canaryLine(2, 2))
			Expect(res.Evidence).To(HaveExactElements(toAny(officePlainEvidence())...))
			Expect(lab.Summarize([]lab.Result{res})).To(Equal(lab.Summary{Total: 1, Differed: 1}))
		})

	It("eavesdrop/plaintext run with tls-only on talks TLS and comes out held by tls-only, though it still expects broken",
		Label(string(lab.LabelEavesdrop), string(lab.LabelTLS)),
		func(ctx SpecContext) {
			p := eavesdropPlaintext
			p.defenses = nil
			s := p.scenario()
			Expect(s.Expected).To(Equal(lab.Broken))

			res := lab.Runner{}.Run(ctx, s)

			Expect(res.Err).NotTo(HaveOccurred())
			Expect(res.Verdict).To(Equal(lab.Held))
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseTLSOnly}))
			Expect(res.OK).To(BeFalse())
			Expect(res.Compromises).To(BeEmpty())
			Expect(res.MainEvidence()).To(officeTLSOnly)
			Expect(res.Evidence).To(HaveExactElements(toAny(officeTLSEvidence())...))
			Expect(lab.Summarize([]lab.Result{res})).To(Equal(lab.Summary{Total: 1, Differed: 1}))
		})
})

package scenarios

import (
	"errors"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
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
	fe99Cert = "fe99's own enterprise certificate (CN=fe99.contoso.com,O=Contoso, issued by CN=Contoso Issuing CA 01,O=Contoso, " +
		"extended key usage serverAuth,clientAuth) to fe02.contoso.com (10.0.0.12:5062)"
)

func inbound(reason string) string {
	return "fe02: " + reason + ", in the inbound handshake from 10.0.0.99 on the mtls listener"
}

// mtlsConnected matches mallory's position: fe02 accepted her connection.
var mtlsConnected = MatchRegexp(`^mallory: fe02\.contoso\.com \(10\.0\.0\.12:5062\) accepted her TCP connection from 10\.0\.0\.99:\d+$`)

// forgedFailed is how mallory's forged MESSAGE ended: the alert fe02 sent.
func forgedFailed(alert string) string {
	return "mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com failed: remote error: tls: " + alert
}

// The relay's lines: mallory's MAC depends on how many NICs the topology
// made before hers.
var (
	relaySpoofing = MatchRegexp(`^mallory: ARP spoofing on contoso-lan: tells fe01 that 10\.0\.0\.12 \(fe02\) is at her MAC ([0-9a-f]{2}:){5}[0-9a-f]{2}, ` +
		`and fe02 that 10\.0\.0\.11 \(fe01\) is$`)
	relayPoisonedFE01 = MatchRegexp(`^mallory: ARP spoofing on contoso-lan: fe01's ARP cache maps 10\.0\.0\.12 \(fe02\) to ` +
		`([0-9a-f:]{17}), mallory's MAC, not fe02's ([0-9a-f:]{17})$`)
	relayPoisonedFE02 = MatchRegexp(`^mallory: ARP spoofing on contoso-lan: fe02's ARP cache maps 10\.0\.0\.11 \(fe01\) to ` +
		`([0-9a-f:]{17}), mallory's MAC, not fe01's ([0-9a-f:]{17})$`)
	relayFlowFE01   = MatchRegexp(`^mallory: 10\.0\.0\.11 -> 10\.0\.0\.12 intercepted \(\d+ frames\)$`)
	relayNoFlowFE02 = "mallory: 10.0.0.12 -> 10.0.0.11 not intercepted"
	relayRefusal    = "fe01: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
		"in the outbound handshake with fe02.contoso.com (10.0.0.12:5062)"
)

var _ = Describe("mtls family", func() {
	DescribeTable("mallory connects to fe02's MTLS port", runCase,
		scenarioEntry(scenarioCase{
			name: "mtls/no-client-cert", verdict: lab.Held, stoppedBy: []string{lab.DefenseClientCertRequired}, service: lab.ServiceIntact,
			main: Equal(inbound("tls: client didn't provide a certificate")),
			evidence: []types.GomegaMatcher{
				mtlsConnected,
				Equal("mallory: presented no client certificate to fe02.contoso.com (10.0.0.12:5062)"),
				Equal(forgedFailed("certificate required")),
				Equal(mtlsServiceCheck),
				Equal(inbound("tls: client didn't provide a certificate")),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "mtls/untrusted-client-cert", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceIntact,
			main: Equal(inbound("tls: failed to verify certificate: x509: certificate signed by unknown authority")),
			evidence: []types.GomegaMatcher{
				mtlsConnected,
				Equal("mallory: presented a self-signed certificate (CN=fe01.contoso.com, issued by CN=fe01.contoso.com, " +
					"extended key usage serverAuth) to fe02.contoso.com (10.0.0.12:5062)"),
				Equal(forgedFailed("unknown certificate authority")),
				Equal(mtlsServiceCheck),
				Equal(inbound("tls: failed to verify certificate: x509: certificate signed by unknown authority")),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "mtls/not-in-topology", verdict: lab.Held, stoppedBy: []string{lab.DefenseTrustedServerList}, service: lab.ServiceIntact,
			main: Equal(inbound("MTLS peer fe99.contoso.com is not in the trusted server list")),
			evidence: []types.GomegaMatcher{
				mtlsConnected,
				Equal("mallory: presented " + fe99Cert),
				Equal(forgedFailed("bad certificate")),
				Equal(mtlsServiceCheck),
				Equal(inbound("MTLS peer fe99.contoso.com is not in the trusted server list")),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "mtls/not-in-topology-list-off", verdict: lab.Broken, service: lab.ServiceIntact,
			main: Equal(mtlsInjected),
			evidence: []types.GomegaMatcher{
				mtlsConnected,
				Equal("mallory: presented " + fe99Cert),
				Equal("mallory: forged MESSAGE from alice@contoso.com to bob@contoso.com answered 200 OK"),
				Equal(mtlsServiceCheck),
				Equal("fe02: delivered the canary to bob@contoso.com from verified MTLS peer fe99.contoso.com (10.0.0.99), sent by alice@contoso.com, path fe99.contoso.com"),
				Equal(mtlsInjected),
			},
			compromises: []lab.CompromiseKind{lab.CompromiseInjection},
		}),
		scenarioEntry(scenarioCase{
			name: "mtls/missing-client-auth-eku", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceIntact,
			main: Equal(inbound("tls: failed to verify certificate: x509: certificate specifies an incompatible key usage")),
			evidence: []types.GomegaMatcher{
				mtlsConnected,
				Equal("mallory: presented a certificate Contoso Issuing CA 01 issued with serverAuth only (CN=fe01.contoso.com, " +
					"issued by CN=Contoso Issuing CA 01,O=Contoso, extended key usage serverAuth) to fe02.contoso.com (10.0.0.12:5062)"),
				Equal(forgedFailed("bad certificate")),
				Equal(mtlsServiceCheck),
				Equal(inbound("tls: failed to verify certificate: x509: certificate specifies an incompatible key usage")),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "mtls/relay-between-front-ends", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceDenied,
			main: Equal(relayRefusal),
			evidence: []types.GomegaMatcher{
				relaySpoofing,
				relayPoisonedFE01,
				relayPoisonedFE02,
				relayFlowFE01,
				Equal(relayNoFlowFE02),
				MatchRegexp(`^mallory: intercepted 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062: fe01's side failed: remote error: tls: bad certificate; fe02's side not reached$`),
				Equal("alice: MESSAGE to bob@contoso.com answered 502 Bad Gateway: fe01: tls: failed to verify certificate: " +
					"x509: certificate signed by unknown authority"),
				Equal("mallory: 0 of 1 canary in 0 B of plaintext SIP after terminating fe01's TLS"),
				Equal(relayRefusal),
			},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelMTLS), string(lab.LabelMisconfig)), func() {
		flip := func(p mtlsParams, f func(*lab.Defenses)) lab.Scenario {
			p.defenses = f
			return p.scenario()
		}
		It("client certificate not required: the trusted server list still refuses a peer without a name (held by trusted-server-list)", func(ctx SpecContext) {
			res := runFlipped(ctx, flip(mtlsNoClientCert, func(d *lab.Defenses) { d.ClientCertRequired = false }), lab.Held, lab.ServiceIntact)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseTrustedServerList}))
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
		It("chain validation off: fe01 accepts mallory as fe02, and she relays its MESSAGE (broken)", func(ctx SpecContext) {
			p := mtlsRelay
			p.defenses = func(d *lab.Defenses) { d.ChainValidation = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceDenied)
			// The accepted identity decides it. mallory presents fe02 no
			// client certificate, so fe02 ends her relay with "certificate
			// required": she reads fe01's MESSAGE, canary and all, only
			// when it reaches her before that alert does, a race between
			// the two legs.
			Expect(res.Compromises).To(Or(HaveLen(1), HaveLen(2)))
			Expect(res.Compromises[0].Kind).To(Equal(lab.CompromiseIdentity))
			Expect(res.MainEvidence()).To(Equal(`fe01: accepted the attacker as "fe02.contoso.com": completed the MTLS handshake with ` +
				`mallory's certificate CN=fe02.contoso.com (issuer CN=fe02.contoso.com)`))
			Expect(res.Evidence).To(ContainElement(
				MatchRegexp(`^mallory: intercepted 10\.0\.0\.11:\d+ -> 10\.0\.0\.12:5062: fe01's side TLS 1\.3 established; fe02's side TLS 1\.3 established$`)))
			if len(res.Compromises) == 2 {
				Expect(res.Compromises[1].Kind).To(Equal(lab.CompromiseCanary))
				Expect(res.Evidence).To(ContainElements(
					MatchRegexp(`^mallory: relayed \d+ B of fe01's plaintext to 10\.0\.0\.12:5062 over her own TLS 1\.3 connection$`),
					MatchRegexp(`^mallory: 1 of 1 canary in \d+ B of plaintext SIP after terminating fe01's TLS$`),
				))
			}
		})
		It("static ARP entries: fe01 and fe02 ignore mallory's claims, and fe01 relays straight to fe02 (held by arp-policy)", Label(string(lab.LabelARP)), func(ctx SpecContext) {
			p := mtlsRelay
			p.defenses = func(d *lab.Defenses) { d.ARPPolicy = netsim.ARPStaticOnly }
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseARPPolicy}))
			claim := func(host, peer, addr string) types.GomegaMatcher {
				return MatchRegexp(`^%s: ARP cache \(policy static-only\) ignored mallory's claim that %s \(%s\) is at ([0-9a-f]{2}:){5}[0-9a-f]{2} `+
					`\(static entry\); it still maps it to ([0-9a-f]{2}:){5}[0-9a-f]{2}, %s's own MAC$`, host, regexp.QuoteMeta(addr), peer, peer)
			}
			Expect(res.Evidence).To(HaveExactElements(
				relaySpoofing,
				claim("fe01", "fe02", "10.0.0.12"),
				claim("fe02", "fe01", "10.0.0.11"),
				Equal("mallory: 10.0.0.11 -> 10.0.0.12 not intercepted"),
				Equal(relayNoFlowFE02),
				Equal(feToFEDelivered),
				Equal("mallory: 0 of 1 canary in 0 B of plaintext SIP after terminating fe01's TLS"),
			))
			Expect(res.MainEvidence()).To(claim("fe01", "fe02", "10.0.0.12"))
		})
	})

	// The relay's outcome rests on events (each ARP cache answering
	// mallory's claim, every intercepted session ending), never on how
	// long anything took: concurrent runs, each in its own World and
	// competing for the CPU, all come out alike.
	It("mtls/relay-between-front-ends comes out the same in 16 concurrent runs", Label(string(lab.LabelMTLS), string(lab.LabelARP)), func(ctx SpecContext) {
		s, err := Catalog().Lookup("mtls/relay-between-front-ends")
		Expect(err).NotTo(HaveOccurred())
		runs := make([]lab.Scenario, 16)
		for i := range runs {
			runs[i] = s
		}
		for _, res := range (lab.Runner{Parallel: len(runs)}).RunAll(ctx, runs) {
			Expect(res.Outcome()).To(Equal("held (chain-validation)"), "evidence %q", res.Evidence)
			Expect(res.StoppedBy).To(Equal([]string{lab.DefenseChainValidation}))
			Expect(res.Service).To(Equal(lab.ServiceDenied))
			Expect(res.MainEvidence()).To(Equal(relayRefusal))
		}
	})

	// A sabotaged impersonator never reaches fe02's handshake: it does not
	// dial (proxy-refuses, spoofer-silent) or dials and never sends its
	// ClientHello (proxy-hangs), and the run is inconclusive.
	It("a sabotaged impersonator is inconclusive", Label(string(lab.LabelMTLS), "sabotage"), func(ctx SpecContext) {
		for _, sab := range lab.Sabotages() {
			res := lab.Runner{Sabotage: sab}.Run(ctx, mtlsNotInTopology.scenario())
			var inc *lab.InconclusiveError
			Expect(errors.As(res.Err, &inc)).To(BeTrue(), "%s: %s %v", sab, res.Verdict, res.Err)
			Expect(inc.Reason).To(Equal(lab.ReasonNotCarriedOut))
			Expect(res.Service).To(Equal(lab.ServiceIntact))
			if sab == lab.SabotageProxyHangs {
				Expect(res.Evidence).To(HaveExactElements(
					Equal("mallory: sabotaged (proxy-hangs): connected to fe02.contoso.com (10.0.0.12:5062) and never sent a ClientHello"),
					Equal(mtlsServiceCheck),
					Equal(inbound("EOF")),
				))
				continue
			}
			Expect(res.Evidence).To(HaveExactElements(
				Equal("mallory: sabotaged ("+string(sab)+"): never dialled fe02.contoso.com (10.0.0.12:5062)"),
				Equal(mtlsServiceCheck),
			))
		}
	})
})

package scenarios

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// mitmCase is what one MITM scenario must produce: its verdict, the
// service as observed, the exact main evidence, some lines before it, and
// the kinds of compromise recorded.
type mitmCase struct {
	name    string
	verdict lab.Verdict
	// stoppedBy is every defense seen refusing, in order (held only).
	stoppedBy   []string
	service     lab.Availability
	main        types.GomegaMatcher
	lines       []types.GomegaMatcher
	compromises []lab.CompromiseKind
}

// mitmEntry is a table entry for a MITM scenario, labelled with its labels
// and counted as covered.
func mitmEntry(c mitmCase) TableEntry {
	covered[c.name] = true
	s, err := Catalog().Lookup(c.name)
	if err != nil {
		panic(err)
	}
	return Entry(c.name, ginkgoLabels(s), c)
}

// checkMITM checks a result against c.
func checkMITM(res lab.Result, c mitmCase) {
	GinkgoHelper()
	Expect(res.Err).NotTo(HaveOccurred(), "evidence: %q", res.Evidence)
	Expect(res.Verdict).To(Equal(c.verdict), "evidence: %q", res.Evidence)
	if len(c.stoppedBy) == 0 {
		Expect(res.StoppedBy).To(BeEmpty(), "evidence: %q", res.Evidence)
	} else {
		Expect(res.StoppedBy).To(Equal(c.stoppedBy), "evidence: %q", res.Evidence)
	}
	Expect(res.Service).To(Equal(c.service), "evidence: %q", res.Evidence)
	Expect(res.MainEvidence()).To(c.main, "evidence: %q", res.Evidence)
	for _, m := range c.lines {
		Expect(res.Evidence).To(ContainElement(m), "evidence: %q", res.Evidence)
	}
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

// runMITM runs a catalog scenario of the family and checks it.
func runMITM(ctx SpecContext, c mitmCase) {
	s, err := Catalog().Lookup(c.name)
	Expect(err).NotTo(HaveOccurred())
	Expect(s.Topology).To(BeAssignableToTypeOf(lab.ChangedTopology{}), "the family declares its changes to the preset")
	Expect(s.Topology.(lab.ChangedTopology).Base).To(BeAssignableToTypeOf(contoso.Config{}), "the family runs on the contoso preset")
	res := lab.Runner{}.Run(ctx, s)
	Expect(res.Expected).To(Equal(c.verdict), "the catalog's expectation")
	Expect(res.OK).To(BeTrue(), "evidence: %q", res.Evidence)
	checkMITM(res, c)
}

// Evidence lines of the family.
var (
	arpPoisoned = MatchRegexp(`^mallory: ARP spoofing on contoso-lan: alice's ARP cache maps 10\.0\.0\.11 \(fe01\) to ` +
		`([0-9a-f:]{17}), mallory's MAC, not fe01's ([0-9a-f:]{17})$`)
	viaMallory = "fe01: delivered the canary to dave@contoso.com from alice@contoso.com's registered TLS connection (10.0.0.66)"
	notReached = "alice: the canary did not reach dave@contoso.com"
	nothing    = "mallory: 0 of 1 canary in 0 B: no intercepted connection carried application data"
	decrypted  = MatchRegexp(`^mallory: 1 of 1 canary in [0-9.]+ (B|KiB) of decrypted plaintext$`)
	period     = `valid \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	issuing    = "CN=Contoso Issuing CA 01,O=Contoso"
)

// refused is alice's last line when she refuses mallory in the handshake.
func refused(err string) types.GomegaMatcher {
	return Equal("alice: " + err + ", in the TLS handshake with pool01.contoso.com (10.0.0.11:5061); plaintext fallback is off")
}

// presented matches mallory's record of the certificate she presented and
// how the handshake ended ("" for an accepted one).
func presented(subject, issuer, source, end string) types.GomegaMatcher {
	return MatchRegexp(`^mallory: intercepted alice's connection \(10\.0\.0\.10\) to 10\.0\.0\.11:5061 and presented %s issued by %s, %s.* \(%s.*\); %s`,
		regexp.QuoteMeta(subject), regexp.QuoteMeta(issuer), period, regexp.QuoteMeta(source), end)
}

// accepted is the identity compromise when alice completes the handshake
// with mallory's certificate.
func accepted(subject, issuer string) string {
	return `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, certificate ` +
		subject + " issued by " + issuer
}

const badCert = "handshake failed: remote error: tls: bad certificate$"

// pkiReset is alice's error for a request to pki01 that mallory reset.
const pkiReset = `read tcp 10\.0\.0\.10:\d+->10\.0\.0\.80:80: read: connection reset by peer`

var _ = Describe("mitm family", func() {
	DescribeTable("mallory between alice and fe01", runMITM,
		mitmEntry(mitmCase{
			name: "mitm/self-signed", verdict: lab.Held, stoppedBy: []string{"chain-validation"}, service: lab.ServiceDenied,
			main: refused("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(notReached), Equal(nothing),
				presented("CN=pool01.contoso.com", "CN=pool01.contoso.com", "self-signed certificate per SNI", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/attacker-ca", verdict: lab.Held, stoppedBy: []string{"chain-validation"}, service: lab.ServiceDenied,
			main: refused("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				presented("CN=pool01.contoso.com", "CN=Mallory Root CA,O=Mallory", "certificate forged per SNI by the attacker's CA Mallory Root CA", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/attacker-ca-installed", verdict: lab.Broken, service: lab.ServiceIntact,
			main: decrypted,
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				presented("CN=pool01.contoso.com", "CN=Mallory Root CA,O=Mallory", "certificate forged per SNI", "alice completed TLS 1.3"),
				MatchRegexp(`^alice: revocation: OCSP http://10\.0\.0\.66/ocsp: "pool01\.contoso\.com" ` + serial + ` good$`),
				Equal(accepted("CN=pool01.contoso.com", "CN=Mallory Root CA,O=Mallory"))},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity},
		}),
		mitmEntry(mitmCase{
			name: "mitm/attacker-ca-installed-distrusted", verdict: lab.Held, stoppedBy: []string{"distrust-list"}, service: lab.ServiceDenied,
			main: refused(`tls: failed to verify certificate: lab: certificate chains to "CN=Mallory Root CA,O=Mallory", ` +
				`which is on the enterprise distrust list (disallowed store)`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(notReached), Equal(nothing),
				Equal("the enterprise distrust list (pushed to every machine, as Windows' disallowed store) holds Mallory Root CA"),
				presented("CN=pool01.contoso.com", "CN=Mallory Root CA,O=Mallory", "certificate forged per SNI by the attacker's CA Mallory Root CA", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/trusted-cert-wrong-name", verdict: lab.Held, stoppedBy: []string{"hostname-check"}, service: lab.ServiceDenied,
			main: refused("tls: failed to verify certificate: x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com"),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				presented("CN=mallory.contoso.com,O=Contoso", issuing, "valid certificate for the attacker's own name mallory.contoso.com", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/wrong-name-no-hostname-check", verdict: lab.Broken, service: lab.ServiceIntact,
			main:        decrypted,
			lines:       []types.GomegaMatcher{arpPoisoned, Equal(viaMallory), Equal(accepted("CN=mallory.contoso.com,O=Contoso", issuing))},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity},
		}),
		mitmEntry(mitmCase{
			name: "mitm/mis-issued-cert", verdict: lab.Broken, service: lab.ServiceIntact,
			main: decrypted,
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				presented("CN=pool01.contoso.com", issuing, "certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01", "alice completed TLS 1.3"),
				ocspGood("alice", `contoso\.com`, `pool01\.contoso\.com`),
				Equal(accepted("CN=pool01.contoso.com", issuing))},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity},
		}),
		mitmEntry(mitmCase{
			name: "mitm/mis-issued-revoked-hard-fail", verdict: lab.Held, stoppedBy: []string{"revocation"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: pki: certificate "pool01\.contoso\.com" ` + serial + ` revoked at \S+Z, reason keyCompromise ` +
				`\(OCSP http://pki\.contoso\.com/ocsp\), in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				MatchRegexp(`^Contoso Issuing CA 01 revoked CN=pool01\.contoso\.com ` + serial + `, reason keyCompromise$`)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/mis-issued-revoked-soft-fail-blocked", verdict: lab.Broken, service: lab.ServiceIntact,
			main: decrypted,
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				MatchRegexp(`^mallory: reset [1-9][0-9]* of the connections to pki01 \(10\.0\.0\.80:80\) she intercepted: OCSP and CRL requests fail$`),
				MatchRegexp(`^alice: revocation: "pool01\.contoso\.com" ` + serial + ` unavailable, soft-fail accepted: ` +
					`OCSP http://pki\.contoso\.com/ocsp: ` + pkiReset + `; CRL .+: ` + pkiReset + `$`),
				Equal(accepted("CN=pool01.contoso.com", issuing))},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity},
		}),
		mitmEntry(mitmCase{
			name: "mitm/mis-issued-hard-fail-blocked", verdict: lab.Held, stoppedBy: []string{"revocation"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: pki: revocation status of "pool01\.contoso\.com" unavailable: OCSP http://pki\.contoso\.com/ocsp: ` + pkiReset + `; ` +
				`CRL .+: ` + pkiReset + `, in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				MatchRegexp(`^mallory: reset [1-9][0-9]* of the connections to pki01 \(10\.0\.0\.80:80\) she intercepted: OCSP and CRL requests fail$`),
				presented("CN=pool01.contoso.com", issuing, "certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/stolen-key", verdict: lab.Broken, service: lab.ServiceIntact,
			main: decrypted,
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				presented("CN=fe01.contoso.com,O=Contoso", issuing, "stolen certificate and key of fe01.contoso.com", "alice completed TLS 1.3"),
				Equal(accepted("CN=fe01.contoso.com,O=Contoso", issuing))},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity},
		}),
		mitmEntry(mitmCase{
			name: "mitm/stolen-key-revoked", verdict: lab.Held, stoppedBy: []string{"revocation"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: pki: certificate "fe01\.contoso\.com" ` + serial + ` revoked at \S+Z, reason keyCompromise ` +
				`\(OCSP http://pki\.contoso\.com/ocsp\), in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				presented("CN=fe01.contoso.com,O=Contoso", issuing, "stolen certificate and key", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/expired-cert", verdict: lab.Held, stoppedBy: []string{"validity-check"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: ` +
				`current time \S+Z is after \S+Z, in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				presented("CN=pool01.contoso.com", issuing, "expired certificate for pool01.contoso.com", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/not-yet-valid", verdict: lab.Held, stoppedBy: []string{"validity-check"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: ` +
				`current time \S+Z is before \S+Z, in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				presented("CN=pool01.contoso.com", issuing, "not yet valid certificate for pool01.contoso.com", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/wrong-eku", verdict: lab.Held, stoppedBy: []string{"chain-validation"}, service: lab.ServiceDenied,
			main: refused("tls: failed to verify certificate: x509: certificate specifies an incompatible key usage"),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				ContainSubstring(", extended key usage clientAuth (certificate for pool01.contoso.com issued by Contoso Issuing CA 01 " +
					"with extended key usage clientAuth, not serverAuth); " + strings.TrimSuffix(badCert, "$"))},
		}),
		mitmEntry(mitmCase{
			name: "mitm/tls-strip", verdict: lab.Held, stoppedBy: []string{"tls-only"}, service: lab.ServiceDenied,
			main: MatchRegexp(`^alice: read tcp 10\.0\.0\.10:\d+->10\.0\.0\.11:5061: read: connection reset by peer, ` +
				`in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.11:5061\); plaintext fallback is off$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				Equal("mallory: intercepted alice's connection (10.0.0.10) to 10.0.0.11:5061 and refused it")},
		}),
		mitmEntry(mitmCase{
			name: "mitm/tls-strip-fallback", verdict: lab.Broken, service: lab.ServiceIntact,
			main: MatchRegexp(`^mallory: 1 of 1 canary in [0-9.]+ (B|KiB) of stripped plaintext$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				Equal("mallory: intercepted alice's connection (10.0.0.10) to 10.0.0.11:5061 and refused it"),
				Equal("mallory: intercepted alice's connection (10.0.0.10) to 10.0.0.11:5060 in plaintext; " +
					"upstream TLS 1.3 to 10.0.0.11:5061, server certificate CN=fe01.contoso.com,O=Contoso"),
				Equal("alice: fell back to plaintext: connected to pool01.contoso.com (10.0.0.11:5060) over TCP")},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		mitmEntry(mitmCase{
			name: "mitm/version-downgrade", verdict: lab.Held, stoppedBy: []string{"min-tls-version"}, service: lab.ServiceDenied,
			main: refused("tls: server selected unsupported protocol version 301"),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(nothing),
				Equal("mallory: intercepted alice's connection (10.0.0.10) to 10.0.0.11:5061 and answered as a TLS server; " +
					"handshake failed: attacker: answered TLS 1.0; the client refused it: alert tls: protocol version not supported")},
		}),
		mitmEntry(mitmCase{
			name: "mitm/rogue-gateway-self-signed", verdict: lab.Held, stoppedBy: []string{"chain-validation"}, service: lab.ServiceDenied,
			main: refused("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
			lines: []types.GomegaMatcher{Equal("mallory: rogue gateway: alice's routing table sends 10.0.0.11/32 via 10.0.0.66 (mallory)"),
				Equal(nothing), presented("CN=pool01.contoso.com", "CN=pool01.contoso.com", "self-signed certificate per SNI", badCert)},
		}),
		mitmEntry(mitmCase{
			name: "mitm/passthrough", verdict: lab.Held, stoppedBy: []string{"tls-only"}, service: lab.ServiceIntact,
			main: MatchRegexp(`^alice: sent only TLS 1\.3 records \(TLS_\w+\) through mallory, [0-9.]+ (B|KiB) relayed, whose keys she lacks$`),
			lines: []types.GomegaMatcher{arpPoisoned, Equal(viaMallory),
				Equal("mallory: intercepted alice's connection (10.0.0.10) to 10.0.0.11:5061 and relayed it untouched"),
				MatchRegexp(`^mallory: 0 of 1 canary in [0-9.]+ (B|KiB) of relayed TLS ciphertext$`),
				aliceRegistered},
		}),
		mitmEntry(mitmCase{
			name: "mitm/arp-static-entries", verdict: lab.Held, stoppedBy: []string{"arp-policy"}, service: lab.ServiceIntact,
			main: MatchRegexp(`^alice: ARP cache \(policy static-only\) ignored mallory's claim that 10\.0\.0\.11 \(fe01\) is at ` +
				`([0-9a-f:]{17}) \(static entry\); it still maps it to [0-9a-f:]{17}, fe01's own MAC$`),
			lines: []types.GomegaMatcher{Equal(nothing), aliceRegistered, Equal(clientDelivered),
				MatchRegexp(`^mallory: ARP spoofing on contoso-lan: claims every address of 10\.0\.0\.10, 10\.0\.0\.11 for her MAC [0-9a-f:]{17}$`)},
		}),
	)
})

// runMITMParams runs a variant of a family scenario, keeping the
// catalog's expectation, and checks that the flipped defense shows as a
// mismatch.
func runMITMParams(ctx SpecContext, p mitmParams, c mitmCase) lab.Result {
	GinkgoHelper()
	res := lab.Runner{}.Run(ctx, p.scenario())
	checkMITM(res, c)
	// Every variant changes a defense the scenario's outcome rests on.
	Expect(res.OK).To(BeFalse(), "a flipped defense must show as a mismatch with %s", res.ExpectedOutcome())
	return res
}

// with returns p with change applied after p's own defense changes.
func (p mitmParams) with(change func(*lab.Defenses)) mitmParams {
	own := p.defenses
	p.defenses = func(d *lab.Defenses) {
		if own != nil {
			own(d)
		}
		change(d)
	}
	return p
}

// Each held scenario of the family holds because of one defense: turned
// off, the same attack on the same network comes out broken.
var _ = Describe("mitm: the responsible defense does the work", func() {
	broken := func(accept string) mitmCase {
		// A defense switched off is never credited: the same attack breaks.
		return mitmCase{verdict: lab.Broken, service: lab.ServiceIntact, main: decrypted,
			lines:       []types.GomegaMatcher{Equal(viaMallory), Equal(accept)},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity}}
	}
	DescribeTable("flipped off, the attack succeeds",
		func(ctx SpecContext, p mitmParams, change func(*lab.Defenses), c mitmCase) {
			runMITMParams(ctx, p.with(change), c)
		},
		Entry("self-signed, chain validation off", Label(string(lab.LabelMisconfig)),
			mitmSelfSigned, func(d *lab.Defenses) { d.ChainValidation = false },
			broken(accepted("CN=pool01.contoso.com", "CN=pool01.contoso.com"))),
		Entry("attacker-ca, chain validation off", Label(string(lab.LabelMisconfig)),
			mitmAttackerCA, func(d *lab.Defenses) { d.ChainValidation = false },
			broken(accepted("CN=pool01.contoso.com", "CN=Mallory Root CA,O=Mallory"))),
		Entry("trusted-cert-wrong-name, hostname check off", Label(string(lab.LabelMisconfig)),
			mitmWrongName, func(d *lab.Defenses) { d.HostnameCheck = false },
			broken(accepted("CN=mallory.contoso.com,O=Contoso", issuing))),
		Entry("mis-issued-revoked-hard-fail, revocation off", Label(string(lab.LabelRevocation)),
			mitmMisIssuedRevokedHard, func(d *lab.Defenses) { d.Revocation = pki.RevocationOff },
			broken(accepted("CN=pool01.contoso.com", issuing))),
		Entry("stolen-key-revoked, revocation off", Label(string(lab.LabelRevocation)),
			mitmStolenKeyRevoked, func(d *lab.Defenses) { d.Revocation = pki.RevocationOff },
			broken(accepted("CN=fe01.contoso.com,O=Contoso", issuing))),
		Entry("expired-cert, validity check off", Label(string(lab.LabelMisconfig)),
			mitmExpired, func(d *lab.Defenses) { d.ValidityCheck = false },
			broken(accepted("CN=pool01.contoso.com", issuing))),
		Entry("not-yet-valid, validity check off", Label(string(lab.LabelMisconfig)),
			mitmNotYetValid, func(d *lab.Defenses) { d.ValidityCheck = false },
			broken(accepted("CN=pool01.contoso.com", issuing))),
		Entry("wrong-eku, chain validation off", Label(string(lab.LabelMisconfig)),
			mitmWrongEKU, func(d *lab.Defenses) { d.ChainValidation = false },
			broken(accepted("CN=pool01.contoso.com", issuing))),
		Entry("rogue-gateway-self-signed, chain validation off", Label(string(lab.LabelMisconfig)),
			mitmRogueGateway, func(d *lab.Defenses) { d.ChainValidation = false },
			broken(accepted("CN=pool01.contoso.com", "CN=pool01.contoso.com"))),
		Entry("tls-strip, TLSOnly off", Label(string(lab.LabelPlaintext), string(lab.LabelMisconfig)),
			mitmTLSStrip, func(d *lab.Defenses) { d.TLSOnly = false },
			mitmCase{verdict: lab.Broken, service: lab.ServiceIntact,
				main:        MatchRegexp(`^mallory: 1 of 1 canary in [0-9.]+ (B|KiB) of stripped plaintext$`),
				lines:       []types.GomegaMatcher{Equal(viaMallory)},
				compromises: []lab.CompromiseKind{lab.CompromiseCanary}}),
	)

	// With the version floor lowered to TLS 1.0, alice takes the downgraded
	// handshake: the version floor was the defense doing the work.
	It("version-downgrade with minimum version TLS 1.0: alice accepts the downgraded session and mallory reads it (broken)",
		Label(string(lab.LabelMisconfig)), func(ctx SpecContext) {
			p := mitmVersionDowngrade.with(func(d *lab.Defenses) { d.MinTLSVersion = tls.VersionTLS10 })
			res := runMITMParams(ctx, p, mitmCase{verdict: lab.Broken, service: lab.ServiceIntact,
				main:        MatchRegexp(`^mallory: 1 of 1 canary in [0-9.]+ (B|KiB) of decrypted plaintext$`),
				compromises: []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity}})
			Expect(res.Evidence).NotTo(ContainElement(ContainSubstring("protocol version not supported")))
		})

	It("arp-static-entries with ARP caches accepting any reply: mallory gets in position, then chain validation refuses her",
		Label(string(lab.LabelARP)), func(ctx SpecContext) {
			p := mitmARPStatic.with(func(d *lab.Defenses) { d.ARPPolicy = netsim.ARPAcceptAny })
			runMITMParams(ctx, p, mitmCase{verdict: lab.Held, stoppedBy: []string{"chain-validation"}, service: lab.ServiceDenied,
				main:  refused("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
				lines: []types.GomegaMatcher{arpPoisoned, Equal(notReached)}})
		})

	It("arp-static-entries with ARP caches accepting any reply and no chain validation: broken",
		Label(string(lab.LabelARP), string(lab.LabelMisconfig)), func(ctx SpecContext) {
			p := mitmARPStatic.with(func(d *lab.Defenses) { d.ARPPolicy = netsim.ARPAcceptAny; d.ChainValidation = false })
			c := broken(accepted("CN=pool01.contoso.com", "CN=pool01.contoso.com"))
			c.lines = append(c.lines, arpPoisoned)
			runMITMParams(ctx, p, c)
		})

	// With fallback allowed alice still speaks TLS end to end, so mallory
	// reads nothing, but the switch that would be credited is off: no
	// defense was seen, and the run is inconclusive rather than held.
	It("passthrough with plaintext fallback allowed: mallory reads nothing, but no defense that is on refused: error",
		Label(string(lab.LabelPlaintext)), func(ctx SpecContext) {
			p := mitmPassthrough.with(func(d *lab.Defenses) { d.TLSOnly = false })
			res := lab.Runner{}.Run(ctx, p.scenario())
			Expect(res.Verdict).To(Equal(lab.Error))
			Expect(res.Err).To(MatchError("inconclusive: no defense observed"))
			Expect(res.Compromises).To(BeEmpty())
			Expect(res.Evidence).To(ContainElement(Equal(viaMallory)))
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: sent only TLS 1\.3 records .* whose keys she lacks$`)))
		})

	It("mis-issued-hard-fail-blocked with soft-fail revocation: the unavailable status is accepted and mallory reads the canary",
		Label(string(lab.LabelRevocation)), func(ctx SpecContext) {
			p := mitmMisIssuedHardBlocked.with(func(d *lab.Defenses) { d.Revocation = pki.RevocationSoftFail })
			runMITMParams(ctx, p, broken(accepted("CN=pool01.contoso.com", issuing)))
		})
})

// One MITM capture, read with tshark: both legs' handshakes, and the ARP
// poisoning that put mallory between them.
var _ = Describe("mitm capture, checked with tshark", Label("tshark", string(lab.LabelMITM)), func() {
	It("shows alice->mallory and mallory->fe01 handshakes, mallory's forged ARP replies, nothing malformed", func(ctx SpecContext) {
		requireTshark()
		dir := GinkgoT().TempDir()
		r := lab.Runner{PcapDir: filepath.Join(dir, "pcap"), KeyLogDir: filepath.Join(dir, "keylog")}
		res := r.Run(ctx, mitmMisIssued.scenario())
		Expect(res.Err).NotTo(HaveOccurred())
		Expect(res.Verdict).To(Equal(lab.Broken))
		Expect(res.Pcap).To(BeARegularFile())
		var malloryMAC string
		for _, l := range res.Evidence {
			if m := regexp.MustCompile(`maps 10\.0\.0\.11 \(fe01\) to ([0-9a-f:]{17}), mallory's MAC`).FindStringSubmatch(l); m != nil {
				malloryMAC = m[1]
			}
		}
		Expect(malloryMAC).NotTo(BeEmpty())

		hellos := strings.Split(strings.TrimSpace(tshark("-r", res.Pcap, "-Y", "tls.handshake.type == 1", "-T", "fields",
			"-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tls.handshake.extensions_server_name")), "\n")
		Expect(hellos).To(ContainElements(
			"10.0.0.10\t10.0.0.11\t5061\tpool01.contoso.com", // alice, to mallory's transparent proxy
			"10.0.0.66\t10.0.0.11\t5061\tpool01.contoso.com", // mallory, to fe01
		))
		// The frames alice sends on her leg go to mallory's MAC, though
		// addressed to fe01's IP. (A late segment of alice's that reaches
		// mallory after her proxy closed the connection is forwarded to
		// fe01 by mallory: that frame is mallory's, from her MAC.)
		toMallory := tshark("-r", res.Pcap, "-Y", "ip.src == 10.0.0.10 && ip.dst == 10.0.0.11 && tcp.dstport == 5061 && eth.src != "+malloryMAC,
			"-T", "fields", "-e", "eth.dst")
		Expect(slices.Compact(strings.Fields(toMallory))).To(Equal([]string{malloryMAC}))
		// mallory's forged ARP replies claim fe01's address for her MAC.
		arp := tshark("-r", res.Pcap, "-Y", "arp.opcode == 2 && arp.src.proto_ipv4 == 10.0.0.11 && arp.dst.proto_ipv4 == 10.0.0.10",
			"-T", "fields", "-e", "arp.src.hw_mac")
		Expect(strings.Fields(arp)).To(ContainElement(malloryMAC))

		keys, err := os.ReadFile(res.KeyLog)
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).NotTo(BeEmpty())
		out := tshark(append(append([]string{"-r", res.Pcap, "-o", "tls.keylog_file:" + res.KeyLog}, checksums...), "-V", "-z", "expert")...)
		details, expert := splitExpert(out)
		Expect(details).NotTo(ContainSubstring("Malformed"))
		Expect(details).NotTo(ContainSubstring("[Checksum Status: Bad]"))
		Expect(details).To(ContainSubstring("[Checksum Status: Good]"))
		Expect(strings.ToLower(expert)).NotTo(ContainSubstring("checksum"))
		Expect(expert).NotTo(MatchRegexp(`(?m)^Errors \(`))
		// Decrypted with the key log, both legs carry alice's MESSAGE.
		msgs := tshark("-r", res.Pcap, "-o", "tls.keylog_file:"+res.KeyLog, "-Y", `sip.Method == "MESSAGE"`, "-T", "fields", "-e", "ip.src", "-e", "ip.dst")
		Expect(strings.Split(strings.TrimSpace(msgs), "\n")).To(ConsistOf("10.0.0.10\t10.0.0.11", "10.0.0.66\t10.0.0.11"))
	})
})

package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

var (
	malloryNothing = MatchRegexp(`^mallory: 0 of 1 canary in 0 B alice sent to 10\.0\.0\.66$`)
	malloryCanary  = MatchRegexp(`^mallory: 1 of 1 canary in [1-9]\d* B alice sent to 10\.0\.0\.66$`)
	// aliceRefusesForge is alice's chain validation refusing mallory's pool.
	aliceRefusesForge = Equal("alice: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
		"in the TLS handshake with pool01.contoso.com (10.0.0.66:5061)")
	aliceForgeFailed = Equal("alice: MESSAGE to dave@contoso.com failed: sip: alice@contoso.com: no usable SIP server for contoso.com: " +
		"TLS pool01.contoso.com 10.0.0.66:5061: tls: failed to verify certificate: x509: certificate signed by unknown authority (plaintext fallback is off)")
	rogueSRV    = MatchRegexp(`^mallory: answered 10\.0\.0\.10's query SRV _sip\._tls\.contoso\.com \(ID \d+\) with 10\.0\.0\.66$`)
	spoofedA    = MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A pool01\.contoso\.com \(ID \d+\) with 10\.0\.0\.66$`)
	forgedTaken = Equal("mallory: her forged answer was taken: alice's resolver gave pool01.contoso.com as 10.0.0.66")
	floodLine   = Equal("mallory: flooded alice with forged answers for pool01.contoso.com from dns01's address, " +
		"16 guesses of query ID and port per round, until she was done")
	poolForged = Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5061 and presented CN=pool01.contoso.com " +
		"issued by CN=Mallory Root CA,O=Mallory (certificate forged per SNI by the attacker's CA Mallory Root CA)")
	poolMisIssued = Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5061 and presented CN=pool01.contoso.com " +
		"issued by CN=Contoso Issuing CA 01,O=Contoso (certificate for pool01.contoso.com mis-issued by Contoso Issuing CA 01)")
	acceptedForged = `alice: accepted the attacker as "pool01.contoso.com": mallory's machine 10.0.0.66:5061 ` +
		`completed the TLS handshake with certificate CN=pool01.contoso.com issued by CN=Mallory Root CA,O=Mallory`
	acceptedMisIssued = `alice: accepted the attacker as "pool01.contoso.com": mallory's machine 10.0.0.66:5061 ` +
		`completed the TLS handshake with certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso`
	connectedReal = Equal("alice: connected to pool01.contoso.com at 10.0.0.11:5061 over TLS 1.3, server certificate CN=fe01.contoso.com,O=Contoso " +
		"issued by CN=Contoso Issuing CA 01,O=Contoso")
	// dnssecDrop is alice's validating resolver dropping mallory's answer.
	dnssecDrop = MatchRegexp(`^alice: resolver dropped the forged answer from 10\.0\.0\.53:53 to its query A pool01\.contoso\.com \(ID \d+\): ` +
		`dns: DNSSEC validation failed for pool01\.contoso\.com A: no RRSIG$`)
	// randomMissed is alice's random query port and ID defeating the
	// flood: at its socket in the rare run whose random port is 53000.
	randomMissed = Or(
		MatchRegexp(`^alice: forged answers for pool01\.contoso\.com from 10\.0\.0\.53:53, to port 53000 with query IDs 1-16, reached no socket: `+
			`its resolver asked from random port \d+ with random query ID \d+$`),
		MatchRegexp(`^alice: resolver dropped the forged answers from 10\.0\.0\.53:53 to its port 53000 whose query IDs missed the random ID \d+ `+
			`of its query A pool01\.contoso\.com \(query ID mismatch\)$`))
	srvSpoofed  = MatchRegexp(`^mallory: answered 203\.0\.113\.10's query SRV _sipfederationtls\._tcp\.fabrikam\.com \(ID \d+\) with sip\.evil\.com:5061$`)
	srvTaken    = Equal("mallory: her forged answer was taken: edge01's resolver gave _sipfederationtls._tcp.fabrikam.com as sip.evil.com:5061")
	srvAccepted = `edge01: accepted the attacker as "sip.evil.com": federated alice@contoso.com's message for carol@fabrikam.com to it, ` +
		`reached through a poisoned _sipfederationtls._tcp.fabrikam.com record, a host outside fabrikam.com`
	srvCanary  = MatchRegexp(`^mallory: 1 of 1 canary in [1-9]\d* B edge01 sent to sip\.evil\.com$`)
	srvOutside = "edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com"
)

// revocationGood matches alice's OCSP check of subject answering good.
func revocationGood(subject string) types.GomegaMatcher {
	return MatchRegexp(`^alice: revocation: OCSP http://pki\.contoso\.com/ocsp: "%s" \(serial 0x[0-9a-f]+\) good$`, subject)
}

// aliceReachesFe01 is alice's session with the real pool, after mallory's
// forgery was refused: revocation checks, connection, delivery.
var aliceReachesFe01 = []types.GomegaMatcher{
	revocationGood(`fe01\.contoso\.com`), revocationGood(`Contoso Issuing CA 01`), connectedReal, Equal(daveDelivered),
}

func cat(parts ...[]types.GomegaMatcher) []types.GomegaMatcher {
	var out []types.GomegaMatcher
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// withDefenses returns p's scenario with f applied after p's own defenses.
func (p dnsParams) withDefenses(f func(*lab.Defenses)) lab.Scenario {
	base := p.defenses
	p.defenses = func(d *lab.Defenses) {
		if base != nil {
			base(d)
		}
		f(d)
	}
	return p.scenario()
}

// runHeldBy runs s and checks it held, stopped by stoppedBy (every
// defense seen refusing, in order), with the given service.
func runHeldBy(ctx SpecContext, s lab.Scenario, service lab.Availability, stoppedBy ...string) lab.Result {
	GinkgoHelper()
	res := runFlipped(ctx, s, lab.Held, service)
	Expect(res.StoppedBy).To(Equal(stoppedBy), "evidence: %q", res.Evidence)
	return res
}

var _ = Describe("dns family", func() {
	DescribeTable("mallory answers for pool01 or for Fabrikam's federation record", runCase,
		scenarioEntry(scenarioCase{
			name: "dns/rogue-server", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceDenied,
			main:     aliceRefusesForge,
			evidence: []types.GomegaMatcher{rogueSRV, spoofedA, poolForged, aliceForgeFailed, malloryNothing, aliceRefusesForge},
		}),
		scenarioEntry(scenarioCase{
			name: "dns/on-path-spoof", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceDenied,
			main:     aliceRefusesForge,
			evidence: []types.GomegaMatcher{spoofedA, forgedTaken, poolForged, aliceForgeFailed, malloryNothing, aliceRefusesForge},
		}),
		scenarioEntry(scenarioCase{
			// The flood's guesses go to port 53000; alice's query went
			// from a random port with a random ID: none reaches it, and
			// dns01's answer, released after a whole round, wins.
			name: "dns/blind-spoof-randomised", verdict: lab.Held, stoppedBy: []string{lab.DefenseDNSRandomization}, service: lab.ServiceIntact,
			main:     randomMissed,
			evidence: cat([]types.GomegaMatcher{floodLine, randomMissed}, aliceReachesFe01, []types.GomegaMatcher{malloryNothing}),
		}),
		scenarioEntry(scenarioCase{
			name: "dns/blind-spoof-predictable", verdict: lab.Held, stoppedBy: []string{lab.DefenseChainValidation}, service: lab.ServiceDenied,
			main:     aliceRefusesForge,
			evidence: []types.GomegaMatcher{floodLine, forgedTaken, poolForged, aliceForgeFailed, malloryNothing, aliceRefusesForge},
		}),
		scenarioEntry(scenarioCase{
			// alice's chain validation refuses mallory's TLS (a refusal on
			// record), then she falls back to plaintext, to mallory.
			name: "dns/hijack-plaintext-fallback", verdict: lab.Broken, service: lab.ServiceDenied,
			main: malloryCanary,
			evidence: []types.GomegaMatcher{
				spoofedA, spoofedA, forgedTaken, poolForged,
				Equal("mallory: alice (10.0.0.10) connected to her pool at 10.0.0.66:5060 in plaintext"),
				Equal("alice: connected to pool01.contoso.com at 10.0.0.66:5060 over plain TCP"),
				Equal("alice: MESSAGE to dave@contoso.com answered 200 OK"),
				malloryCanary, aliceRefusesForge,
				Equal("alice: SRV _sip._tcp.contoso.com: dns: lookup _sip._tcp.contoso.com: no such host"),
			},
			compromises: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		scenarioEntry(scenarioCase{
			name: "dns/hijack-mis-issued-cert", verdict: lab.Broken, service: lab.ServiceDenied,
			main: Equal(acceptedMisIssued),
			evidence: []types.GomegaMatcher{
				spoofedA, forgedTaken, poolMisIssued,
				revocationGood(`pool01\.contoso\.com`), revocationGood(`Contoso Issuing CA 01`),
				Equal("alice: connected to pool01.contoso.com at 10.0.0.66:5061 over TLS 1.3, server certificate CN=pool01.contoso.com " +
					"issued by CN=Contoso Issuing CA 01,O=Contoso"),
				Equal(acceptedMisIssued),
				Equal("alice: MESSAGE to dave@contoso.com answered 200 OK"),
				malloryCanary,
			},
			compromises: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCanary},
		}),
		scenarioEntry(scenarioCase{
			// mallory's mis-issued certificate would pass alice's checks:
			// the validating resolver dropping her unsigned answer is
			// what stops her, and dns01's signed answer gets through.
			name: "dns/dnssec-on-path-spoof", verdict: lab.Held, stoppedBy: []string{lab.DefenseDNSSECValidation}, service: lab.ServiceIntact,
			main:     dnssecDrop,
			evidence: cat([]types.GomegaMatcher{spoofedA, dnssecDrop}, aliceReachesFe01, []types.GomegaMatcher{malloryNothing}),
		}),
		scenarioEntry(scenarioCase{
			name: "dns/federation-srv-poison", verdict: lab.Held, stoppedBy: []string{lab.DefenseFederationSRVDomainMatch}, service: lab.ServiceDenied,
			main: Equal(srvOutside + ", in the outbound policy check with sip.evil.com"),
			evidence: []types.GomegaMatcher{
				srvSpoofed, srvTaken,
				Equal("alice: MESSAGE to carol@fabrikam.com answered 403 Forbidden: " + srvOutside),
				Equal("mallory: 0 of 1 canary in 0 B edge01 sent to sip.evil.com"),
				Equal(srvOutside + ", in the outbound policy check with sip.evil.com"),
			},
		}),
		scenarioEntry(scenarioCase{
			name: "dns/federation-srv-poison-no-domain-match", verdict: lab.Broken, service: lab.ServiceDenied,
			main: Equal(srvAccepted),
			evidence: []types.GomegaMatcher{
				srvSpoofed,
				MatchRegexp(`^mallory: answered 203\.0\.113\.10's query A sip\.evil\.com \(ID \d+\) with 203\.0\.113\.66$`),
				srvTaken,
				Equal("mallory: edge01 (203.0.113.10) connected to her Edge at 203.0.113.66:5061 and presented CN=sip.evil.com " +
					"issued by CN=Public Trust TLS CA,O=Public Trust"),
				Equal("edge01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to sip.evil.com (203.0.113.66:5061) over MTLS, " +
					"peer certificate CN=sip.evil.com issued by CN=Public Trust TLS CA,O=Public Trust; answered 200"),
				Equal(srvAccepted),
				Equal("alice: MESSAGE to carol@fabrikam.com answered 200 OK"),
				srvCanary,
			},
			compromises: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCanary},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelDNS)), func() {
		chainOff := func(d *lab.Defenses) { d.ChainValidation = false }
		for _, p := range []dnsParams{dnsRogue, dnsOnPathSpoof, dnsBlindPredictable} {
			It(p.name+" with chain validation off: alice takes mallory for her pool and hands her the canary (broken)", func(ctx SpecContext) {
				res := runFlipped(ctx, p.withDefenses(chainOff), lab.Broken, lab.ServiceDenied)
				Expect(res.MainEvidence()).To(Equal(acceptedForged))
				Expect(res.Evidence).To(ContainElement(malloryCanary))
			})
		}
		It("blind-spoof-randomised with DNS randomisation off: the flood poisons alice's resolver, TLS still refuses (held, denied)", func(ctx SpecContext) {
			res := runHeldBy(ctx, dnsBlindRandomised.withDefenses(func(d *lab.Defenses) { d.DNSRandomization = false }),
				lab.ServiceDenied, lab.DefenseChainValidation)
			Expect(res.Evidence).To(HaveExactElements(floodLine, forgedTaken, poolForged, aliceForgeFailed, malloryNothing, aliceRefusesForge))
		})
		It("blind-spoof-randomised with a mis-issued certificate: randomisation alone stops it; off, mallory reads the canary (broken)", func(ctx SpecContext) {
			p := dnsBlindRandomised
			p.cert = misIssuedCert
			res := runHeldBy(ctx, p.scenario(), lab.ServiceIntact, lab.DefenseDNSRandomization)
			Expect(res.MainEvidence()).To(randomMissed)
			res = runFlipped(ctx, p.withDefenses(func(d *lab.Defenses) { d.DNSRandomization = false }), lab.Broken, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(Equal(acceptedMisIssued))
			Expect(res.Evidence).To(ContainElement(malloryCanary))
		})
		It("dnssec-on-path-spoof with DNSSEC validation off: alice accepts the mis-issued certificate and mallory reads the canary (broken)", func(ctx SpecContext) {
			res := runFlipped(ctx, dnsDNSSEC.withDefenses(func(d *lab.Defenses) { d.DNSSECValidation = false }), lab.Broken, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(Equal(acceptedMisIssued))
			Expect(res.Evidence).To(ContainElements(spoofedA, forgedTaken, poolMisIssued, malloryCanary))
			Expect(res.Refusals).To(BeEmpty())
		})
		It("blind-spoof-predictable with DNSSEC validation on: the resolver drops the one forgery that matched (held by dnssec-validation)", func(ctx SpecContext) {
			res := runHeldBy(ctx, dnsBlindPredictable.withDefenses(func(d *lab.Defenses) { d.DNSSECValidation = true }),
				lab.ServiceIntact, lab.DefenseDNSSECValidation)
			Expect(res.Evidence).To(HaveExactElements(cat([]types.GomegaMatcher{floodLine, dnssecDrop}, aliceReachesFe01, []types.GomegaMatcher{malloryNothing})))
		})
		It("on-path-spoof with a stolen fe01 certificate the topology revoked: alice's revocation check refuses it (held)", func(ctx SpecContext) {
			p := dnsOnPathSpoof
			p.cert = stolenCert.revoke()
			s := p.scenario()
			Expect(s.Topology.(lab.ChangedTopology).Base).To(Equal(contoso.Config{Revoked: []contoso.Revocation{{Cert: "fe01", Reason: pki.ReasonKeyCompromise}}}))
			res := runHeldBy(ctx, s, lab.ServiceDenied, lab.DefenseRevocation)
			Expect(res.MainEvidence()).To(MatchRegexp(`^alice: pki: certificate "fe01\.contoso\.com" \(serial 0x[0-9a-f]+\) revoked at \S+, reason keyCompromise ` +
				`\(OCSP http://pki\.contoso\.com/ocsp\), in the TLS handshake with pool01\.contoso\.com \(10\.0\.0\.66:5061\)$`))
		})
		It("federation-srv-poison with the SRV domain check off: edge01 federates to sip.evil.com (broken)", func(ctx SpecContext) {
			p := dnsSRVPoison
			p.defenses = func(d *lab.Defenses) { d.FederationSRVDomainMatch = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(Equal(srvAccepted))
			Expect(res.Evidence).To(ContainElement(srvCanary))
		})
		It("federation-srv-poison with DNSSEC validation on: edge01's resolver drops the forged SRV answer (held by dnssec-validation)", func(ctx SpecContext) {
			p := dnsSRVPoison
			p.defenses = func(d *lab.Defenses) { d.DNSSECValidation = true }
			res := runHeldBy(ctx, p.scenario(), lab.ServiceIntact, lab.DefenseDNSSECValidation)
			Expect(res.MainEvidence()).To(MatchRegexp(`^edge01: resolver dropped the forged answer from 203\.0\.113\.53:53 to its query SRV ` +
				`_sipfederationtls\._tcp\.fabrikam\.com \(ID \d+\): dns: DNSSEC validation failed for _sipfederationtls\._tcp\.fabrikam\.com SRV: no RRSIG$`))
		})
	})

	// A sabotaged attacker is never judged held or broken for what her
	// endpoints would have done; a forgery a defense refuses before any
	// connection reaches them (DNSSEC, randomisation, edge01's SRV domain
	// check) is held whatever the sabotage of the endpoints.
	Describe("sabotaged attackers", Label(string(lab.LabelDNS)), func() {
		refusedBeforeEndpoints := map[string]string{
			dnsBlindRandomised.name: lab.DefenseDNSRandomization,
			dnsDNSSEC.name:          lab.DefenseDNSSECValidation,
			dnsSRVPoison.name:       lab.DefenseFederationSRVDomainMatch,
		}
		for _, sab := range lab.Sabotages() {
			It("come out error under "+string(sab)+", each run ending on its own", func(ctx SpecContext) {
				family := dnsFamily()
				for _, res := range (lab.Runner{Sabotage: sab, Parallel: len(family)}).RunAll(ctx, family) {
					Expect(res.Compromises).To(BeEmpty(), res.Scenario)
					Expect(res.Evidence).NotTo(ContainElement(MatchRegexp(`connected to her (pool|Edge) .* and presented`)), res.Scenario)
					if defense, ok := refusedBeforeEndpoints[res.Scenario]; ok && sab != lab.SabotageSpooferSilent {
						Expect(res.Outcome()).To(Equal("held ("+defense+")"), "%s: evidence %q", res.Scenario, res.Evidence)
						continue
					}
					Expect(res.Verdict).To(Equal(lab.Error), "%s: evidence %q", res.Scenario, res.Evidence)
					var inc *lab.InconclusiveError
					Expect(res.Err).To(BeAssignableToTypeOf(inc), "%s: %v", res.Scenario, res.Err)
				}
			})
		}
	})
})

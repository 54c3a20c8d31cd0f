package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tlslab/tlslab/lab"
)

var (
	malloryNothing    = MatchRegexp(`^mallory: 0 of 1 canary in 0 B alice sent to 10\.0\.0\.66$`)
	malloryCanary     = MatchRegexp(`^mallory: 1 of 1 canary in [1-9]\d* B alice sent to 10\.0\.0\.66$`)
	aliceRefusesForge = Equal("alice: tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
		"in the TLS handshake with pool01.contoso.com (10.0.0.66:5061)")
	spoofedA  = MatchRegexp(`^mallory: answered 10\.0\.0\.10's query A pool01\.contoso\.com \(ID \d+\) with 10\.0\.0\.66$`)
	floodLine = Equal("mallory: flooded alice with forged answers for pool01.contoso.com from dns01's address, " +
		"16 guesses of query ID and port per round, until she was done")
	srvAccepted = `edge01: accepted the attacker as "sip.evil.com": federated alice@contoso.com's message for carol@fabrikam.com to it, ` +
		`reached through a poisoned _sipfederationtls._tcp.fabrikam.com record, a host outside fabrikam.com`
	srvCanary  = MatchRegexp(`^mallory: 1 of 1 canary in [1-9]\d* B edge01 sent to sip\.evil\.com$`)
	srvOutside = "edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com"
)

var _ = Describe("dns family", func() {
	DescribeTable("mallory answers for pool01 or for Fabrikam's federation record", runFamilyCase,
		familyEntry(familyCase{
			name: "dns/rogue-server", verdict: lab.Held, service: lab.ServiceDenied, main: aliceRefusesForge,
			lines: []types.GomegaMatcher{
				MatchRegexp(`^mallory: answered 10\.0\.0\.10's query SRV _sip\._tls\.contoso\.com \(ID \d+\) with 10\.0\.0\.66$`),
				spoofedA, malloryNothing,
			},
		}),
		familyEntry(familyCase{
			name: "dns/on-path-spoof", verdict: lab.Held, service: lab.ServiceDenied, main: aliceRefusesForge,
			lines: []types.GomegaMatcher{spoofedA, malloryNothing},
		}),
		familyEntry(familyCase{
			name: "dns/blind-spoof-randomised", verdict: lab.Held, service: lab.ServiceIntact, main: malloryNothing,
			lines: []types.GomegaMatcher{
				floodLine,
				Equal("alice: connected to pool01.contoso.com at 10.0.0.11:5061 over TLS 1.3, server certificate CN=fe01.contoso.com,O=Contoso " +
					"issued by CN=Contoso Issuing CA 01,O=Contoso"),
				Equal(daveDelivered),
			},
		}),
		familyEntry(familyCase{
			name: "dns/blind-spoof-predictable", verdict: lab.Held, service: lab.ServiceDenied, main: aliceRefusesForge,
			lines: []types.GomegaMatcher{floodLine, malloryNothing},
		}),
		familyEntry(familyCase{
			name: "dns/hijack-plaintext-fallback", verdict: lab.Broken, service: lab.ServiceDenied, main: malloryCanary,
			lines: []types.GomegaMatcher{
				spoofedA, aliceRefusesForge,
				Equal("alice: connected to pool01.contoso.com at 10.0.0.66:5060 over plain TCP"),
				Equal("alice: MESSAGE to dave@contoso.com answered 200 OK"),
			},
			kinds: []lab.CompromiseKind{lab.CompromiseCanary},
		}),
		familyEntry(familyCase{
			name: "dns/hijack-mis-issued-cert", verdict: lab.Broken, service: lab.ServiceDenied,
			main: Equal(`alice: accepted the attacker as "pool01.contoso.com": mallory's machine 10.0.0.66:5061 completed the TLS handshake ` +
				`with certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso`),
			lines: []types.GomegaMatcher{spoofedA, malloryCanary},
			kinds: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCanary},
		}),
		familyEntry(familyCase{
			// alice's validating resolver drops mallory's unsigned answer and
			// waits for dns01's signed one: the message reaches dave.
			name: "dns/dnssec-on-path-spoof", verdict: lab.Held, service: lab.ServiceIntact,
			main:  malloryNothing,
			lines: []types.GomegaMatcher{spoofedA, MatchRegexp(`^alice: connected to pool01\.contoso\.com at 10\.0\.0\.11:5061 over TLS`), MatchRegexp(`^fe01: delivered the canary to dave@contoso\.com`)},
		}),
		familyEntry(familyCase{
			name: "dns/federation-srv-poison", verdict: lab.Held, service: lab.ServiceDenied,
			main: Equal(srvOutside + ", in the outbound policy check with sip.evil.com"),
			lines: []types.GomegaMatcher{
				MatchRegexp(`^mallory: answered 203\.0\.113\.10's query SRV _sipfederationtls\._tcp\.fabrikam\.com \(ID \d+\) with sip\.evil\.com:5061$`),
				Equal("mallory: 0 of 1 canary in 0 B edge01 sent to sip.evil.com"),
				Equal("alice: MESSAGE to carol@fabrikam.com answered 403 Forbidden: " + srvOutside),
			},
		}),
		familyEntry(familyCase{
			name: "dns/federation-srv-poison-no-domain-match", verdict: lab.Broken, service: lab.ServiceDenied,
			main: Equal(srvAccepted),
			lines: []types.GomegaMatcher{
				Equal("edge01: relayed MESSAGE from alice@contoso.com to carol@fabrikam.com to sip.evil.com (203.0.113.66:5061) over MTLS, " +
					"peer certificate CN=sip.evil.com issued by CN=Public Trust TLS CA,O=Public Trust; answered 200"),
				srvCanary,
			},
			kinds: []lab.CompromiseKind{lab.CompromiseIdentity, lab.CompromiseCanary},
		}),
	)

	Describe("the responsible defense does the work", Label(string(lab.LabelDNS)), func() {
		with := func(p dnsParams, f func(*lab.Defenses)) lab.Scenario {
			base := p.defenses
			p.defenses = func(d *lab.Defenses) {
				if base != nil {
					base(d)
				}
				f(d)
			}
			return p.scenario()
		}
		chainOff := func(d *lab.Defenses) { d.ChainValidation = false }
		for _, p := range []dnsParams{dnsRogue, dnsOnPathSpoof, dnsBlindPredictable} {
			It(p.name+" with chain validation off: alice takes mallory for her pool and hands her the canary (broken)", func(ctx SpecContext) {
				res := runFlipped(ctx, with(p, chainOff), lab.Broken, lab.ServiceDenied)
				Expect(res.MainEvidence()).To(Equal(`alice: accepted the attacker as "pool01.contoso.com": mallory's machine 10.0.0.66:5061 ` +
					`completed the TLS handshake with certificate CN=pool01.contoso.com issued by CN=Mallory Root CA,O=Mallory`))
				Expect(res.Evidence).To(ContainElement(malloryCanary))
			})
		}
		It("blind-spoof-randomised with DNS randomisation off: the flood poisons alice's resolver, TLS still refuses (held, denied)", func(ctx SpecContext) {
			res := runFlipped(ctx, with(dnsBlindRandomised, func(d *lab.Defenses) { d.DNSRandomization = false }), lab.Held, lab.ServiceDenied)
			Expect(res.Evidence).To(ContainElement(aliceRefusesForge))
		})
		It("blind-spoof-randomised with DNS randomisation off and a mis-issued certificate: poisoned and read (broken)", func(ctx SpecContext) {
			p := dnsBlindRandomised
			p.cert = misIssuedCert
			runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact) // randomisation alone stops it
			res := runFlipped(ctx, with(p, func(d *lab.Defenses) { d.DNSRandomization = false }), lab.Broken, lab.ServiceDenied)
			Expect(res.Evidence).To(ContainElement(malloryCanary))
		})
		It("dnssec-on-path-spoof with a mis-issued certificate: DNSSEC alone stops it; off, mallory reads the canary (broken)", func(ctx SpecContext) {
			p := dnsDNSSEC
			p.cert = misIssuedCert
			res := runFlipped(ctx, p.scenario(), lab.Held, lab.ServiceIntact)
			Expect(res.Evidence).To(ContainElement(MatchRegexp(`^alice: connected to pool01\.contoso\.com at 10\.0\.0\.11:5061`)))
			res = runFlipped(ctx, with(p, func(d *lab.Defenses) { d.DNSSECValidation = false }), lab.Broken, lab.ServiceDenied)
			Expect(res.Evidence).To(ContainElement(malloryCanary))
		})
		It("federation-srv-poison with the SRV domain check off: edge01 federates to sip.evil.com (broken)", func(ctx SpecContext) {
			p := dnsSRVPoison
			p.defenses = func(d *lab.Defenses) { d.FederationSRVDomainMatch = false }
			res := runFlipped(ctx, p.scenario(), lab.Broken, lab.ServiceDenied)
			Expect(res.MainEvidence()).To(Equal(srvAccepted))
			Expect(res.Evidence).To(ContainElement(srvCanary))
		})
	})
})

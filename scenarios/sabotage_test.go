package scenarios

import (
	"errors"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tlslab/tlslab/lab"
)

// attackScenarios is every scenario with an attacker: the catalog's and
// the examples'.
func attackScenarios() []lab.Scenario {
	var out []lab.Scenario
	for _, s := range Catalog() {
		if s.Attacker != "" && skipWithout(s) {
			out = append(out, s)
		}
	}
	paths, err := filepath.Glob(filepath.Join("examples", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	for _, p := range paths {
		s, err := LoadFile(p)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, s)
	}
	return out
}

// The oracle never turns a broken attacker into a verdict. Every attack
// runs with its attacker sabotaged, and must come out error: the attack
// was not carried out, or no defense was seen refusing it.
//
// One case is not an error, and the spec checks it as exactly as the
// others: an attack that a defense stopped before any connection reached
// the attacker's endpoints (static ARP, DNSSEC and DNS randomisation
// refusing the positioning itself, an Edge's SRV domain check refusing a
// poisoned target before dialling it) is not changed by sabotaging those
// endpoints; it must still be held by that same defense, and no
// connection may have reached mallory's proxy.
var _ = Describe("sabotaged attackers", Label("sabotage"), func() {
	for _, sab := range lab.Sabotages() {
		It("come out error with "+string(sab)+", never held or broken", func(ctx SpecContext) {
			scenarios := attackScenarios()
			Expect(len(scenarios)).To(BeNumerically(">=", 45))
			results := lab.Runner{Sabotage: sab, Parallel: 16}.RunAll(ctx, scenarios)
			for i, res := range results {
				s := scenarios[i]
				if sab != lab.SabotageSpooferSilent && s.Expected == lab.Held && slices.Contains(beforeEndpointDefenses, s.StoppedBy) {
					Expect(res.Outcome()).To(Equal("held ("+s.StoppedBy+")"),
						"%s with %s: its defense stops it before the endpoints; evidence %q", s.Name, sab, res.Evidence)
					Expect(res.Evidence).NotTo(ContainElement(MatchRegexp(`^mallory: intercepted`)), "%s: a connection reached the proxy", s.Name)
					continue
				}
				// Inconclusive, not a run that failed: the scenario ended
				// cleanly, before its deadline, and judged its evidence.
				var inconclusive *lab.InconclusiveError
				Expect(errors.As(res.Err, &inconclusive)).To(BeTrue(), "%s with %s: %s, %v; evidence %q", s.Name, sab, res.Outcome(), res.Err, res.Evidence)
				Expect(inconclusive.Reason).To(BeElementOf(lab.ReasonNotCarriedOut, lab.ReasonNoDefense), "%s with %s", s.Name, sab)
				if sab == lab.SabotageSpooferSilent {
					Expect(inconclusive.Reason).To(Equal(lab.ReasonNotCarriedOut), "%s: a silent spoofer never gets in position; evidence %q", s.Name, res.Evidence)
				}
				Expect(res.Compromises).To(BeEmpty(), "%s with %s", s.Name, sab)
			}
		}, SpecTimeout(5*time.Minute))
	}
})

// beforeEndpointDefenses refuse the attacker's redirection itself, before
// any connection reaches her endpoints: the positioning defenses, and an
// Edge's SRV domain check, which refuses a poisoned SRV answer's target
// before dialling it.
var beforeEndpointDefenses = []string{lab.DefenseARPPolicy, lab.DefenseDNSSECValidation,
	lab.DefenseDNSRandomization, lab.DefenseFederationSRVDomainMatch,
	// and the discovery client's rules, which refuse an answer or a
	// step before dialling what it names: the plain-HTTP autodiscover
	// URL, the SRV target, the pool outside the domain, the link, WPAD,
	// the rogue DHCP offer, discovery itself for a pinned pool.
	lab.DefenseAutodiscoverHTTPSOnly, lab.DefenseStrictDNSNaming, lab.DefenseDeclinePrompts,
	lab.DefenseLLMNRNBTNSDisabled, lab.DefenseLinkSingleLabelOnly, lab.DefenseWPADDisabled,
	lab.DefenseDHCPSnooping, lab.DefensePoolPinning}

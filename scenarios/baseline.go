package scenarios

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// baselineParams declares one scenario of the baseline family: the Contoso
// deployment (lab's "contoso" preset) with every defense on, proving either
// that a canary travels end to end (delivery baselines, which pass only
// when the recipient's Front End delivers it) or that the trust model
// refuses what it must (refusal baselines: attacks by an untrusted peer,
// held only when a defense is seen refusing the peer's real attempt).
//
// The header's stoppedBy is the decisive defense of a refusal baseline;
// its defenses are nil in the catalog, and tests turn the responsible
// defense off there.
type baselineParams struct {
	header
	// topology is the declared world, built by Run and printed by show.
	topology contoso.Config
	// play sends the traffic and records what happened.
	play func(ctx context.Context, env *lab.Env, c *contoso.Deployment, p baselineParams) error
	// to is the recipient of alice's message.
	to string
	// path lists the servers alice's message crosses, her Front End first
	// and the recipient's home Front End last.
	path []string
	// attacker describes the untrusted peer of a refusal baseline
	// (Scenario.Attacker), "" for a delivery baseline.
	attacker string
	// unreachable lists hosts whose inbound traffic is dropped on their
	// segment, as a dead link or firewall would (tests: an unreachable
	// PKI host).
	unreachable []string
}

var (
	baselineClientIM = baselineParams{
		header: header{
			name:    "baseline/client-register-im",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelTLS},
			summary: "alice registers over TLS and IMs dave on her own Front End",
			story: "Alice's client finds her pool through DNS (SRV _sip._tls.contoso.com -> pool01.contoso.com, " +
				"A -> 10.0.0.11), connects on 5061 over TLS, verifies fe01's certificate (chain to the Contoso " +
				"Enterprise Root CA, name pool01.contoso.com, validity, OCSP status at pki.contoso.com), registers, " +
				"and sends an instant message carrying a canary to dave@contoso.com, who is homed on fe01 too. " +
				"Nobody attacks: every defense is on and fe01 must deliver the canary.",
			expected: lab.Passed,
		},
		play: deliver,
		to:   "dave@contoso.com",
		path: []string{"fe01"},
	}
	baselineFEToFE = baselineParams{
		header: header{
			name:    "baseline/fe-to-fe-mtls",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelMTLS},
			summary: "alice IMs bob on fe02: fe01 relays over MTLS, fe02 verifies fe01",
			story: "Alice, signed in on fe01, sends an instant message carrying a canary to bob@contoso.com, who " +
				"is homed on fe02. fe01 relays it over mutual TLS on port 5062: both Front Ends present " +
				"server+client certificates from Contoso Issuing CA 01, each verifies the other's chain, name, " +
				"validity and revocation, and checks the other is in the topology's trusted server list. fe02 " +
				"must deliver the canary and record fe01.contoso.com as the verified peer that handed it over.",
			expected: lab.Passed,
		},
		play: deliver,
		to:   "bob@contoso.com",
		path: []string{"fe01", "fe02"},
	}
	baselinePartnerCA = baselineParams{
		header: header{
			name:    "baseline/federation-partner-ca",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelFederation, lab.LabelMTLS},
			summary: "alice IMs carol@fabrikam.com; each Edge imports the other's root",
			story: "Alice sends an instant message carrying a canary to carol@fabrikam.com. fe01 relays it over " +
				"MTLS to the Edge (edge01 in the perimeter network), which finds Fabrikam's Edge through " +
				"_sipfederationtls._tcp.fabrikam.com on public DNS and relays it over MTLS across the Internet " +
				"to sip.fabrikam.com. Each Edge presents a certificate from its own enterprise CA and has " +
				"imported the partner's root; Fabrikam's Edge relays to its Front End, which must deliver.",
			expected: lab.Passed,
		},
		play: deliver,
		to:   "carol@fabrikam.com",
		path: []string{"fe01", "edge01", "fabrikam-edge01", "fabrikam-fe01"},
	}
	baselinePublicCA = baselineParams{
		header: header{
			name:    "baseline/federation-public-ca",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelFederation, lab.LabelMTLS, lab.LabelPKI},
			summary: "alice IMs carol@fabrikam.com; both Edges hold public-CA certificates",
			story: "The federation of baseline/federation-partner-ca, the other way the trust model allows: both " +
				"Edges present external certificates from the public CA (Public Trust TLS CA), which every trust " +
				"store holds, and neither imports the partner's root. The canary must reach carol@fabrikam.com.",
			expected: lab.Passed,
		},
		topology: contoso.Config{
			Federation:                   contoso.FederationPublicCA,
			ContosoEdgeOmitsFabrikamRoot: true,
			FabrikamEdgeOmitsContosoRoot: true,
		},
		play: deliver,
		to:   "carol@fabrikam.com",
		path: []string{"fe01", "edge01", "fabrikam-edge01", "fabrikam-fe01"},
	}
	baselineUntrustedPartner = baselineParams{
		header: header{
			name:    "baseline/federation-untrusted-partner-ca",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelFederation, lab.LabelPKI},
			summary: "contoso's Edge has not imported Fabrikam's root: federation is refused",
			story: "Partner-CA federation in which contoso's Edge has not imported Fabrikam's root CA. Alice sends " +
				"a canary to carol@fabrikam.com; edge01 dials sip.fabrikam.com, whose certificate chains to a " +
				"root its federation trust store lacks. Chain validation must refuse the partner with " +
				"\"x509: certificate signed by unknown authority\"; the cost is availability (alice cannot reach " +
				"carol), not confidentiality. Were the partner accepted anyway, the Edge would have accepted an " +
				"identity it has no reason to trust: broken.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseChainValidation,
		},
		topology: contoso.Config{ContosoEdgeOmitsFabrikamRoot: true},
		play:     refuseUntrustedPartner,
		attacker: "sip.fabrikam.com (fabrikam-edge01, 203.0.113.20) on the Internet, a partner Edge whose certificate chains to " +
			"Fabrikam's root, which contoso's edge01 has not imported, answering edge01's federation connection (port 5061) " +
			"that carries alice's message to carol@fabrikam.com",
		to:   "carol@fabrikam.com",
		path: []string{"fe01", "edge01", "fabrikam-edge01", "fabrikam-fe01"},
	}
	baselineInsider = baselineParams{
		header: header{
			name:    "baseline/mtls-peer-not-in-topology",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelMTLS},
			summary: "fe99, with a valid enterprise certificate, is refused by fe02's trusted server list",
			story: "fe99.contoso.com (10.0.0.99) is a server on the Contoso LAN with a valid server+client " +
				"certificate from Contoso Issuing CA 01, but it is not in the topology. Mallory runs a Front End " +
				"on it and makes it relay a MESSAGE that claims to come from alice@contoso.com, carrying a " +
				"canary, to bob@contoso.com's home fe02 over MTLS on port 5062. The chain is valid, so only the " +
				"trusted server list stands in the way: fe02 must refuse fe99 and deliver nothing from it, while " +
				"alice's own messages to bob still arrive through fe01.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseTrustedServerList,
		},
		topology: contoso.Config{Insiders: []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}}},
		play:     refuseInsider,
		attacker: "mallory on fe99.contoso.com (10.0.0.99) on contoso-lan, a server with a valid enterprise certificate that the topology does not list, relaying a forged MESSAGE to fe02's MTLS port (10.0.0.12:5062)",
		to:       "bob@contoso.com",
		path:     []string{"fe01", "fe02"},
	}
	baselineRevoked = baselineParams{
		header: header{
			name:    "baseline/revoked-server-cert",
			labels:  []lab.Label{lab.LabelBaseline, lab.LabelSIP, lab.LabelTLS, lab.LabelRevocation},
			summary: "fe01's certificate is revoked: alice's hard-fail check refuses the pool",
			story: "Contoso revoked fe01's certificate (fe01.contoso.com, pool01.contoso.com) at Contoso Issuing " +
				"CA 01 for key compromise. Alice's client connects to pool01.contoso.com, which DNS resolves to " +
				"fe01; the chain and the name are fine, but her client checks revocation in hard-fail mode, asks " +
				"the OCSP responder at pki.contoso.com, and must refuse the handshake with the exact \"revoked\" " +
				"reason. Alice loses her service; had she accepted the certificate, whoever holds its key could " +
				"pose as her pool: broken.",
			expected:  lab.Held,
			stoppedBy: lab.DefenseRevocation,
		},
		topology: contoso.Config{Revoked: []contoso.Revocation{{Cert: "fe01", Reason: pki.ReasonKeyCompromise}}},
		play:     refuseRevoked,
		attacker: "pool01.contoso.com (fe01, 10.0.0.11) on contoso-lan, serving on port 5061 the certificate fe01.contoso.com " +
			"that Contoso Issuing CA 01 revoked for key compromise, as whoever holds its key could, to alice's client",
		to:   "dave@contoso.com",
		path: []string{"fe01"},
	}
)

// baselineFamily returns the family's scenarios in catalog order.
func baselineFamily() []lab.Scenario {
	ps := []baselineParams{
		baselineClientIM, baselineFEToFE, baselinePartnerCA, baselinePublicCA,
		baselineUntrustedPartner, baselineInsider, baselineRevoked,
	}
	out := make([]lab.Scenario, len(ps))
	for i, p := range ps {
		out[i] = p.scenario()
	}
	return out
}

// scenario declares p as a lab scenario.
func (p baselineParams) scenario() lab.Scenario {
	return p.header.scenario(p.attacker, p.topology, p.run)
}

// run builds the Contoso topology with the run's defenses, plays the
// scenario and stops every server before returning.
func (p baselineParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topology.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, name := range p.unreachable {
		remove, err := dropTrafficTo(c, name)
		if err != nil {
			return err
		}
		defer remove()
	}
	if err := p.play(ctx, env, c, p); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// home is the recipient's home Front End, the last server of the path.
func (p baselineParams) home() string { return p.path[len(p.path)-1] }

// deliver is the delivery baselines' play: alice sends a canary to p.to
// and the recipient's Front End must deliver it. Evidence, in order:
// alice's connection, the revocation checks along the path, each relay,
// and last the delivery (Evidence.Delivered, without which a baseline
// cannot pass). A canary that is not delivered makes Run fail, so a
// broken baseline shows as an error.
func deliver(ctx context.Context, env *lab.Env, c *contoso.Deployment, p baselineParams) error {
	canary, res, sendErr := aliceSends(ctx, env, c, p.to)
	noteConnection(env, res)
	c.NoteRevocations(env.Evidence, append([]string{"alice"}, p.path...)...)
	noteRelays(env, c, p.path[:len(p.path)-1]...)
	if d, ok := findDelivery(c, p.home(), canary); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Delivered(p.home(), "%s", describeDelivery(d))
		return nil
	}
	env.Evidence.SetService(lab.ServiceDenied)
	noteRejections(env, c, p.path...)
	env.Evidence.Notef("alice", "the canary did not reach %s: %v", p.to, errOrNothing(sendErr))
	return fmt.Errorf("scenarios: %s: alice's canary was not delivered to %s: %v", p.name, p.to, errOrNothing(sendErr))
}

package scenarios

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// The federation family: mallory, on the Internet (203.0.113.66), connects
// to contoso's federation listener (edge01, sip.contoso.com,
// 203.0.113.10:5061) as if she were a partner's Edge and relays a MESSAGE
// to alice@contoso.com carrying her canary. Her client certificate is a
// valid one from the public CA, which every federation trust store holds;
// edge01's allow-list (fabrikam.com only) is what must refuse it. fe01's
// delivery records decide whether the message got in; alice's own message
// to carol@fabrikam.com shows whether federation still works.
//
// Sabotage: under proxy-refuses and spoofer-silent mallory does not dial;
// under proxy-hangs she connects and never speaks, until edge01 gives up
// on her handshake.

// federationParams declares one scenario of the family.
type federationParams struct {
	header
	topology contoso.Config
	// holder is the name the attacker's public-CA certificate is issued
	// for, and what it says of it; from is the sender it claims.
	holder, certDesc, from string
	// actor is who sends it: "mallory", or the unlisted partner itself.
	actor string
}

var federationAttackerAddr = netip.MustParsePrefix("203.0.113.66/24")

const (
	federationTarget     = "203.0.113.10:5061"
	federationTargetName = "sip.contoso.com"
	federationVictim     = "alice@contoso.com"
)

var (
	federationImpersonatePublicCA = federationParams{
		header: header{
			name:    "federation/impersonate-partner-public-ca",
			labels:  []lab.Label{lab.LabelFederation, lab.LabelMTLS, lab.LabelSIP, lab.LabelPKI},
			summary: "mallory, with a public-CA certificate for her own name, poses as Fabrikam's Edge",
			story: "Mallory bought a certificate for her own name, sip.mallory.example, from the public CA (Public " +
				"Trust TLS CA), which every federation trust store holds. From 203.0.113.66 on the Internet she " +
				"connects to contoso's federation listener (sip.contoso.com, 203.0.113.10:5061) as a partner Edge " +
				"and relays a MESSAGE claiming to come from carol@fabrikam.com, carrying a canary, to " +
				"alice@contoso.com. The chain is valid; edge01's federation allow-list (fabrikam.com) must refuse " +
				"a peer whose certificate names no allowed partner domain.",
			expected: lab.Held, stoppedBy: lab.DefenseFederationAllowList,
		},
		holder: "sip.mallory.example", certDesc: "her own public-CA certificate", from: "carol@fabrikam.com", actor: "mallory",
	}
	federationPartnerNotAllowed = federationParams{
		header: header{
			name:    "federation/partner-not-allowed",
			labels:  []lab.Label{lab.LabelFederation, lab.LabelMTLS, lab.LabelSIP},
			summary: "litware.com, with a valid public-CA certificate, is not on contoso's federation allow-list",
			story: "Litware (litware.com) runs an Edge at sip.litware.com with a valid certificate from the public " +
				"CA, and sends alice@contoso.com an unsolicited MESSAGE carrying a canary, as itself " +
				"(sales@litware.com), from 203.0.113.66. Contoso federates only with fabrikam.com: the chain and " +
				"name are fine, but edge01's allow-list must refuse the partner domain.",
			expected: lab.Held, stoppedBy: lab.DefenseFederationAllowList,
		},
		holder: "sip.litware.com", certDesc: "its own public-CA certificate", from: "sales@litware.com", actor: "litware",
	}
	federationOtherPartnerCert = federationParams{
		header: header{
			name:    "federation/impersonate-with-other-partner-cert",
			labels:  []lab.Label{lab.LabelFederation, lab.LabelMTLS, lab.LabelSIP, lab.LabelPKI},
			summary: "mallory uses another organisation's valid federation certificate to pose as Fabrikam",
			story: "Mallory holds the valid federation certificate and key of another organisation's Edge, " +
				"sip.litware.com (public CA). From 203.0.113.66 she connects to contoso's federation listener " +
				"(203.0.113.10:5061) and relays a MESSAGE claiming to come from carol@fabrikam.com, carrying a " +
				"canary, to alice@contoso.com. The certificate proves litware, not fabrikam: edge01's allow-list " +
				"must refuse it.",
			expected: lab.Held, stoppedBy: lab.DefenseFederationAllowList,
		},
		holder: "sip.litware.com", certDesc: "litware's public-CA certificate", from: "carol@fabrikam.com", actor: "mallory",
	}
)

// federationFamily returns the scenarios of this family.
func federationFamily() []lab.Scenario {
	var out []lab.Scenario
	for _, p := range []federationParams{federationImpersonatePublicCA, federationPartnerNotAllowed, federationOtherPartnerCert} {
		out = append(out, p.scenario())
	}
	return out
}

func (p federationParams) scenario() lab.Scenario {
	return p.header.scenario(p.attackerText(), lab.WithChanges(p.topology, p.topologyChanges()...), p.run)
}

// attackerText says, for handouts, who connects to contoso's federation
// listener as a partner Edge, with which certificate, relaying what.
func (p federationParams) attackerText() string {
	who := "mallory (203.0.113.66) on the Internet"
	if p.actor != "mallory" {
		who = fmt.Sprintf("%s's Edge %s (203.0.113.66) on the Internet", p.actor, p.holder)
	}
	return fmt.Sprintf("%s, connecting to contoso's federation listener %s (%s) as a partner Edge with %s for %s, "+
		"relaying a MESSAGE from %s to %s", who, federationTargetName, federationTarget, p.certDesc, p.holder, p.from, federationVictim)
}

// run: mallory's attempt first, then alice's federation service check;
// last, edge01's refusal or fe01's acceptance.
func (p federationParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topology.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	mallory, _, err := c.AttachHost("mallory", "internet", federationAttackerAddr, false)
	if err != nil {
		return err
	}
	ca := c.CA("public-issuing")
	cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{p.holder}, Purpose: pki.PurposeServerClient})
	if err != nil {
		return err
	}
	forged := env.NewCanary(p.actor)
	ev := env.Evidence
	dialled := false
	switch env.Sabotage() {
	case lab.SabotageNone:
		res, err := attacker.ImpersonateMTLS(ctx, attacker.MTLSImpersonation{
			Dial: p.recordDial(env, mallory, &dialled), Addr: federationTarget, ServerName: federationTargetName,
			Certificate: &cred.TLS, CertSource: p.certDesc,
			Message: attacker.ForgedMessage{
				From: p.from, To: federationVictim,
				Body:    fmt.Sprintf("%s to %s: code word %s", p.from, federationVictim, forged),
				ViaHost: p.holder, ViaPort: 5061,
			},
			Now: env.World.Now,
		})
		if err != nil {
			return err
		}
		if res.Handshake.Completed {
			// Her side of the handshake completes once she has sent her
			// certificate: edge01's verdict on it comes after.
			ev.Reached(p.actor, lab.MilestonePresented, "presented %s (%s, issued by %s) to %s (%s)",
				p.certDesc, res.Presented.Subject, res.Presented.Issuer, federationTargetName, federationTarget)
		}
		if res.Answered {
			ev.Notef(p.actor, "MESSAGE from %s to %s answered %d %s", p.from, federationVictim, res.Status, res.Reason)
		} else {
			ev.Notef(p.actor, "MESSAGE from %s to %s failed: %s", p.from, federationVictim, res.Err)
		}
	case lab.SabotageProxyHangs:
		if err := p.hang(ctx, env, mallory, &dialled); err != nil {
			return err
		}
	default:
		ev.Notef(p.actor, "sabotaged (%s): did not connect to %s (%s)", env.Sabotage(), federationTargetName, federationTarget)
	}
	injected, accepted := findDelivery(c, "fe01", forged)
	var refusal sip.Rejection
	if !accepted && dialled {
		refusal, _ = awaitRejection(ctx, c, "edge01", func(r sip.Rejection) bool {
			return r.Direction == sip.Inbound && hostOnly(r.Peer.Addr) == federationAttackerAddr.Addr().String()
		})
	}

	legit, _, legitErr := aliceSends(ctx, env, c, "carol@fabrikam.com")
	if d, ok := findDelivery(c, "fabrikam-fe01", legit); ok {
		ev.SetService(lab.ServiceIntact)
		ev.At(d.Time).Notef("fabrikam-fe01", "service check: %s", describeDelivery(d))
	} else {
		ev.SetService(lab.ServiceDenied)
		ev.Notef("alice", "service check: the canary did not reach carol@fabrikam.com: %v", errOrNothing(legitErr))
	}

	switch {
	case accepted:
		ev.Notef("fe01", "%s", describeDelivery(injected))
		ev.InjectionAccepted("fe01", fmt.Sprintf("MESSAGE from %s to %s carrying %s's canary, relayed by edge01 from federation peer %s (%s)",
			injected.From, injected.To, p.actor, p.holder, federationAttackerAddr.Addr()))
	case refusal.Reason != "":
		noteRejection(env, refusal)
	case dialled && env.Sabotage() == lab.SabotageNone:
		noteRejections(env, c, "edge01")
		return fmt.Errorf("scenarios: %s: edge01 neither relayed mallory's MESSAGE nor recorded refusing it", p.name)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// recordDial returns mallory's host as a dialer that records, once her
// connection to edge01's listener is accepted, that she is in position.
func (p federationParams) recordDial(env *lab.Env, h *netsim.Host, dialled *bool) attacker.Dialer {
	return dialFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := h.DialContext(ctx, network, address)
		if err == nil {
			*dialled = true
			env.Evidence.Reached(p.actor, lab.MilestoneInPosition, "connected to %s (%s) from %v", federationTargetName, address, federationAttackerAddr.Addr())
		}
		return conn, err
	})
}

// hang is mallory under the proxy-hangs sabotage: she connects to
// edge01's listener and sends nothing until edge01 closes the connection
// (its handshake deadline) or the run ends.
func (p federationParams) hang(ctx context.Context, env *lab.Env, h *netsim.Host, dialled *bool) error {
	conn, err := p.recordDial(env, h, dialled).DialContext(ctx, "tcp", federationTarget)
	if err != nil {
		env.Evidence.Notef(p.actor, "sabotaged (%s): could not connect to %s (%s): %v", env.Sabotage(), federationTargetName, federationTarget, err)
		return nil
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_, _ = io.Copy(io.Discard, conn)
	env.Evidence.Notef(p.actor, "sabotaged (%s): sent nothing on her connection to %s until it was closed", env.Sabotage(), federationTargetName)
	return nil
}

// dialFunc adapts a function to attacker.Dialer.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// DialContext calls f.
func (f dialFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

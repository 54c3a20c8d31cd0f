package scenarios

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// mtlsRelayParams declares the on-path attack on the Front End to Front
// End MTLS relay: mallory ARP-spoofs fe01 and fe02 and intercepts port 5062.
type mtlsRelayParams struct {
	header
}

var mallorylanAddr = netip.MustParsePrefix("10.0.0.66/24")

var mtlsRelay = mtlsRelayParams{
	header: header{
		name:    "mtls/relay-between-front-ends",
		labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP, lab.LabelMITM, lab.LabelARP},
		summary: "mallory ARP-spoofs fe01 and fe02 and terminates the MTLS relay with a forged certificate",
		story: "Mallory's machine on contoso-lan (10.0.0.66) ARP-spoofs fe01 and fe02, so the Front Ends' frames " +
			"for each other reach her, and she intercepts every connection to port 5062. When alice, on fe01, " +
			"sends a canary to bob@contoso.com, homed on fe02, fe01 opens its MTLS relay to fe02 and reaches " +
			"mallory, who answers with a self-signed certificate for fe02.contoso.com to read and alter the " +
			"relayed MESSAGE. fe01 verifies its peer's chain: the handshake must fail with the exact x509 " +
			"reason, mallory must read nothing, and the cost is availability (bob gets no message).",
		expected:  lab.Held,
		stoppedBy: lab.DefenseChainValidation,
	},
}

func (p mtlsRelayParams) scenario() lab.Scenario {
	return p.header.scenario(p.attackerText(), lab.WithChanges(contoso.Config{}, p.topologyChanges()...), p.run)
}

// attackerText says, for handouts, where mallory intercepts the Front
// Ends' MTLS and what her proxy presents.
func (p mtlsRelayParams) attackerText() string {
	return "mallory (10.0.0.66) on contoso-lan, ARP-spoofing fe01 and fe02; transparent proxy on 5062 presenting " +
		"a self-signed certificate for fe02.contoso.com"
}

// run positions mallory between fe01 and fe02, waits until both ARP caches
// are poisoned or refuse her claims, has alice send her canary to bob, and
// records, in order: the spoofing (attempted), each cache's answer to it
// (poisoned, or the arp-policy's refusal), the flows mallory saw, each
// connection her proxy intercepted (in position; relayed when she carried
// it on to fe02), fe01 accepting her certificate (broken), whether fe02
// delivered (the service), what mallory read, and last fe01's refusal of
// her certificate, credited to the defense that produced it.
//
// Nothing in it waits for time to pass: the position is an event (each
// cache changed or refused), the relay's end is one (every intercepted
// session ended), and eventWait only bounds them. Once poisoned, fe01's
// entry for fe02 stays so for the run: only an ARP message from fe02
// could correct it, and fe02 sends none, since it talks to nobody it has
// not already resolved (fe01 never reaches it; mallory's upstream
// connection comes from 10.0.0.66, which fe02 learned from her own ARP
// requests). The re-poisoning rounds (every attacker.DefaultARPInterval)
// are a spoofer's habit, not what the outcome rests on.
//
// Sabotage: proxy-refuses and proxy-hangs break mallory's proxy
// (sabotagedVictim); spoofer-silent sends no ARP at all, so fe01 relays
// straight to fe02.
func (p mtlsRelayParams) run(ctx context.Context, env *lab.Env) error {
	c, err := contoso.Config{}.Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	mallory, nic, err := c.AttachHost("mallory", "contoso-lan", mallorylanAddr, true)
	if err != nil {
		return err
	}
	fe01, fe02 := c.Host("fe01").Addr(), c.Host("fe02").Addr()

	// mallory terminates fe01's TLS with a self-signed certificate for the
	// name fe01 asks for, and dials fe02 herself.
	proxy, err := attacker.NewProxy(attacker.ProxyConfig{
		Host: mallory, Port: contoso.PortSIPMTLS, SIP: true,
		Victim:   sabotagedVictim(env, attacker.VictimTLS{Certs: attacker.SelfSigned(env.World.Now, "fe02.contoso.com"), KeyLogWriter: env.KeyLog}),
		Upstream: attacker.UpstreamTLS{},
	})
	if err != nil {
		return err
	}
	if err := proxy.Start(ctx); err != nil {
		return err
	}
	defer proxy.Close()
	var arp *attacker.ARPSpoofer
	if !spooferSilent(env) {
		if arp, err = attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: nic, Victims: []netip.Addr{fe01, fe02}}); err != nil {
			return err
		}
		defer arp.Close()
		started, err := startSpoofing(ctx, env, arp)
		if err != nil {
			return err
		}
		if !started {
			arp = nil
		}
	}
	if arp != nil {
		env.Evidence.Reached("mallory", lab.MilestoneAttempted, "ARP spoofing on contoso-lan: tells fe01 that %v (fe02) is at her MAC %v, and fe02 that %v (fe01) is",
			fe02, nic.MAC(), fe01)
		ha, hb := c.Host("fe01"), c.Host("fe02")
		for _, a := range awaitARPAnswers(ctx, nic.MAC(), [2]*netsim.Host{ha, hb}, [2]*netsim.Host{hb, ha}) {
			a.note(env, nic.MAC())
		}
	}

	canary, _, sendErr := aliceSends(ctx, env, c, mtlsVictim)
	if arp != nil {
		for _, pos := range arp.Report().Positions {
			env.Evidence.Notef("mallory", "%v", pos)
		}
	}
	// The proxy records how each side ended as it happens, possibly after
	// fe01 has its answer: wait for every session to end.
	awaitChange(ctx, func() bool {
		return !slices.ContainsFunc(proxy.Sessions(), func(s attacker.Session) bool { return s.End.IsZero() })
	}, proxy.SessionsChanged)
	rep := proxy.Report([]string{canary.Token})
	for _, s := range rep.Sessions {
		line := fmt.Sprintf("intercepted %v -> %v: %s", s.Victim, s.Dialled, describeSides(s))
		if sabotaged(s.VictimSide.Err) {
			// Her own endpoint failed: no step of the attack.
			env.Evidence.Notef("mallory", "%s", line)
			continue
		}
		env.Evidence.Reached("mallory", lab.MilestoneInPosition, "%s", line)
		if u := s.UpstreamSide; u.Completed && s.FromVictim > 0 {
			env.Evidence.Reached("mallory", lab.MilestoneRelayed, "relayed %d B of fe01's plaintext to %v over her own %s connection",
				s.FromVictim, s.Upstream, u.Version)
		}
	}
	// fe01 finishing its MTLS handshake with mallory means it took her
	// certificate for fe02's: an accepted identity, whether or not the
	// relay then carries the canary.
	for _, s := range rep.Sessions {
		if v := s.VictimSide; v.TLS && v.Completed && v.Certificate != nil {
			env.Evidence.IdentityAccepted("fe01", mtlsTargetFQDN,
				fmt.Sprintf("completed the MTLS handshake with mallory's certificate %s (issuer %s)", v.Certificate.Subject, v.Certificate.Issuer))
			break
		}
	}
	if d, ok := findDelivery(c, mtlsTarget, canary); ok {
		env.Evidence.SetService(lab.ServiceIntact)
		env.Evidence.At(d.Time).Notef(mtlsTarget, "%s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		noteAnswer(env, "alice", "MESSAGE to "+mtlsVictim, sendErr)
	}
	env.Evidence.CanariesObtained("mallory", len(rep.Found), 1, fmt.Sprintf("%d B of plaintext SIP after terminating fe01's TLS", rep.CapturedBytes))
	// Last, fe01's refusal of mallory, the defense's exact reason (fe01
	// records it before answering alice).
	if r, ok := findRejection(c, "fe01", func(r sip.Rejection) bool {
		return r.Direction == sip.Outbound && r.Target == mtlsTargetFQDN
	}); ok {
		noteRejection(env, r)
	}
	return nil
}

// describeSides says how each side of an intercepted session went.
func describeSides(s attacker.Session) string {
	side := func(h attacker.Handshake) string {
		switch {
		case h.Completed:
			return h.Version + " established"
		case h.Err != "":
			return "failed: " + h.Err
		default:
			return "not reached"
		}
	}
	return fmt.Sprintf("fe01's side %s; fe02's side %s", side(s.VictimSide), side(s.UpstreamSide))
}

package scenarios

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// mtlsRelayParams declares the on-path attack on the Front End to Front
// End MTLS relay: mallory ARP-spoofs fe01 and fe02 and intercepts port 5062.
type mtlsRelayParams struct {
	name     string
	labels   []lab.Label
	summary  string
	story    string
	expected lab.Verdict
	defenses func(*lab.Defenses)
}

var mallorylanAddr = netip.MustParsePrefix("10.0.0.66/24")

var mtlsRelay = mtlsRelayParams{
	name:    "mtls/relay-between-front-ends",
	labels:  []lab.Label{lab.LabelMTLS, lab.LabelSIP, lab.LabelMITM, lab.LabelARP},
	summary: "mallory ARP-spoofs fe01 and fe02 and terminates the MTLS relay with a forged certificate",
	story: "Mallory's machine on contoso-lan (10.0.0.66) ARP-spoofs fe01 and fe02, so the Front Ends' frames " +
		"for each other reach her, and she intercepts every connection to port 5062. When alice, on fe01, " +
		"sends a canary to bob@contoso.com, homed on fe02, fe01 opens its MTLS relay to fe02 and reaches " +
		"mallory, who answers with a self-signed certificate for fe02.contoso.com to read and alter the " +
		"relayed MESSAGE. fe01 verifies its peer's chain: the handshake must fail with the exact x509 " +
		"reason, mallory must read nothing, and the cost is availability (bob gets no message).",
	expected: lab.Held,
}

func (p mtlsRelayParams) scenario() lab.Scenario {
	return lab.Scenario{
		Name: p.name, Labels: slices.Clone(p.labels), Summary: p.summary, Story: p.story,
		Expected: p.expected, Attacker: p.attackerText(), Defenses: p.defenses, Topology: lab.ContosoConfig{}, Run: p.run,
	}
}

// run positions mallory between fe01 and fe02, waits until both ARP caches
// are poisoned, has alice send her canary to bob, and records what each
// side of mallory's proxy saw, whether fe02 delivered, and last what
// mallory read.
func (p mtlsRelayParams) run(ctx context.Context, env *lab.Env) error {
	c, err := lab.ContosoConfig{}.Build(ctx, env, env.Defenses)
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
		Host: mallory, Port: lab.PortSIPMTLS, SIP: true,
		Victim:   attacker.VictimTLS{Certs: attacker.SelfSigned(env.World.Now, "fe02.contoso.com"), KeyLogWriter: env.KeyLog},
		Upstream: attacker.UpstreamTLS{},
	})
	if err != nil {
		return err
	}
	if err := proxy.Start(ctx); err != nil {
		return err
	}
	defer proxy.Close()
	arp, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: nic, Victims: []netip.Addr{fe01, fe02}, Interval: 2 * time.Millisecond})
	if err != nil {
		return err
	}
	if err := arp.Start(ctx); err != nil {
		return err
	}
	defer arp.Close()
	if ok, state := waitPoisoned(ctx, c, nic, "fe01", "fe02"); !ok {
		// A defense (static ARP entries) held mallory off the path: that
		// is evidence, and alice's message still goes fe01 -> fe02.
		env.Evidence.Notef("mallory", "ARP spoofing on contoso-lan failed: %s", state)
	}

	canary, _, sendErr := aliceSends(ctx, env, c, mtlsVictim)
	for _, pos := range arp.Report().Positions {
		env.Evidence.Notef("mallory", "%v", pos)
	}
	// The proxy records how each side ended as it happens, possibly after
	// fe01 has its answer.
	settled := func(s attacker.Session) bool {
		return !s.End.IsZero() || s.VictimSide.Err != "" || s.UpstreamSide.Err != "" ||
			(s.VictimSide.Completed && s.UpstreamSide.Completed)
	}
	waitFor(ctx, refusalWait, func() bool {
		for _, s := range proxy.Report(nil).Sessions {
			if !settled(s) {
				return false
			}
		}
		return true
	})
	rep := proxy.Report([]string{canary.Token})
	for _, s := range rep.Sessions {
		env.Evidence.Notef("mallory", "intercepted %v -> %v: %s", s.Victim, s.Dialled, describeSides(s))
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
		env.Evidence.Notef(mtlsTarget, "%s", describeDelivery(d))
	} else {
		env.Evidence.SetService(lab.ServiceDenied)
		noteAnswer(env, "alice", "MESSAGE to "+mtlsVictim, sendErr)
	}
	env.Evidence.CanariesObtained("mallory", len(rep.Found), 1, fmt.Sprintf("%d B of plaintext SIP after terminating fe01's TLS", rep.CapturedBytes))
	// Last, fe01's refusal of mallory, the defense's exact reason.
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

// waitPoisoned waits, under a deadline, until the hosts a and b each map
// the other's address to mallory's MAC. It reports whether they do and, when
// not, what their caches say.
func waitPoisoned(ctx context.Context, c *lab.Contoso, nic *netsim.NIC, a, b string) (bool, string) {
	ha, hb := c.Host(a), c.Host(b)
	mac := nic.MAC().String()
	poisoned := func(h *netsim.Host, peer netip.Addr) bool {
		m, ok := h.ARPTable()[peer]
		return ok && m.String() == mac
	}
	if waitFor(ctx, 2*time.Second, func() bool { return poisoned(ha, hb.Addr()) && poisoned(hb, ha.Addr()) }) {
		return true, ""
	}
	return false, fmt.Sprintf("%s's ARP cache (policy %v) maps %v to %v, %s's maps %v to %v; mallory's MAC is %v",
		a, ha.ARPPolicy(), hb.Addr(), ha.ARPTable()[hb.Addr()], b, ha.Addr(), hb.ARPTable()[ha.Addr()], mac)
}

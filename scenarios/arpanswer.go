package scenarios

import (
	"context"
	"net"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// arpAnswer is how one host's ARP cache answered mallory's claim.
type arpAnswer struct{ attacker.ARPAnswer }

// awaitARPAnswers waits until each victim's cache has answered mallory's
// claim about its peer (pairs of victim and peer), and returns the
// answers then, in order (attacker.AwaitARPAnswers). Both outcomes are
// events; eventWait only bounds the wait.
func awaitARPAnswers(ctx context.Context, mallory net.HardwareAddr, pairs ...[2]*netsim.Host) []arpAnswer {
	ctx, cancel := context.WithTimeout(ctx, eventWait)
	defer cancel()
	got := attacker.AwaitARPAnswers(ctx, mallory, pairs...)
	out := make([]arpAnswer, len(got))
	for i, a := range got {
		out[i] = arpAnswer{a}
	}
	return out
}

// note records the answer: mallory's position, or the arp-policy's
// refusal by the host that ignored her claim, or that no claim of hers
// reached the cache.
func (a arpAnswer) note(env *lab.Env, mallory net.HardwareAddr) {
	switch {
	case a.Poisoned:
		env.Evidence.Notef("mallory", "ARP spoofing on contoso-lan: %s's ARP cache maps %v (%s) to %v, mallory's MAC, not %s's %v",
			a.Host, a.PeerAddr, a.Peer, mallory, a.Peer, a.PeerMAC)
	case a.Ignored != nil:
		env.Evidence.Refused(a.Host, lab.DefenseARPPolicy, "ARP cache (policy %v) ignored mallory's claim that %v (%s) is at %v (%s); it still maps it to %v, %s's own MAC",
			a.Policy, a.PeerAddr, a.Peer, a.Ignored.MAC, a.Ignored.Reason, a.MAC, a.Peer)
	default:
		env.Evidence.Notef("mallory", "ARP spoofing on contoso-lan: no claim of hers reached %s's ARP cache (policy %v), which maps %v (%s) to %v",
			a.Host, a.Policy, a.PeerAddr, a.Peer, a.MAC)
	}
}

package scenarios

import (
	"context"
	"net"
	"net/netip"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// arpAnswer is how one host's ARP cache answered mallory's claim that
// peer's address is at her MAC.
type arpAnswer struct {
	host, peer string
	peerAddr   netip.Addr
	peerMAC    net.HardwareAddr // the peer's own MAC
	policy     netsim.ARPPolicy
	poisoned   bool               // the cache maps peerAddr to mallory's MAC
	ignored    *netsim.ARPIgnored // the cache refused the claim; nil when it did not
	mac        net.HardwareAddr   // what the cache maps peerAddr to
}

// answered reports whether the cache has answered the claim either way.
func (a arpAnswer) answered() bool { return a.poisoned || a.ignored != nil }

// arpAnswerOf reads h's ARP cache for peer's address: mapped to mallory
// (her MAC), or her claim refused (netsim's ARPIgnored: a static entry, a
// policy stricter than accept-any).
func arpAnswerOf(h, peer *netsim.Host, mallory net.HardwareAddr) arpAnswer {
	a := arpAnswer{host: h.Name(), peer: peer.Name(), peerAddr: peer.Addr(), peerMAC: nicMAC(peer, peer.Addr()),
		policy: h.ARPPolicy(), mac: h.ARPTable()[peer.Addr()]}
	a.poisoned = macEqual(a.mac, mallory)
	for _, ig := range h.ARPIgnored() {
		if ig.IP == a.peerAddr && macEqual(ig.MAC, mallory) {
			a.ignored = &ig
			break
		}
	}
	return a
}

// awaitARPAnswers waits until each victim's cache has answered mallory's
// claim about its peer (pairs of victim and peer), and returns the
// answers then, in order. Both outcomes are events; eventWait only bounds
// the wait.
func awaitARPAnswers(ctx context.Context, mallory net.HardwareAddr, pairs ...[2]*netsim.Host) []arpAnswer {
	answers := func() []arpAnswer {
		out := make([]arpAnswer, len(pairs))
		for i, p := range pairs {
			out[i] = arpAnswerOf(p[0], p[1], mallory)
		}
		return out
	}
	changes := make([]func() <-chan struct{}, len(pairs))
	for i, p := range pairs {
		changes[i] = p[0].ARPChanged
	}
	awaitChange(ctx, func() bool {
		for _, a := range answers() {
			if !a.answered() {
				return false
			}
		}
		return true
	}, changes...)
	return answers()
}

// note records the answer: mallory's position, or the arp-policy's
// refusal by the host that ignored her claim, or that no claim of hers
// reached the cache.
func (a arpAnswer) note(env *lab.Env, mallory net.HardwareAddr) {
	switch {
	case a.poisoned:
		env.Evidence.Notef("mallory", "ARP spoofing on contoso-lan: %s's ARP cache maps %v (%s) to %v, mallory's MAC, not %s's %v",
			a.host, a.peerAddr, a.peer, mallory, a.peer, a.peerMAC)
	case a.ignored != nil:
		env.Evidence.Refused(a.host, lab.DefenseARPPolicy, "ARP cache (policy %v) ignored mallory's claim that %v (%s) is at %v (%s); it still maps it to %v, %s's own MAC",
			a.policy, a.peerAddr, a.peer, a.ignored.MAC, a.ignored.Reason, a.mac, a.peer)
	default:
		env.Evidence.Notef("mallory", "ARP spoofing on contoso-lan: no claim of hers reached %s's ARP cache (policy %v), which maps %v (%s) to %v",
			a.host, a.policy, a.peerAddr, a.peer, a.mac)
	}
}

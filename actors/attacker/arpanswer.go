package attacker

import (
	"context"
	"net"
	"net/netip"
	"reflect"

	"github.com/tlslab/tlslab/netsim"
)

// ARPAnswer is how one host's ARP cache answered an attacker's claim that
// a peer's address is at the attacker's MAC.
type ARPAnswer struct {
	Host, Peer string
	PeerAddr   netip.Addr
	PeerMAC    net.HardwareAddr // the peer's own MAC
	Policy     netsim.ARPPolicy
	Poisoned   bool               // the cache maps PeerAddr to the attacker's MAC
	Ignored    *netsim.ARPIgnored // the cache refused the claim; nil when it did not
	MAC        net.HardwareAddr   // what the cache maps PeerAddr to
}

// Answered reports whether the cache has answered the claim either way.
func (a ARPAnswer) Answered() bool { return a.Poisoned || a.Ignored != nil }

// ARPAnswerOf reads h's ARP cache for peer's address: mapped to the
// attacker (its MAC), or its claim refused (netsim's ARPIgnored: a static
// entry, a policy stricter than accept-any).
func ARPAnswerOf(h, peer *netsim.Host, attacker net.HardwareAddr) ARPAnswer {
	a := ARPAnswer{Host: h.Name(), Peer: peer.Name(), PeerAddr: peer.Addr(), PeerMAC: nicMACOf(peer, peer.Addr()),
		Policy: h.ARPPolicy(), MAC: h.ARPTable()[peer.Addr()]}
	a.Poisoned = a.MAC != nil && sameMAC(a.MAC, attacker)
	for _, ig := range h.ARPIgnored() {
		if ig.IP == a.PeerAddr && ig.MAC != nil && sameMAC(ig.MAC, attacker) {
			a.Ignored = &ig
			break
		}
	}
	return a
}

// AwaitARPAnswers waits until each victim's cache has answered the
// attacker's claim about its peer (pairs of victim and peer), or ctx is
// done, and returns the answers then, in order. It wakes on the victims'
// ARP cache changes (netsim.Host.ARPChanged), never polls; ctx bounds the
// wait.
func AwaitARPAnswers(ctx context.Context, attacker net.HardwareAddr, pairs ...[2]*netsim.Host) []ARPAnswer {
	answers := func() ([]ARPAnswer, bool) {
		out := make([]ARPAnswer, len(pairs))
		all := true
		for i, p := range pairs {
			out[i] = ARPAnswerOf(p[0], p[1], attacker)
			all = all && out[i].Answered()
		}
		return out, all
	}
	cases := make([]reflect.SelectCase, len(pairs)+1)
	cases[0] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}
	for {
		for i, p := range pairs {
			cases[i+1] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(p[0].ARPChanged())}
		}
		if out, all := answers(); all {
			return out
		}
		if chosen, _, _ := reflect.Select(cases); chosen == 0 {
			out, _ := answers()
			return out
		}
	}
}

// nicMACOf returns the MAC of h's NIC with address a, or nil.
func nicMACOf(h *netsim.Host, a netip.Addr) net.HardwareAddr {
	if h == nil {
		return nil
	}
	for _, n := range h.NICs() {
		if n.Addr() == a {
			return n.MAC()
		}
	}
	return nil
}

package netsim

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestARPLearnsAsLinux: under accept-any a host learns the sender of a
// request addressed to it, not the sender of someone else's broadcast
// request; such a request (and gratuitous ARP) updates an entry the host
// already has, or one it is resolving. A flat segment's caches therefore
// hold the hosts that talk, not every host that broadcasts.
func TestARPLearnsAsLinux(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, _ := addHost(t, p.w, p.lan, "c", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24")})
		d4 := mustAddr("10.0.0.4")
		otherMAC := net.HardwareAddr{2, 0xdd, 0, 0, 0, 4}

		// a's broadcast request for b: b learns a, c does not.
		pcB, _ := p.b.ListenPacket("udp", ":9")
		defer pcB.Close()
		if !sendUDP(t, p.a, "10.0.0.2:9", pcB) {
			t.Fatal("a cannot reach b")
		}
		if _, ok := p.b.ARPTable()[p.a.Addr()]; !ok {
			t.Error("b did not learn a from a's request for b")
		}
		if _, ok := c.ARPTable()[p.a.Addr()]; ok {
			t.Error("c learned a from a's request for b")
		}

		// Someone else's request, or gratuitous ARP, for an address c has
		// no entry for: still nothing.
		p.lan.Inject(arpFrame(t, layers.ARPRequest, otherMAC, d4, zeroMAC, p.b.Addr(), broadcastMAC))
		p.lan.Inject(arpFrame(t, layers.ARPRequest, otherMAC, d4, zeroMAC, d4, broadcastMAC))
		synctest.Wait()
		if _, ok := c.ARPTable()[d4]; ok {
			t.Error("c learned 10.0.0.4 from requests not addressed to it")
		}

		// c talks to a, so it has an entry; a gratuitous request moving a's
		// address to another MAC updates it, as does a request for b.
		pcA, _ := p.a.ListenPacket("udp", ":9")
		defer pcA.Close()
		if !sendUDP(t, c, "10.0.0.1:9", pcA) {
			t.Fatal("c cannot reach a")
		}
		p.lan.Inject(arpFrame(t, layers.ARPRequest, evilMAC, p.a.Addr(), zeroMAC, p.a.Addr(), broadcastMAC))
		synctest.Wait()
		if got := c.ARPTable()[p.a.Addr()]; got.String() != evilMAC.String() {
			t.Errorf("after gratuitous ARP c maps a to %v, want %v", got, evilMAC)
		}
		// Within ARPLockTime of that update, a's own (not gratuitous)
		// request for b leaves the entry alone, as Linux's locktime does;
		// after it, the request refreshes the entry.
		aForB := arpFrame(t, layers.ARPRequest, p.na.MAC(), p.a.Addr(), zeroMAC, p.b.Addr(), broadcastMAC)
		p.lan.Inject(aForB)
		synctest.Wait()
		if got := c.ARPTable()[p.a.Addr()]; got.String() != evilMAC.String() {
			t.Errorf("a's request for b within the lock time changed c's entry for a to %v, want it kept at %v", got, evilMAC)
		}
		time.Sleep(ARPLockTime)
		p.lan.Inject(aForB)
		synctest.Wait()
		if got := c.ARPTable()[p.a.Addr()]; got.String() != p.na.MAC().String() {
			t.Errorf("after a's request for b, c maps a to %v, want %v", got, p.na.MAC())
		}

		// A request from an address c is resolving completes the resolution.
		pc4, _ := c.ListenPacket("udp", ":0")
		defer pc4.Close()
		pc4.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IP(d4.AsSlice()), Port: 9})
		synctest.Wait()
		p.lan.Inject(arpFrame(t, layers.ARPRequest, otherMAC, d4, zeroMAC, p.b.Addr(), broadcastMAC))
		synctest.Wait()
		if got := c.ARPTable()[d4]; got.String() != otherMAC.String() {
			t.Errorf("a request from the address c was resolving left %v, want %v", got, otherMAC)
		}
	})
}

// TestBroadcastRequestReachesWatchers: a tapped or promiscuous NIC still
// sees every broadcast ARP request, though the segment delivers requests
// only where they can matter.
func TestBroadcastRequestReachesWatchers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		_, tapped := addHost(t, p.w, p.lan, "tapped", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24")})
		_, promisc := addHost(t, p.w, p.lan, "promisc", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.4/24"), Promiscuous: true})
		recT, recP := &recorder{}, &recorder{}
		tapped.AddTap(recT)
		promisc.AddTap(recP)
		pcB, _ := p.b.ListenPacket("udp", ":9")
		defer pcB.Close()
		if !sendUDP(t, p.a, "10.0.0.2:9", pcB) {
			t.Fatal("a cannot reach b")
		}
		synctest.Wait()
		for name, rec := range map[string]*recorder{"tapped": recT, "promiscuous": recP} {
			if got := arpMessages(rec); len(got) == 0 || got[0] != "request 10.0.0.1 "+p.na.MAC().String()+" -> 10.0.0.2" {
				t.Errorf("%s NIC saw ARP %q, want a's request first", name, got)
			}
		}
	})
}

package netsim

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var evilMAC = net.HardwareAddr{0x02, 0xee, 0, 0, 0, 0x01}

// arpMessages returns the ARP messages recorded, as "request|reply
// senderIP senderMAC -> targetIP".
func arpMessages(rec *recorder) []string {
	var out []string
	for _, pk := range rec.packets() {
		if a, ok := pk.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
			op := map[uint16]string{layers.ARPRequest: "request", layers.ARPReply: "reply"}[a.Operation]
			out = append(out, op+" "+net.IP(a.SourceProtAddress).String()+" "+net.HardwareAddr(a.SourceHwAddress).String()+" -> "+net.IP(a.DstProtAddress).String())
		}
	}
	return out
}

// sendUDP sends one datagram from h to dst and reports whether pc got it
// within a second of virtual time.
func sendUDP(t *testing.T, h *Host, dst string, pc net.PacketConn) bool {
	t.Helper()
	c, err := h.DialContext(t.Context(), "udp", dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hi"))
	pc.SetReadDeadline(time.Now().Add(time.Second))
	_, _, err = pc.ReadFrom(make([]byte, 8))
	return err == nil
}

// TestARPSpoofing sends a forged ARP message claiming b's address for the
// attacker's MAC, after a has resolved b, and checks each policy.
func TestARPSpoofing(t *testing.T) {
	b := mustAddr("10.0.0.2")
	tests := []struct {
		name     string
		policy   ARPPolicy
		static   bool // a pins b's address with SetStaticARP
		op       uint16
		writeNIC bool // sent by the attacker's NIC rather than injected
		poisoned bool
	}{
		{"accept-any, unsolicited reply", ARPAcceptAny, false, layers.ARPReply, false, true},
		{"accept-any, reply from attacker NIC", ARPAcceptAny, false, layers.ARPReply, true, true},
		{"accept-any, gratuitous request", ARPAcceptAny, false, layers.ARPRequest, false, true},
		{"accept-any, static entry", ARPAcceptAny, true, layers.ARPReply, false, false},
		{"accept-solicited, unsolicited reply", ARPAcceptSolicited, false, layers.ARPReply, false, false},
		{"accept-solicited, gratuitous request", ARPAcceptSolicited, false, layers.ARPRequest, true, false},
		{"static-only", ARPStaticOnly, true, layers.ARPReply, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{ha: HostConfig{ARPPolicy: tt.policy}})
				_, nm := addHost(t, p.w, p.lan, "mallory", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.66/24"), MAC: evilMAC})
				if tt.static {
					p.a.SetStaticARP(b, p.nb.MAC())
				}
				pcB, _ := p.b.ListenPacket("udp", ":9")
				defer pcB.Close()
				if !sendUDP(t, p.a, "10.0.0.2:9", pcB) {
					t.Fatal("a cannot reach b before the attack")
				}
				if got := p.a.ARPTable()[b]; got.String() != p.nb.MAC().String() {
					t.Fatalf("before the attack a maps b to %v, want %v", got, p.nb.MAC())
				}
				time.Sleep(ARPLockTime) // past the lock a fresh entry has (TestARPLockTime)

				ethDst, target, targetMAC := p.na.MAC(), p.a.Addr(), p.na.MAC()
				if tt.op == layers.ARPRequest { // gratuitous: broadcast, target is the sender
					ethDst, target, targetMAC = broadcastMAC, b, zeroMAC
				}
				frame := arpFrame(t, tt.op, evilMAC, b, targetMAC, target, ethDst)
				if tt.writeNIC {
					nm.WriteFrame(frame)
				} else {
					p.lan.Inject(frame)
				}
				synctest.Wait()

				want := p.nb.MAC()
				if tt.poisoned {
					want = evilMAC
				}
				if got := p.a.ARPTable()[b]; got.String() != want.String() {
					t.Errorf("after the attack a maps b to %v, want %v", got, want)
				}
				// Where a's next datagram for b goes follows the cache.
				rec := &recorder{}
				nm.AddTap(rec)
				if got := sendUDP(t, p.a, "10.0.0.2:9", pcB); got == tt.poisoned {
					t.Errorf("b received a's datagram: %v, want %v", got, !tt.poisoned)
				}
				stolen := 0
				for _, pk := range rec.packets() {
					if pk.Layer(layers.LayerTypeUDP) != nil {
						stolen++
					}
				}
				if (stolen > 0) != tt.poisoned {
					t.Errorf("attacker's NIC received %d of a's datagrams, poisoned %v", stolen, tt.poisoned)
				}
			})
		})
	}
}

// TestARPSolicitedFirstReplyWins: a host that only accepts solicited
// replies takes the first reply to its pending request, whoever sends it,
// and ignores later ones; the packets that waited go to the winner.
func TestARPSolicitedFirstReplyWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{ha: HostConfig{ARPPolicy: ARPAcceptSolicited}})
		rec := &recorder{}
		p.lan.AddTap(rec)
		ghost := mustAddr("10.0.0.9") // nobody has it
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.9:9")
		defer c.Close()
		c.Write([]byte("waiting"))
		synctest.Wait()
		if got := arpMessages(rec); !slices.Equal(got, []string{"request 10.0.0.1 " + p.na.MAC().String() + " -> 10.0.0.9"}) {
			t.Fatalf("ARP on the wire: %q, want a's one request", got)
		}
		p.lan.Inject(arpFrame(t, layers.ARPReply, evilMAC, ghost, p.na.MAC(), p.a.Addr(), p.na.MAC()))
		other := net.HardwareAddr{0x02, 0xee, 0, 0, 0, 0x02}
		p.lan.Inject(arpFrame(t, layers.ARPReply, other, ghost, p.na.MAC(), p.a.Addr(), p.na.MAC()))
		synctest.Wait()
		if got := p.a.ARPTable()[ghost]; got.String() != evilMAC.String() {
			t.Errorf("a maps 10.0.0.9 to %v, want the first reply's %v", got, evilMAC)
		}
		var to []string
		for _, pk := range rec.packets() {
			if pk.Layer(layers.LayerTypeUDP) != nil {
				to = append(to, pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet).DstMAC.String())
			}
		}
		if !slices.Equal(to, []string{evilMAC.String()}) {
			t.Errorf("the waiting datagram went to %q, want %s", to, evilMAC)
		}
	})
}

// TestARPSolicitedIgnoresRequestSenders: a solicited-only host does not
// learn from the requests it answers, so to reply it asks itself.
func TestARPSolicitedIgnoresRequestSenders(t *testing.T) {
	for _, tt := range []struct {
		policy ARPPolicy
		want   []string
	}{
		{ARPAcceptAny, []string{"request 10.0.0.1 -> 10.0.0.2", "reply 10.0.0.2 -> 10.0.0.1"}},
		{ARPAcceptSolicited, []string{"request 10.0.0.1 -> 10.0.0.2", "reply 10.0.0.2 -> 10.0.0.1", "request 10.0.0.2 -> 10.0.0.1", "reply 10.0.0.1 -> 10.0.0.2"}},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{hb: HostConfig{ARPPolicy: tt.policy}})
				rec := &recorder{}
				p.lan.AddTap(rec)
				c, s := connect(t, p.a, p.b, "80")
				c.Close()
				s.Close()
				var got []string
				for _, m := range arpMessages(rec) {
					f := slices.DeleteFunc(strings.Fields(m), func(s string) bool { return len(s) == 17 }) // drop MACs
					got = append(got, strings.Join(f, " "))
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("ARP exchange %q, want %q", got, tt.want)
				}
			})
		})
	}
}

// TestARPStaticOnly: a static-only host sends no ARP requests, ignores all
// ARP it receives except requests for its own address (which it answers),
// and reaches only addresses with a static entry.
func TestARPStaticOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{ha: HostConfig{ARPPolicy: ARPStaticOnly}})
		c3, _ := addHost(t, p.w, p.lan, "c", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24")})
		if got := p.a.ARPPolicy(); got != ARPStaticOnly || got.String() != "static-only" {
			t.Errorf("ARPPolicy() = %v", got)
		}
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		rec := &recorder{}
		p.lan.AddTap(rec)

		// b is reachable over TCP: b asks for a's MAC and a answers.
		c, s := connect(t, p.a, p.b, "80")
		c.Close()
		s.Close()

		// c is not: no entry, so nothing is sent, not even a request.
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if _, err := p.a.DialContext(ctx, "tcp", "10.0.0.3:80"); !isTimeout(err) {
			t.Errorf("dial to an address without a static entry: %v, want timeout", err)
		}
		pcC, _ := c3.ListenPacket("udp", ":9")
		defer pcC.Close()
		if sendUDP(t, p.a, "10.0.0.3:9", pcC) {
			t.Error("a datagram reached an address without a static entry")
		}
		// Replies and announcements are ignored, solicited or not.
		p.lan.Inject(arpFrame(t, layers.ARPReply, evilMAC, mustAddr("10.0.0.3"), p.na.MAC(), p.a.Addr(), p.na.MAC()))
		p.lan.Inject(arpFrame(t, layers.ARPReply, evilMAC, p.b.Addr(), p.na.MAC(), p.a.Addr(), p.na.MAC()))
		p.lan.Inject(arpFrame(t, layers.ARPRequest, evilMAC, mustAddr("10.0.0.4"), zeroMAC, p.a.Addr(), broadcastMAC))
		synctest.Wait()
		table := p.a.ARPTable()
		if len(table) != 1 || table[p.b.Addr()].String() != p.nb.MAC().String() {
			t.Errorf("ARP table %v, want only the static entry", table)
		}
		var fromA []string
		for _, m := range arpMessages(rec) {
			if strings.Fields(m)[1] == "10.0.0.1" {
				fromA = append(fromA, m)
			}
		}
		want := []string{
			"reply 10.0.0.1 " + p.na.MAC().String() + " -> 10.0.0.2", // to b's request
			"reply 10.0.0.1 " + p.na.MAC().String() + " -> 10.0.0.4", // to the injected request
		}
		if !slices.Equal(fromA, want) {
			t.Errorf("a sent ARP %q, want only replies %q", fromA, want)
		}
	})
}

// TestARPRetries: an unanswered request is repeated every second, three
// times in all, and the packets that waited are dropped.
func TestARPRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		rec := &recorder{}
		p.lan.AddTap(rec)
		start := time.Now()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.9:9")
		defer c.Close()
		c.Write([]byte("lost"))
		time.Sleep(10 * time.Second)
		if got := len(arpMessages(rec)); got != arpMaxTries {
			t.Errorf("%d ARP requests, want %d", got, arpMaxTries)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i, ts := range rec.times {
			if want := start.Add(time.Duration(i) * arpRetryInterval); !ts.Equal(want) {
				t.Errorf("request %d at %v, want %v", i, ts.Sub(start), want.Sub(start))
			}
		}
		p.a.arp.mu.RLock()
		pending := len(p.a.arp.pending)
		p.a.arp.mu.RUnlock()
		if pending != 0 {
			t.Errorf("%d resolutions still pending after giving up", pending)
		}
	})
}

// TestARPPendingLimit: packets waiting for one resolution are capped.
func TestARPPendingLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// b's link latency holds the reply back until virtual time moves,
		// which it does only once every write below has been made.
		p := newPair(t, pairConfig{nb: NICConfig{Latency: time.Millisecond}})
		pc, _ := p.b.ListenPacket("udp", ":9")
		defer pc.Close()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		for range arpMaxPendingPkts + 50 {
			c.Write([]byte("x"))
		}
		synctest.Wait()
		pc.SetReadDeadline(time.Now().Add(time.Second))
		got := 0
		for {
			if _, _, err := pc.ReadFrom(make([]byte, 1)); err != nil {
				break
			}
			got++
		}
		if got != arpMaxPendingPkts {
			t.Errorf("%d datagrams delivered, want the %d that could wait for ARP", got, arpMaxPendingPkts)
		}
	})
}

func TestARPPolicyString(t *testing.T) {
	for p, want := range map[ARPPolicy]string{ARPAcceptAny: "accept-any", ARPAcceptSolicited: "accept-solicited", ARPStaticOnly: "static-only", 7: "ARPPolicy(7)"} {
		if got := p.String(); got != want {
			t.Errorf("ARPPolicy(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

// A cache reports the claims its policy refused: a spoofed reply against a
// pinned entry, and unsolicited replies under accept-solicited.
func TestARPIgnoredReportsRefusedClaims(t *testing.T) {
	for _, tt := range []struct {
		policy ARPPolicy
		pin    bool
		reason string
	}{
		{ARPStaticOnly, true, "static entry"},
		{ARPAcceptSolicited, false, "unsolicited"},
		{ARPAcceptAny, true, "static entry"},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				victim, vnic, anic := newARPClaim(t, tt.policy)
				serverMAC := net.HardwareAddr{2, 0, 0, 0, 0, 0x11}
				if tt.pin {
					victim.SetStaticARP(arpClaimServer, serverMAC)
				}
				server := arpClaimServer
				spoof := encodeARP(layers.ARPReply, anic.MAC(), server, vnic.MAC(), vnic.Addr(), vnic.MAC())
				for range 3 {
					anic.WriteFrame(spoof)
				}
				synctest.Wait()
				want := []ARPIgnored{{IP: server, MAC: anic.MAC(), Reason: tt.reason, Count: 3}}
				got := victim.ARPIgnored()
				if len(got) != 1 || got[0].IP != want[0].IP || got[0].MAC.String() != want[0].MAC.String() ||
					got[0].Reason != want[0].Reason || got[0].Count != want[0].Count {
					t.Fatalf("ARPIgnored = %+v, want %+v", got, want)
				}
				if mac := victim.ARPTable()[server]; tt.pin && mac.String() != serverMAC.String() {
					t.Errorf("pinned entry changed to %v", mac)
				}
			})
		})
	}
}

// TestARPChangedWakesOnLearnAndRefusal: a waiter holding ARPChanged's
// channel wakes when the cache learns an entry and again when it refuses
// a claim, and not before.
func TestARPChangedWakesOnLearnAndRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		victim, vnic, anic := newARPClaim(t, ARPAcceptAny)
		server := arpClaimServer
		closed := func(ch <-chan struct{}) bool {
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}

		learnt := victim.ARPChanged()
		synctest.Wait()
		if closed(learnt) {
			t.Fatal("ARPChanged closed with nothing learnt")
		}
		anic.WriteFrame(encodeARP(layers.ARPReply, anic.MAC(), server, vnic.MAC(), vnic.Addr(), vnic.MAC()))
		synctest.Wait()
		if !closed(learnt) || victim.ARPTable()[server].String() != anic.MAC().String() {
			t.Fatal("learning the spoofed entry did not close ARPChanged's channel")
		}

		refused := victim.ARPChanged()
		victim.SetStaticARP(server, net.HardwareAddr{2, 0, 0, 0, 0, 0x11}) // itself a change
		if !closed(refused) {
			t.Fatal("pinning an entry did not close ARPChanged's channel")
		}
		refused = victim.ARPChanged()
		anic.WriteFrame(encodeARP(layers.ARPReply, anic.MAC(), server, vnic.MAC(), vnic.Addr(), vnic.MAC()))
		synctest.Wait()
		if !closed(refused) || len(victim.ARPIgnored()) != 1 {
			t.Fatalf("refusing a claim against the pinned entry did not close ARPChanged's channel (ignored %v)", victim.ARPIgnored())
		}
	})
}

// arpClaimServer is the address the attacker of newARPClaim claims.
var arpClaimServer = netip.MustParseAddr("10.0.0.11")

// newARPClaim builds a LAN with a victim host under policy (10.0.0.10) and
// an attacker (10.0.0.66) whose NIC writes the claims, on a World closed
// at the end of the test.
func newARPClaim(t *testing.T, policy ARPPolicy) (victim *Host, vnic, anic *NIC) {
	t.Helper()
	w := NewWorld(Config{})
	t.Cleanup(func() { w.Close() })
	seg := w.NewSegment("lan", SegmentConfig{})
	victim = w.NewHost("victim", HostConfig{ARPPolicy: policy})
	vnic, err := victim.AddNIC(seg, NICConfig{Addr: netip.MustParsePrefix("10.0.0.10/24")})
	if err != nil {
		t.Fatal(err)
	}
	attacker := w.NewHost("attacker", HostConfig{})
	if anic, err = attacker.AddNIC(seg, NICConfig{Addr: netip.MustParsePrefix("10.0.0.66/24")}); err != nil {
		t.Fatal(err)
	}
	return victim, vnic, anic
}

// TestARPLockTime: an entry set a moment ago keeps its MAC against an
// unsolicited reply for ARPLockTime, as Linux's neigh locktime does, but
// not against a gratuitous ARP; after the lock the reply poisons it.
func TestARPLockTime(t *testing.T) {
	b := mustAddr("10.0.0.2")
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		pcB, _ := p.b.ListenPacket("udp", ":9")
		defer pcB.Close()
		if !sendUDP(t, p.a, "10.0.0.2:9", pcB) {
			t.Fatal("a cannot reach b")
		}
		reply := arpFrame(t, layers.ARPReply, evilMAC, b, p.na.MAC(), p.a.Addr(), p.na.MAC())
		p.lan.Inject(reply)
		synctest.Wait()
		if got := p.a.ARPTable()[b]; got.String() != p.nb.MAC().String() {
			t.Errorf("a reply right after a learned b moved the entry to %v; want it locked at %v", got, p.nb.MAC())
		}
		p.lan.Inject(arpFrame(t, layers.ARPRequest, evilMAC, b, zeroMAC, b, broadcastMAC))
		synctest.Wait()
		if got := p.a.ARPTable()[b]; got.String() != evilMAC.String() {
			t.Errorf("a gratuitous ARP within the lock left the entry at %v; want %v", got, evilMAC)
		}
		p.lan.Inject(arpFrame(t, layers.ARPReply, p.nb.MAC(), b, p.na.MAC(), p.a.Addr(), p.na.MAC()))
		synctest.Wait()
		if got := p.a.ARPTable()[b]; got.String() != evilMAC.String() {
			t.Errorf("b's own reply within the lock moved the entry back to %v", got)
		}
		time.Sleep(ARPLockTime)
		p.lan.Inject(arpFrame(t, layers.ARPReply, p.nb.MAC(), b, p.na.MAC(), p.a.Addr(), p.na.MAC()))
		synctest.Wait()
		if got := p.a.ARPTable()[b]; got.String() != p.nb.MAC().String() {
			t.Errorf("after the lock b's reply left the entry at %v; want %v", got, p.nb.MAC())
		}
	})
}

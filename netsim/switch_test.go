package netsim

import (
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// TestSwitchLearning: the segment behaves as a learning switch. A frame
// for a MAC it has not seen is flooded, which a promiscuous NIC picks up
// and a normal one filters; once both ends have spoken, their unicast
// frames reach only each other.
func TestSwitchLearning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		_, sniffer := addHost(t, p.w, p.lan, "sniffer", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.66/24"), Promiscuous: true})
		_, plain := addHost(t, p.w, p.lan, "plain", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.67/24")})
		sniffed, seenByPlain := &recorder{}, &recorder{}
		sniffer.AddTap(sniffed)
		plain.AddTap(seenByPlain)

		unknown := net.HardwareAddr{0x02, 0x99, 0, 0, 0, 1}
		p.lan.Inject(udpFrame(t, evilMAC, unknown, addrPort("10.0.0.77:1"), addrPort("10.0.0.78:1"), []byte("flooded")))
		synctest.Wait()
		if len(sniffed.snapshot()) != 1 || len(seenByPlain.snapshot()) != 0 {
			t.Errorf("flooded unicast: promiscuous NIC saw %d frames, plain NIC %d; want 1 and 0", len(sniffed.snapshot()), len(seenByPlain.snapshot()))
		}

		// a and b talk; the ARP request is broadcast, the rest is unicast
		// to learned ports.
		c, s := connect(t, p.a, p.b, "80")
		c.Write([]byte("private"))
		buf := make([]byte, 7)
		s.Read(buf)
		c.Close()
		s.Close()
		synctest.Wait()
		for name, r := range map[string]*recorder{"promiscuous": sniffed, "plain": seenByPlain} {
			for _, pk := range r.tcpPackets() {
				t.Errorf("%s NIC on a switch saw unicast TCP %s -> %s", name, pk.src(), pk.dst())
			}
		}
		if arps := arpMessages(sniffed); len(arps) != 1 {
			t.Errorf("sniffer saw ARP %q, want only the broadcast request", arps)
		}
	})
}

// TestTapRemove: a removed tap sees nothing more; removal is idempotent.
func TestTapRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		seg, nic := &recorder{}, &recorder{}
		rmSeg, rmNIC := p.lan.AddTap(seg), p.nb.AddTap(nic)
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		c.Write([]byte("1"))
		synctest.Wait()
		rmSeg()
		rmNIC()
		rmSeg()
		c.Write([]byte("2"))
		synctest.Wait()
		if len(seg.snapshot()) != 1 || len(nic.snapshot()) != 1 {
			t.Errorf("taps saw %d and %d frames, want 1 each (before removal)", len(seg.snapshot()), len(nic.snapshot()))
		}
	})
}

// TestDelayedACK: data that nothing answers is acknowledged by a pure ACK
// after the 40 ms delayed-ACK timeout; a reply within that time carries
// the ACK instead.
func TestDelayedACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		rec := &recorder{}
		p.lan.AddTap(rec)
		start := time.Now()
		c.Write([]byte("no reply"))
		time.Sleep(time.Second)
		c.Write([]byte("reply soon"))
		buf := make([]byte, 32)
		s.Read(buf)
		s.Read(buf)
		time.Sleep(10 * time.Millisecond)
		s.Write([]byte("reply"))
		time.Sleep(time.Second)
		var got []string
		rec.mu.Lock()
		for i, f := range rec.frames {
			pk := decodeTCP(f)
			got = append(got, rec.times[i].Sub(start).String()+" "+pk.src()[:8]+" len "+itoa(len(pk.tcp.Payload)))
		}
		rec.mu.Unlock()
		want := []string{
			"0s 10.0.0.1 len 8",
			"40ms 10.0.0.2 len 0", // delayed ACK
			"1s 10.0.0.1 len 10",
			"1.01s 10.0.0.2 len 5", // the reply carries the ACK
			"1.05s 10.0.0.1 len 0", // and is itself acknowledged late
		}
		if len(got) != len(want) {
			t.Fatalf("frames %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("frame %d: %q, want %q", i, got[i], want[i])
			}
		}
		c.Close()
		s.Close()
	})
}

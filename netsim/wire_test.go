package netsim

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gopacket/gopacket/layers"
)

// TestSequenceNumbersOnWire transfers data both ways and checks, from the
// frames a segment tap captured, that the two TCP streams are consistent:
// every segment starts where the previous one from that side ended, ACKs
// never acknowledge data that was not sent, SYNs carry the MSS the segment's
// MTU allows, and no payload exceeds it.
func TestSequenceNumbersOnWire(t *testing.T) {
	for _, mtu := range []int{576, 1500, 9000} {
		t.Run(fmt.Sprintf("MTU=%d", mtu), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{seg: SegmentConfig{MTU: mtu}})
				rec := &recorder{}
				p.lan.AddTap(rec)
				c, s := connect(t, p.a, p.b, "80")
				var wg sync.WaitGroup
				wg.Go(func() { transferSide(t, c, 1, 200_000) })
				wg.Go(func() { transferSide(t, s, 2, 150_001) })
				wg.Wait()
				synctest.Wait()
				checkStreams(t, rec, mtu, map[string]int{
					"10.0.0.1": 200_000 + 32, // transferSide appends a SHA-256
					"10.0.0.2": 150_001 + 32,
				})
			})
		})
	}
}

// streamState follows one direction of a TCP connection on the wire.
type streamState struct {
	isn        uint32
	next       uint32 // sequence number the next segment must carry
	lastAck    uint32
	acked      bool
	payload    int
	maxPayload int
	fin        bool
}

func checkStreams(t *testing.T, rec *recorder, mtu int, wantBytes map[string]int) {
	t.Helper()
	mss := mtu - 40
	streams := map[string]*streamState{}
	peer := map[string]string{}
	for i, pk := range rec.tcpPackets() {
		src, dst := pk.src(), pk.dst()
		where := fmt.Sprintf("frame %d (%s -> %s seq %d ack %d len %d)", i, src, dst, pk.tcp.Seq, pk.tcp.Ack, len(pk.tcp.Payload))
		if len(pk.ip.Contents)+len(pk.ip.Payload) > mtu {
			t.Errorf("%s: IPv4 packet of %d bytes exceeds MTU %d", where, len(pk.ip.Contents)+len(pk.ip.Payload), mtu)
		}
		if pk.ip.TTL != defaultTTL || pk.ip.Flags&layers.IPv4DontFragment == 0 {
			t.Errorf("%s: TTL %d flags %v, want TTL 64 with DF", where, pk.ip.TTL, pk.ip.Flags)
		}
		st := streams[src]
		if pk.tcp.SYN {
			if st != nil {
				t.Fatalf("%s: second SYN from %s", where, src)
			}
			if got := mssOption(pk.tcp); got != uint16(mss) {
				t.Errorf("%s: SYN carries MSS %d, want %d", where, got, mss)
			}
			st = &streamState{isn: pk.tcp.Seq, next: pk.tcp.Seq}
			streams[src] = st
			peer[src] = dst
			if pk.tcp.ACK { // SYN-ACK acknowledges exactly the SYN
				if ps := streams[dst]; ps == nil || pk.tcp.Ack != ps.isn+1 {
					t.Errorf("%s: SYN-ACK acknowledges %d, want the peer's ISN+1", where, pk.tcp.Ack)
				}
			}
		}
		if st == nil {
			t.Fatalf("%s: segment before the SYN from %s", where, src)
		}
		if pk.tcp.Seq != st.next {
			t.Errorf("%s: seq %d, want %d (relative %d, want %d)", where, pk.tcp.Seq, st.next, pk.tcp.Seq-st.isn, st.next-st.isn)
		}
		st.next = pk.tcp.Seq + pk.seqLen()
		if n := len(pk.tcp.Payload); n > 0 {
			if n > mss {
				t.Errorf("%s: payload of %d bytes exceeds MSS %d", where, n, mss)
			}
			st.payload += n
			st.maxPayload = max(st.maxPayload, n)
		}
		if pk.tcp.FIN {
			st.fin = true
		}
		if pk.tcp.RST {
			t.Errorf("%s: RST in a clean exchange", where)
			all := rec.tcpPackets()
			for j := max(0, i-12); j < len(all); j++ {
				q := all[j]
				t.Logf("  %d %s->%s seq=%d ack=%d len=%d syn=%v fin=%v rst=%v win=%d", j, q.src(), q.dst(), q.tcp.Seq, q.tcp.Ack, len(q.tcp.Payload), q.tcp.SYN, q.tcp.FIN, q.tcp.RST, q.tcp.Window)
			}
		}
		if pk.tcp.ACK {
			ps := streams[dst]
			if ps == nil || seqLT(ps.next, pk.tcp.Ack) {
				t.Errorf("%s: acknowledges %d, beyond what %s has sent", where, pk.tcp.Ack, dst)
			}
			if st.acked && seqLT(pk.tcp.Ack, st.lastAck) {
				t.Errorf("%s: ACK went back from %d to %d", where, st.lastAck, pk.tcp.Ack)
			}
			st.lastAck, st.acked = pk.tcp.Ack, true
		}
	}
	if len(streams) != 2 {
		t.Fatalf("saw %d TCP senders, want 2", len(streams))
	}
	for src, st := range streams {
		host, _, _ := net.SplitHostPort(src)
		if st.payload != wantBytes[host] {
			t.Errorf("%s sent %d payload bytes, want %d", src, st.payload, wantBytes[host])
		}
		if st.maxPayload != mss {
			t.Errorf("%s: largest segment %d bytes, want full-size %d-byte segments", src, st.maxPayload, mss)
		}
		if !st.fin {
			t.Errorf("%s never sent FIN", src)
		}
		// The last ACK from each side covers everything the other sent,
		// FIN included.
		if ps := streams[peer[src]]; st.lastAck != ps.next {
			t.Errorf("%s last acknowledged %d, peer ended at %d", src, st.lastAck, ps.next)
		}
	}
}

// TestMSSNegotiation checks that each side sends no more than the smaller
// of the two MSS values, when the peers sit on segments of different MTUs
// joined by a router.
func TestMSSNegotiation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{MTU: 9000}, SegmentConfig{MTU: 1500})
		rec := &recorder{}
		n.left.AddTap(rec)
		c, s := connect(t, n.client, n.server, "80")
		var wg sync.WaitGroup
		wg.Go(func() { transferSide(t, c, 1, 50_000) })
		wg.Go(func() { transferSide(t, s, 2, 50_000) })
		wg.Wait()
		synctest.Wait()
		largest := 0
		for _, pk := range rec.tcpPackets() {
			if pk.tcp.SYN {
				want := map[bool]uint16{true: 8960, false: 1460}[pk.ip.SrcIP.String() == "10.0.1.10"]
				if got := mssOption(pk.tcp); got != want {
					t.Errorf("SYN from %s: MSS %d, want %d", pk.ip.SrcIP, got, want)
				}
			}
			largest = max(largest, len(pk.tcp.Payload))
		}
		if largest != 1460 {
			t.Errorf("largest payload on the jumbo segment %d, want 1460 (the peer's MSS)", largest)
		}
	})
}

package netsim

import (
	"io"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestLatencyTiming measures, on the virtual clock, a TCP handshake and one
// request/response between hosts whose links each add 10 ms: a frame
// between them takes 20 ms.
func TestLatencyTiming(t *testing.T) {
	const hop = 20 * time.Millisecond
	tests := []struct {
		name       string
		staticARP  bool
		dialDone   time.Duration // Dial returns: SYN-ACK received
		acceptDone time.Duration // Accept returns: the handshake's ACK received
		rttDone    time.Duration // the client has read the response
	}{
		// ARP request and reply, then SYN and SYN-ACK.
		{"with ARP", false, 4 * hop, 5 * hop, 6 * hop},
		{"static ARP", true, 2 * hop, 3 * hop, 4 * hop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{
					na: NICConfig{Latency: 10 * time.Millisecond},
					nb: NICConfig{Latency: 10 * time.Millisecond},
				})
				if tt.staticARP {
					p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
					p.b.SetStaticARP(p.a.Addr(), p.na.MAC())
				}
				l, _ := p.b.Listen("tcp", ":80")
				defer l.Close()
				start := time.Now()
				accepted := make(chan time.Duration, 1)
				go func() {
					s, err := l.Accept()
					if err != nil {
						return
					}
					accepted <- time.Since(start)
					buf := make([]byte, 4)
					io.ReadFull(s, buf)
					s.Write([]byte("pong"))
					s.Close()
				}()
				c, err := p.a.Dial("tcp", "10.0.0.2:80")
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != tt.dialDone {
					t.Errorf("Dial returned after %v, want %v", d, tt.dialDone)
				}
				c.Write([]byte("ping"))
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "pong" {
					t.Fatalf("response %q, %v", buf, err)
				}
				if d := time.Since(start); d != tt.rttDone {
					t.Errorf("response read after %v, want %v", d, tt.rttDone)
				}
				if d := <-accepted; d != tt.acceptDone {
					t.Errorf("Accept returned after %v, want %v", d, tt.acceptDone)
				}
				c.Close()
			})
		})
	}
}

// TestLatencyPerDirection: a link's latency applies to frames in both
// directions; frames injected onto the segment get only the receiver's.
func TestLatencyPerDirection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{nb: NICConfig{Latency: 30 * time.Millisecond}})
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		p.b.SetStaticARP(p.a.Addr(), p.na.MAC())
		pa, _ := p.a.ListenPacket("udp", ":9")
		pb, _ := p.b.ListenPacket("udp", ":9")
		defer pa.Close()
		defer pb.Close()
		measure := func(send func(), recv func() error) time.Duration {
			start := time.Now()
			send()
			if err := recv(); err != nil {
				t.Fatal(err)
			}
			return time.Since(start)
		}
		buf := make([]byte, 8)
		readB := func() error { _, _, err := pb.ReadFrom(buf); return err }
		readA := func() error { _, _, err := pa.ReadFrom(buf); return err }
		if d := measure(func() { pa.WriteTo([]byte("x"), udpAddr("10.0.0.2:9")) }, readB); d != 30*time.Millisecond {
			t.Errorf("a -> b took %v, want 30ms", d)
		}
		if d := measure(func() { pb.WriteTo([]byte("x"), udpAddr("10.0.0.1:9")) }, readA); d != 30*time.Millisecond {
			t.Errorf("b -> a took %v, want 30ms", d)
		}
		inject := func(dst *NIC) func() {
			return func() {
				p.lan.Inject(udpFrame(t, evilMAC, dst.MAC(), addrPort("10.0.0.77:1"), addrPort(dst.Addr().String()+":9"), []byte("x")))
			}
		}
		if d := measure(inject(p.nb), readB); d != 30*time.Millisecond {
			t.Errorf("injected -> b took %v, want 30ms", d)
		}
		if d := measure(inject(p.na), readA); d != 0 {
			t.Errorf("injected -> a took %v, want 0", d)
		}
	})
}

// TestLatencyPreservesOrder: frames on a slow link arrive in the order sent.
func TestLatencyPreservesOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{na: NICConfig{Latency: 5 * time.Millisecond}})
		pb, _ := p.b.ListenPacket("udp", ":9")
		defer pb.Close()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		for i := range 100 {
			c.Write([]byte{byte(i)})
			time.Sleep(time.Duration(i%3) * time.Millisecond)
		}
		buf := make([]byte, 1)
		for i := range 100 {
			if _, _, err := pb.ReadFrom(buf); err != nil || buf[0] != byte(i) {
				t.Fatalf("datagram %d: got %v, %v", i, buf, err)
			}
		}
	})
}

// TestLatencyNoHeadOfLineBlocking: a frame from a fast link must not wait
// behind a frame from a slow link that is still in flight to the same NIC.
func TestLatencyNoHeadOfLineBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		slow, ns := addHost(t, p.w, p.lan, "slow", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24"), Latency: 100 * time.Millisecond})
		slow.SetStaticARP(p.b.Addr(), p.nb.MAC())
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		p.b.SetStaticARP(ns.Addr(), ns.MAC())
		pb, _ := p.b.ListenPacket("udp", ":9")
		defer pb.Close()
		cs, _ := slow.DialContext(t.Context(), "udp", "10.0.0.2:9")
		ca, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer cs.Close()
		defer ca.Close()
		start := time.Now()
		cs.Write([]byte("slow"))
		time.Sleep(time.Millisecond)
		ca.Write([]byte("fast"))
		buf := make([]byte, 8)
		n, _, _ := pb.ReadFrom(buf)
		if string(buf[:n]) != "fast" || time.Since(start) != time.Millisecond {
			t.Errorf("first datagram %q after %v, want fast after 1ms", buf[:n], time.Since(start))
		}
	})
}

// TestUDPLoss checks the loss probability of a sender's link: none, all,
// and half with a fixed seed, which must lose the same datagrams every run.
// NICConfig.Loss drops UDP only: TCP over a fully lossy link is unaffected.
func TestUDPLoss(t *testing.T) {
	const n = 400
	run := func(t *testing.T, seed uint64, loss float64) []int {
		var got []int
		synctest.Test(t, func(t *testing.T) {
			p := newPair(t, pairConfig{seed: seed, na: NICConfig{Loss: loss}})
			p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
			pb, _ := p.b.ListenPacket("udp", ":9")
			defer pb.Close()
			c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
			defer c.Close()
			for i := range n {
				if _, err := c.Write([]byte{byte(i), byte(i >> 8)}); err != nil {
					t.Fatal(err) // a lost datagram is still sent successfully
				}
			}
			synctest.Wait()
			pb.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 2)
			for {
				if _, _, err := pb.ReadFrom(buf); err != nil {
					break
				}
				got = append(got, int(buf[0])|int(buf[1])<<8)
			}
			// Loss applies in both directions of a's link: a reply to a
			// faces it too.
			c2, _ := p.b.DialContext(t.Context(), "udp", "10.0.0.1:9")
			defer c2.Close()
			pa, _ := p.a.ListenPacket("udp", ":9")
			defer pa.Close()
			c2.Write([]byte("back"))
			pa.SetReadDeadline(time.Now().Add(time.Second))
			_, _, err := pa.ReadFrom(buf)
			switch {
			case loss == 0 && err != nil:
				t.Errorf("reply over a lossless link: %v", err)
			case loss == 1 && err == nil:
				t.Errorf("reply crossed a link with loss 1")
			}
			// TCP is never dropped, whatever the loss.
			cc, ss := connect(t, p.a, p.b, "80")
			msg := payload(1, 50_000)
			go func() { cc.Write(msg); cc.Close() }()
			if got, err := io.ReadAll(ss); err != nil || len(got) != len(msg) {
				t.Errorf("TCP over a link with loss %v: %d bytes, %v", loss, len(got), err)
			}
			ss.Close()
		})
		return got
	}
	t.Run("none", func(t *testing.T) {
		if got := run(t, 1, 0); len(got) != n {
			t.Errorf("loss 0 delivered %d of %d", len(got), n)
		}
	})
	t.Run("all", func(t *testing.T) {
		if got := run(t, 1, 1); len(got) != 0 {
			t.Errorf("loss 1 delivered %d of %d", len(got), n)
		}
	})
	t.Run("half", func(t *testing.T) {
		first := run(t, 42, 0.5)
		if len(first) < n/2-60 || len(first) > n/2+60 { // six standard deviations
			t.Errorf("loss 0.5 delivered %d of %d", len(first), n)
		}
		if !slices.IsSorted(first) {
			t.Errorf("datagrams reordered: %v", first)
		}
		if again := run(t, 42, 0.5); !slices.Equal(first, again) {
			t.Errorf("same seed lost different datagrams: %d then %d delivered", len(first), len(again))
		}
		if other := run(t, 43, 0.5); slices.Equal(first, other) {
			t.Error("another seed lost exactly the same datagrams")
		}
	})
}

package netsim

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// lossHook is a segment FrameHook that drops the TCP segments its rule
// picks, and remembers when it dropped them.
type lossHook struct {
	mu      sync.Mutex
	rule    func(p *tcpPacket) bool
	dropped []time.Time
}

func (h *lossHook) HandleFrame(f *Frame) HookAction {
	p := decodeTCP(f.Data)
	if p == nil {
		return Pass
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rule != nil && h.rule(p) {
		h.dropped = append(h.dropped, time.Now())
		return Drop
	}
	return Pass
}

func (h *lossHook) setRule(rule func(p *tcpPacket) bool) {
	h.mu.Lock()
	h.rule = rule
	h.mu.Unlock()
}

func (h *lossHook) drops() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.dropped...)
}

// firstN returns a rule that picks the first n packets match picks.
func firstN(n int, match func(p *tcpPacket) bool) func(p *tcpPacket) bool {
	return func(p *tcpPacket) bool {
		if n > 0 && match(p) {
			n--
			return true
		}
		return false
	}
}

// clientData returns a function reporting the stream offset of a data
// segment from the client to port, learning the client's initial
// sequence number from its SYN; ok is false for every other segment.
func clientData(port layers.TCPPort) func(p *tcpPacket) (off uint32, ok bool) {
	var isn uint32
	return func(p *tcpPacket) (uint32, bool) {
		if p.tcp.DstPort != port {
			return 0, false
		}
		if p.tcp.SYN {
			isn = p.tcp.Seq
		}
		return p.tcp.Seq - isn - 1, len(p.tcp.Payload) > 0
	}
}

// dataAt picks client data segments starting at stream offset off.
func dataAt(off uint32) func(p *tcpPacket) bool {
	offset := clientData(80)
	return func(p *tcpPacket) bool {
		o, ok := offset(p)
		return ok && o == off
	}
}

// dataEndingAt picks client data segments ending at stream offset end.
func dataEndingAt(end uint32) func(p *tcpPacket) bool {
	offset := clientData(80)
	return func(p *tcpPacket) bool {
		o, ok := offset(p)
		return ok && o+uint32(len(p.tcp.Payload)) == end
	}
}

// transfer writes data on w and closes it for writing, reads r to EOF,
// and checks every byte arrived intact.
func transfer(t *testing.T, w, r *Conn, data []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write(data)
		if err == nil {
			err = w.CloseWrite()
		}
		errc <- err
	}()
	n, sum, err := readAllHash(r)
	if err != nil || n != int64(len(data)) || sum != sha256sum(data) {
		t.Fatalf("reader got %d bytes (intact: %v), %v; want %d intact bytes and EOF", n, sum == sha256sum(data), err, len(data))
	}
	if err := <-errc; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// TestRecoveryFromSingleLoss drops one segment of a 100,000-byte
// transfer (a data segment mid-stream, the FIN, the SYN-ACK, the ACK that
// completes the handshake) and checks the stream still delivers every byte.
func TestRecoveryFromSingleLoss(t *testing.T) {
	const size = 100_000
	cases := []struct {
		name string
		rule func(p *tcpPacket) bool
		// within bounds the virtual time the transfer may take.
		within time.Duration
	}{
		// Later segments draw duplicate ACKs: fast retransmit, no timeout.
		{"data segment", firstN(1, dataAt(10*1460)), time.Millisecond},
		// The last data segment: no later segments, so the RTO resends it.
		{"last data segment", firstN(1, dataEndingAt(size)), 2 * minRTO},
		{"FIN", firstN(1, func(p *tcpPacket) bool { return p.tcp.DstPort == 80 && p.tcp.FIN }), 2 * minRTO},
		{"SYN-ACK", firstN(1, func(p *tcpPacket) bool { return p.tcp.SYN && p.tcp.ACK }), synRetryFirst + minRTO},
		// The server resends its SYN-ACK after a second; the client, already
		// established, answers the repeat with an ACK.
		{"handshake ACK", firstN(1, func(p *tcpPacket) bool { return p.tcp.DstPort == 80 && !p.tcp.SYN }), synRetryFirst + minRTO},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{})
				hook := &lossHook{}
				p.lan.AddHook(hook)
				hook.setRule(tc.rule)
				start := time.Now()
				c, s := connect(t, p.a, p.b, "80")
				transfer(t, c, s, payload(7, size))
				if len(hook.drops()) == 0 {
					t.Fatal("the hook dropped nothing")
				}
				if took := time.Since(start); took > tc.within {
					t.Errorf("transfer took %v of virtual time, want at most %v", took, tc.within)
				}
				c.Close()
				s.Close()
			})
		})
	}
}

// TestRecoveryFromBurstLoss drops twenty consecutive data segments once
// each, then one segment five times in a row: the stream survives both,
// and the five timeouts back off exponentially from the 200 ms minimum.
func TestRecoveryFromBurstLoss(t *testing.T) {
	t.Run("burst", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPair(t, pairConfig{})
			hook := &lossHook{}
			p.lan.AddHook(hook)
			seen := map[uint32]bool{}
			offset := clientData(80)
			hook.setRule(func(pk *tcpPacket) bool {
				off, ok := offset(pk)
				if !ok || off < 20*1460 || off >= 40*1460 || seen[off] {
					return false
				}
				seen[off] = true
				return true
			})
			c, s := connect(t, p.a, p.b, "80")
			transfer(t, c, s, payload(8, 100_000))
			if n := len(hook.drops()); n != 20 {
				t.Errorf("dropped %d segments, want 20", n)
			}
		})
	})
	t.Run("backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPair(t, pairConfig{})
			hook := &lossHook{}
			p.lan.AddHook(hook)
			c, s := connect(t, p.a, p.b, "80")
			hook.setRule(firstN(5, func(pk *tcpPacket) bool { return pk.tcp.DstPort == 80 && len(pk.tcp.Payload) > 0 }))
			transfer(t, c, s, payload(9, 1000)) // one segment: no duplicate ACKs
			drops := hook.drops()
			if len(drops) != 5 {
				t.Fatalf("dropped %d transmissions, want 5", len(drops))
			}
			want := minRTO
			for i := 1; i < len(drops); i++ {
				if gap := drops[i].Sub(drops[i-1]); gap != want {
					t.Errorf("retransmission %d came %v after the previous one, want %v", i, gap, want)
				}
				want *= 2
			}
		})
	})
}

// TestPartitionTimesOut cuts the link for good: the connection with data
// in flight gives up after TCPUserTimeout and Read and Write fail with
// ETIMEDOUT, while the idle peer notices nothing, as with Linux.
func TestPartitionTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		hook := &lossHook{}
		p.lan.AddHook(hook)
		c, s := connect(t, p.a, p.b, "80")
		hook.setRule(func(*tcpPacket) bool { return true })
		start := time.Now()
		if _, err := c.Write(payload(10, 1000)); err != nil {
			t.Fatalf("Write into the partition: %v (it only queues)", err)
		}
		_, err := c.Read(make([]byte, 10))
		took := time.Since(start)
		checkTimedOut(t, "read", err)
		// Seven retransmissions, 0.2 s apart doubling, the first timeout
		// at 0.2 s and the abort 30 s after it.
		if want := minRTO + TCPUserTimeout; took != want {
			t.Errorf("Read failed after %v, want %v", took, want)
		}
		if n := len(hook.drops()); n != 8 {
			t.Errorf("%d transmissions dropped, want the original and 7 retransmissions", n)
		}
		_, err = c.Write([]byte("more"))
		checkTimedOut(t, "write", err)
		s.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := s.Read(make([]byte, 10)); !isTimeout(err) || errors.Is(err, syscall.ETIMEDOUT) {
			t.Errorf("idle peer's Read: %v, want its own deadline's timeout", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close after the abort: %v", err)
		}
		s.Close()
	})
}

func checkTimedOut(t *testing.T, op string, err error) {
	t.Helper()
	var oe *net.OpError
	var se interface{ Unwrap() error }
	if !errors.As(err, &oe) || oe.Op != op || !errors.Is(err, syscall.ETIMEDOUT) || !errors.As(oe.Err, &se) {
		t.Errorf("%s: %v, want a *net.OpError %q wrapping ETIMEDOUT", op, err, op)
		return
	}
	if want := op + ": connection timed out"; oe.Err.Error() != want {
		t.Errorf("%s error %q, want %q", op, oe.Err, want)
	}
}

// TestZeroWindowProbe stops the reader until the writer has seen a zero
// window for longer than TCPUserTimeout (probes answered, so no abort),
// then loses the window update the reader sends when it resumes: the
// writer's next probe finds the window open and the transfer completes.
func TestZeroWindowProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rcvBuf = 16 << 10
		p := newPair(t, pairConfig{hb: HostConfig{ReceiveBuffer: rcvBuf}})
		hook := &lossHook{}
		p.lan.AddHook(hook)
		probes := &recorder{}
		p.na.AddTap(probes)
		c, s := connect(t, p.a, p.b, "80")
		data := payload(11, 100_000)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Write(data)
			if err == nil {
				err = c.CloseWrite()
			}
			errc <- err
		}()
		time.Sleep(2 * TCPUserTimeout) // the reader is away; the window is zero
		// The reader's first window update is lost.
		hook.setRule(firstN(1, func(pk *tcpPacket) bool { return pk.tcp.SrcPort == 80 && pk.tcp.Window > 0 }))
		n, sum, err := readAllHash(s)
		if err != nil || n != int64(len(data)) || sum != sha256sum(data) {
			t.Fatalf("reader got %d bytes, %v; want %d intact bytes", n, err, len(data))
		}
		if err := <-errc; err != nil {
			t.Fatalf("writer: %v", err)
		}
		if len(hook.drops()) != 1 {
			t.Errorf("dropped %d window updates, want 1", len(hook.drops()))
		}
		zeroWindowProbes := countProbes(probes.tcpPackets())
		if zeroWindowProbes < 2 {
			t.Errorf("%d zero-window probes on the wire, want several", zeroWindowProbes)
		}
		c.Close()
		s.Close()
	})
}

// countProbes counts segments to port 80 that carry no data and the
// sequence number just below one already sent: zero-window probes.
func countProbes(pks []tcpPacket) int {
	highest := map[uint16]uint32{}
	n := 0
	for _, pk := range pks {
		if pk.tcp.DstPort != 80 {
			continue
		}
		port := uint16(pk.tcp.SrcPort)
		end := pk.tcp.Seq + pk.seqLen()
		if pk.seqLen() == 0 && pk.tcp.Seq == highest[port]-1 {
			n++
		}
		if seqLT(highest[port], end) {
			highest[port] = end
		}
	}
	return n
}

// TestDuplicateAndReorderedSegments has a hook deliver some segments twice
// and swap others with their successor: the reader sees the stream
// exactly once, in order.
func TestDuplicateAndReorderedSegments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		var mu sync.Mutex
		var held []byte
		count, dups, swaps := 0, 0, 0
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			pk := decodeTCP(f.Data)
			if pk == nil || pk.tcp.DstPort != 80 || len(pk.tcp.Payload) == 0 {
				return Pass
			}
			mu.Lock()
			defer mu.Unlock()
			count++
			switch {
			case held != nil: // deliver this one, then the one held back
				p.lan.Inject(CloneFrame(f.Data))
				p.lan.Inject(held)
				held = nil
				swaps++
				return Drop
			case count%7 == 0:
				held = CloneFrame(f.Data)
				return Drop
			case count%5 == 0:
				p.lan.Inject(CloneFrame(f.Data))
				dups++
			}
			return Pass
		}))
		c, s := connect(t, p.a, p.b, "80")
		transfer(t, c, s, payload(12, 100_000))
		mu.Lock()
		defer mu.Unlock()
		if dups == 0 || swaps == 0 {
			t.Errorf("%d duplicates and %d swaps, want some of each", dups, swaps)
		}
	})
}

// TestFastRetransmitWithLaggingReader drops one data segment while the
// reader reads nothing, so the windows the ACKs carry shrink with the
// unread data: the duplicate ACKs that follow the hole (same ACK, same
// window) still trigger a fast retransmit, with no time passed, long
// before the minimum retransmission timeout would resend the segment.
func TestFastRetransmitWithLaggingReader(t *testing.T) {
	const size = 200_000
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		hook := &lossHook{}
		p.lan.AddHook(hook)
		hook.setRule(firstN(1, dataAt(40*1460)))
		lost := dataAt(40 * 1460)
		var resent atomic.Int32 // the lost segment's copies that got through
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			if pk := decodeTCP(f.Data); pk != nil && lost(pk) {
				resent.Add(1)
			}
			return Pass
		}))
		c, s := connect(t, p.a, p.b, "80")
		data := payload(9, size)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Write(data)
			errc <- err
		}()
		start := time.Now()
		synctest.Wait() // nothing read yet: the data waits in s's buffer
		if len(hook.drops()) != 1 || resent.Load() != 1 {
			t.Fatalf("the hook dropped %d segments and %d copies got through, want 1 and 1 (a fast retransmit, with no time passed)", len(hook.drops()), resent.Load())
		}
		if took := time.Since(start); took >= minRTO {
			t.Errorf("the hole was filled after %v of virtual time, want a fast retransmit before the %v timeout", took, minRTO)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		n, sum, err := readAllHash(s)
		if err != nil || n != size || sum != sha256sum(data) {
			t.Fatalf("reader got %d bytes (intact: %v), %v", n, sum == sha256sum(data), err)
		}
		c.Close()
		s.Close()
	})
}

package netsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// queuedBytes returns what a connection holds unread: in-order and
// out-of-order payload.
func queuedBytes(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rcvQueued + c.oooBytes
}

// TestFlowControlStallsWriter checks that a receiver that stops reading
// stalls the writer once its receive buffer is full, that the buffer never
// holds more than its size, and that the stream resumes intact once the
// receiver reads again.
func TestFlowControlStallsWriter(t *testing.T) {
	for _, rcvBuf := range []int{16 << 10, 64 << 10, 100_000, 1 << 20} {
		t.Run(fmt.Sprintf("ReceiveBuffer=%d", rcvBuf), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{hb: HostConfig{ReceiveBuffer: rcvBuf}})
				c, s := connect(t, p.a, p.b, "80")
				mss := p.lan.MTU() - 40

				// The receive queue is sampled on every frame the receiver's
				// NIC sees; it must never exceed the buffer.
				var mu sync.Mutex
				maxQueued := 0
				p.nb.AddTap(TapFunc(func(time.Time, []byte) {
					q := queuedBytes(s)
					mu.Lock()
					maxQueued = max(maxQueued, q)
					mu.Unlock()
				}))

				data := payload(uint64(rcvBuf), 3*rcvBuf+123)
				c.SetWriteDeadline(time.Now().Add(time.Second))
				n, err := c.Write(data)
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("Write to a receiver that does not read: %d, %v; want a timeout", n, err)
				}
				if n <= rcvBuf-mss || n > rcvBuf {
					t.Errorf("Write sent %d bytes before stalling, want (%d, %d]", n, rcvBuf-mss, rcvBuf)
				}
				synctest.Wait()
				if q := queuedBytes(s); q != n {
					t.Errorf("receiver holds %d bytes, want the %d sent", q, n)
				}

				// Still stalled ten seconds later: nothing more was sent.
				c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if m, err := c.Write(data[n:]); m != 0 || !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("second Write to a full window = %d, %v", m, err)
				}
				if q := queuedBytes(s); q != n {
					t.Errorf("receiver holds %d bytes after waiting, want %d", q, n)
				}

				// The reader drains slowly; the writer finishes.
				c.SetWriteDeadline(time.Time{})
				writeErr := make(chan error, 1)
				go func() {
					_, err := c.Write(data[n:])
					if err == nil {
						err = c.CloseWrite()
					}
					writeErr <- err
				}()
				var got bytes.Buffer
				buf := make([]byte, 3000)
				for {
					m, err := s.Read(buf)
					got.Write(buf[:m])
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("Read: %v", err)
					}
					time.Sleep(time.Millisecond)
				}
				if err := <-writeErr; err != nil {
					t.Fatalf("Write after the reader resumed: %v", err)
				}
				if !bytes.Equal(got.Bytes(), data) {
					t.Errorf("received %d bytes that differ from the %d sent", got.Len(), len(data))
				}
				mu.Lock()
				peak := maxQueued
				mu.Unlock()
				if peak > rcvBuf {
					t.Errorf("receiver queued up to %d bytes, more than its %d-byte buffer", peak, rcvBuf)
				}
				if p.nb.Dropped() != 0 || p.na.Dropped() != 0 {
					t.Errorf("NICs dropped %d and %d frames", p.na.Dropped(), p.nb.Dropped())
				}
				c.Close()
				s.Close()
			})
		})
	}
}

// TestWindowScaleOnWire checks the window-scale option: offered in SYNs
// with the shift that lets the buffer be advertised, and the window fields
// of later segments scaled by it.
func TestWindowScaleOnWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{ha: HostConfig{ReceiveBuffer: 4 << 20}, hb: HostConfig{ReceiveBuffer: 32 << 10}})
		rec := &recorder{}
		p.lan.AddTap(rec)
		c, s := connect(t, p.a, p.b, "80")
		synctest.Wait()
		wantShift := map[string]int{"10.0.0.1": 7, "10.0.0.2": 0} // 4 MiB >> 7 = 32768; 32 KiB fits unscaled
		for _, pk := range rec.tcpPackets() {
			src := pk.ip.SrcIP.String()
			if pk.tcp.SYN {
				shift := -1
				for _, o := range pk.tcp.Options {
					if o.OptionType == 3 && len(o.OptionData) == 1 {
						shift = int(o.OptionData[0])
					}
				}
				if shift != wantShift[src] {
					t.Errorf("SYN from %s offers window scale %d, want %d", src, shift, wantShift[src])
				}
				continue
			}
			// After the handshake, the window field times 2^shift is the
			// free buffer: the whole buffer, as nothing is queued.
			free := map[string]int{"10.0.0.1": 4 << 20, "10.0.0.2": 32 << 10}[src]
			if got := int(pk.tcp.Window) << wantShift[src]; got != free {
				t.Errorf("%s advertises window %d (field %d), want %d", src, got, pk.tcp.Window, free)
			}
		}
		c.Close()
		s.Close()
	})
}

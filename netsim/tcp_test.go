package netsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/nettest"
)

// TestConnConformance runs the x/net/nettest suite that every net.Conn
// implementation should pass: basic and racy I/O, ping-pong, and past,
// present and future deadlines.
func TestConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		w := NewWorld(Config{Seed: 7})
		lan := w.NewSegment("lan", SegmentConfig{})
		a, _ := addHost(t, w, lan, "a", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.1/24")})
		b, _ := addHost(t, w, lan, "b", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.2/24")})
		c, s := connect(t, a, b, "80")
		return c, s, func() { c.Close(); s.Close(); w.Close() }, nil
	})
}

func TestDialErrors(t *testing.T) {
	dropSYNs := func(p *pair) {
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction { return dropIf(tcpToPort(f.Data, 80)) }))
	}
	tests := []struct {
		name    string
		setup   func(p *pair)
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		network string
		addr    string
		is      error // errors.Is target; nil skips the check
		timeout bool  // want net.Error with Timeout() true
		msg     string
		elapsed time.Duration // virtual time the dial takes
	}{{
		name: "closed port is refused",
		addr: "10.0.0.2:81", is: syscall.ECONNREFUSED,
		msg: "dial tcp 10.0.0.2:81: connect: connection refused",
	}, {
		name:  "port next to a listening one is refused",
		setup: func(p *pair) { p.b.Listen("tcp", ":80") },
		addr:  "10.0.0.2:81", is: syscall.ECONNREFUSED,
		msg: "dial tcp 10.0.0.2:81: connect: connection refused",
	}, {
		name: "no route",
		addr: "192.168.9.9:443", is: syscall.ENETUNREACH,
		msg: "dial tcp 192.168.9.9:443: connect: network is unreachable",
	}, {
		name:  "SYNs dropped, context deadline",
		setup: dropSYNs,
		ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 2500*time.Millisecond)
		},
		addr: "10.0.0.2:80", is: os.ErrDeadlineExceeded, timeout: true,
		msg:     "dial tcp 10.0.0.2:80: i/o timeout",
		elapsed: 2500 * time.Millisecond,
	}, {
		// SYN retries after 1, 2, 4, 8 and 16 s; the dial gives up 31 s in.
		name:  "SYNs dropped, retries exhausted",
		setup: dropSYNs,
		addr:  "10.0.0.2:80", is: syscall.ETIMEDOUT, timeout: true,
		msg:     "dial tcp 10.0.0.2:80: connect: connection timed out",
		elapsed: 31 * time.Second,
	}, {
		name: "nobody answers ARP",
		addr: "10.0.0.77:80", is: syscall.ETIMEDOUT, timeout: true,
		msg:     "dial tcp 10.0.0.77:80: connect: connection timed out",
		elapsed: 31 * time.Second,
	}, {
		name: "cancelled",
		ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(time.Second, cancel)
			return ctx, cancel
		},
		setup: dropSYNs,
		addr:  "10.0.0.2:80", is: context.Canceled,
		msg:     "dial tcp 10.0.0.2:80: context canceled",
		elapsed: time.Second,
	}, {
		name: "host name",
		addr: "server.test:80",
		msg:  "dial tcp: address server.test:80: netsim dials IPv4 addresses only (resolve names first)",
	}, {
		name: "IPv6",
		addr: "[2001:db8::1]:80",
		msg:  "dial tcp: address [2001:db8::1]:80: netsim dials IPv4 addresses only (resolve names first)",
	}, {
		name:    "unknown network",
		network: "sctp", addr: "10.0.0.2:80",
		msg: "dial sctp: unknown network sctp",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{})
				if tt.setup != nil {
					tt.setup(p)
				}
				ctx, cancel := context.WithCancel(t.Context())
				if tt.ctx != nil {
					ctx, cancel = tt.ctx(ctx)
				}
				defer cancel()
				network := tt.network
				if network == "" {
					network = "tcp"
				}
				start := time.Now()
				c, err := p.a.DialContext(ctx, network, tt.addr)
				if err == nil {
					c.Close()
					t.Fatal("dial succeeded")
				}
				if got := time.Since(start); got != tt.elapsed {
					t.Errorf("dial took %v of virtual time, want %v", got, tt.elapsed)
				}
				if err.Error() != tt.msg {
					t.Errorf("error %q, want %q", err, tt.msg)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
				}
				var ne net.Error
				if !errors.As(err, &ne) || ne.Timeout() != tt.timeout {
					t.Errorf("want net.Error with Timeout() = %v, got %#v", tt.timeout, err)
				}
				synctest.Wait()
				if n := connCount(p.a); n != 0 {
					t.Errorf("failed dial left %d connections on the dialer", n)
				}
			})
		})
	}
}

func dropIf(cond bool) HookAction {
	if cond {
		return Drop
	}
	return Pass
}

// connCount returns how many connections h still tracks.
func connCount(h *Host) int {
	h.tcp.mu.RLock()
	defer h.tcp.mu.RUnlock()
	return len(h.tcp.conns)
}

func TestConnAddrs(t *testing.T) {
	p := newPair(t, pairConfig{})
	c, s := connect(t, p.a, p.b, "443")
	la, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok || la.IP.String() != "10.0.0.1" || la.Port < ephemeralFirst {
		t.Errorf("client LocalAddr %v, want 10.0.0.1 with an ephemeral port", c.LocalAddr())
	}
	if got := c.RemoteAddr().String(); got != "10.0.0.2:443" {
		t.Errorf("client RemoteAddr %s", got)
	}
	if s.LocalAddr().String() != "10.0.0.2:443" || s.RemoteAddr().String() != c.LocalAddr().String() {
		t.Errorf("server addrs %v -> %v, client %v", s.LocalAddr(), s.RemoteAddr(), c.LocalAddr())
	}
}

func TestReadEOFAfterFIN(t *testing.T) {
	p := newPair(t, pairConfig{})
	c, s := connect(t, p.a, p.b, "80")
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	for range 2 { // EOF is sticky
		if n, err := s.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Fatalf("Read after FIN = %d, %v; want 0, io.EOF", n, err)
		}
	}
	s.Close()
}

func TestCloseWriteHalfClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		if _, err := c.Write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		// The server sees the request, then EOF.
		req, err := io.ReadAll(s)
		if err != nil || string(req) != "request" {
			t.Fatalf("server ReadAll = %q, %v", req, err)
		}
		// The other direction still works.
		if _, err := s.Write([]byte("response")); err != nil {
			t.Fatalf("server Write after peer's CloseWrite: %v", err)
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "response" {
			t.Fatalf("client Read = %q, %v", buf[:n], err)
		}
		// Writing on the closed half fails with EPIPE.
		_, err = c.Write([]byte("more"))
		want := fmt.Sprintf("write tcp %s->10.0.0.2:80: write: broken pipe", c.LocalAddr())
		if !errors.Is(err, syscall.EPIPE) || err.Error() != want {
			t.Errorf("Write after CloseWrite: %v, want %q", err, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("client Read after server Close = %d, %v", n, err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if connCount(p.a)+connCount(p.b) != 0 {
			t.Errorf("after both sides closed: %d + %d connections remain", connCount(p.a), connCount(p.b))
		}
	})
}

func TestResetOnCloseWithUnreadData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		rec := &recorder{}
		p.lan.AddTap(rec)
		c, s := connect(t, p.a, p.b, "80")
		if _, err := c.Write([]byte("0123456789")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(s, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil { // six bytes unread: RST, as Linux does
			t.Fatal(err)
		}
		synctest.Wait()
		_, err := c.Read(make([]byte, 16))
		want := fmt.Sprintf("read tcp %s->10.0.0.2:80: read: connection reset by peer", c.LocalAddr())
		if !errors.Is(err, syscall.ECONNRESET) || err.Error() != want {
			t.Errorf("Read after peer's abort: %v, want %q", err, want)
		}
		_, err = c.Write([]byte("x"))
		want = fmt.Sprintf("write tcp %s->10.0.0.2:80: write: connection reset by peer", c.LocalAddr())
		if !errors.Is(err, syscall.ECONNRESET) || err.Error() != want {
			t.Errorf("Write after peer's abort: %v, want %q", err, want)
		}
		var rsts, fins int
		for _, pk := range rec.tcpPackets() {
			if pk.tcp.RST {
				rsts++
			}
			if pk.tcp.FIN {
				fins++
			}
		}
		if rsts != 1 || fins != 0 {
			t.Errorf("saw %d RST and %d FIN on the wire, want 1 RST and no FIN", rsts, fins)
		}
		c.Close()
		synctest.Wait()
		if connCount(p.a)+connCount(p.b) != 0 {
			t.Errorf("connections remain after reset: %d + %d", connCount(p.a), connCount(p.b))
		}
	})
}

// TestAbort resets a connection with nothing unread, where Close would
// send FIN: one RST goes out, the peer's Read and Write fail with
// "connection reset by peer", and the aborted Conn is closed.
func TestAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		rec := &recorder{}
		p.lan.AddTap(rec)
		c, s := connect(t, p.a, p.b, "80")
		readErr := make(chan error)
		go func() {
			_, err := c.Read(make([]byte, 1))
			readErr <- err
		}()
		synctest.Wait()
		if err := c.Abort(); err != nil {
			t.Fatalf("Abort: %v", err)
		}
		if err := <-readErr; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Read after Abort: %v, want net.ErrClosed", err)
		}
		synctest.Wait()
		_, err := s.Read(make([]byte, 1))
		want := fmt.Sprintf("read tcp 10.0.0.2:80->%s: read: connection reset by peer", c.LocalAddr())
		if !errors.Is(err, syscall.ECONNRESET) || err.Error() != want {
			t.Errorf("peer Read after Abort: %v, want %q", err, want)
		}
		if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("peer Write after Abort: %v, want connection reset", err)
		}
		for _, tt := range []struct {
			op string
			f  func() error
		}{
			{"write", func() error { _, err := c.Write([]byte("x")); return err }},
			{"close", c.Abort},
			{"close", c.Close},
		} {
			err := tt.f()
			want := fmt.Sprintf("%s tcp %s->10.0.0.2:80: use of closed network connection", tt.op, c.LocalAddr())
			if !errors.Is(err, net.ErrClosed) || err.Error() != want {
				t.Errorf("%s after Abort: %v, want %q", tt.op, err, want)
			}
		}
		// The peer was reset: aborting its end sends nothing more.
		if err := s.Abort(); err != nil {
			t.Errorf("Abort of a reset connection: %v", err)
		}
		synctest.Wait()
		var rsts, fins int
		for _, pk := range rec.tcpPackets() {
			if pk.tcp.RST {
				rsts++
			}
			if pk.tcp.FIN {
				fins++
			}
		}
		if rsts != 1 || fins != 0 {
			t.Errorf("saw %d RST and %d FIN on the wire, want 1 RST and no FIN", rsts, fins)
		}
		if connCount(p.a)+connCount(p.b) != 0 {
			t.Errorf("connections remain after Abort: %d + %d", connCount(p.a), connCount(p.b))
		}
	})
}

func TestDataAfterCloseIsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		s.Close() // nothing unread: FIN
		synctest.Wait()
		if _, err := c.Write([]byte("late")); err != nil { // the peer only half-closed, as far as c knows
			t.Fatal(err)
		}
		synctest.Wait()
		if _, err := c.Read(make([]byte, 4)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("Read after writing to a closed socket: %v, want connection reset", err)
		}
		c.Close()
	})
}

func TestDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		isTimeout := func(t *testing.T, err error, op string) {
			t.Helper()
			var ne net.Error
			want := fmt.Sprintf("%s tcp %s->10.0.0.2:80: i/o timeout", op, c.LocalAddr())
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || err.Error() != want {
				t.Errorf("%s: got %v, want timeout %q", op, err, want)
			}
		}
		buf := make([]byte, 8)

		start := time.Now()
		c.SetReadDeadline(start.Add(50 * time.Millisecond))
		_, err := c.Read(buf)
		isTimeout(t, err, "read")
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("read timed out after %v, want 50ms", d)
		}

		// Clearing the deadline makes Read block for data again.
		c.SetReadDeadline(time.Time{})
		s.Write([]byte("x"))
		if n, err := c.Read(buf); n != 1 || err != nil {
			t.Fatalf("Read after clearing deadline = %d, %v", n, err)
		}

		// A deadline moved while Read is blocked applies to that Read.
		start = time.Now()
		c.SetReadDeadline(start.Add(50 * time.Millisecond))
		time.AfterFunc(20*time.Millisecond, func() { c.SetReadDeadline(start.Add(120 * time.Millisecond)) })
		_, err = c.Read(buf)
		isTimeout(t, err, "read")
		if d := time.Since(start); d != 120*time.Millisecond {
			t.Errorf("extended read timed out after %v, want 120ms", d)
		}

		// A deadline in the past fails Read even with data queued, and
		// Write even with the window open.
		s.Write([]byte("y"))
		synctest.Wait()
		c.SetDeadline(time.Now().Add(-time.Second))
		_, err = c.Read(buf)
		isTimeout(t, err, "read")
		n, err := c.Write([]byte("z"))
		isTimeout(t, err, "write")
		if n != 0 {
			t.Errorf("Write past deadline wrote %d bytes", n)
		}
		c.SetDeadline(time.Time{})
		if n, err := c.Read(buf); n != 1 || buf[0] != 'y' || err != nil {
			t.Errorf("queued byte lost across the timeout: %q, %v", buf[:n], err)
		}

		// A deadline set from another goroutine wakes a blocked Read.
		time.AfterFunc(time.Second, func() { c.SetReadDeadline(time.Unix(1, 0)) })
		_, err = c.Read(buf)
		isTimeout(t, err, "read")
		c.Close()
		s.Close()
	})
}

func TestCloseSemantics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		readErr := make(chan error)
		go func() {
			_, err := c.Read(make([]byte, 1))
			readErr <- err
		}()
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-readErr; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Read after Close: %v, want net.ErrClosed", err)
		}
		for _, tt := range []struct {
			op string
			f  func() error
		}{
			{"read", func() error { _, err := c.Read(make([]byte, 1)); return err }},
			{"write", func() error { _, err := c.Write([]byte("x")); return err }},
			{"close", c.Close},
			{"close", c.CloseWrite},
			{"close", c.CloseRead},
		} {
			err := tt.f()
			want := fmt.Sprintf("%s tcp %s->10.0.0.2:80: use of closed network connection", tt.op, c.LocalAddr())
			if !errors.Is(err, net.ErrClosed) || err.Error() != want {
				t.Errorf("%s after Close: %v, want %q", tt.op, err, want)
			}
		}
		// The peer sees a clean EOF.
		if _, err := s.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer Read: %v, want io.EOF", err)
		}
		s.Close()

		// Close also wakes a Write blocked on the peer's full window.
		c2, s2 := connect(t, p.a, p.b, "81")
		writeErr := make(chan error)
		go func() {
			_, err := c2.Write(make([]byte, 4*defaultReceiveBuffer))
			writeErr <- err
		}()
		synctest.Wait()
		c2.Close()
		if err := <-writeErr; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Write after Close: %v, want net.ErrClosed", err)
		}
		s2.Close()
	})
}

func TestCloseReadDiscards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, s := connect(t, p.a, p.b, "80")
		s.Write([]byte("before"))
		synctest.Wait()
		if err := c.CloseRead(); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Errorf("Read after CloseRead = %d, %v; want 0, io.EOF", n, err)
		}
		s.Write([]byte("after")) // acknowledged and dropped
		synctest.Wait()
		if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Errorf("Read after CloseRead and more data = %d, %v", n, err)
		}
		// Writing still works.
		c.Write([]byte("ok"))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ok" {
			t.Errorf("peer read %q, %v", buf, err)
		}
		c.Close()
		s.Close()
	})
}

// TestBidirectionalTransfer moves data both ways over several connections
// at once and checks every byte with SHA-256.
func TestBidirectionalTransfer(t *testing.T) {
	const conns, size = 4, 1 << 20
	p := newPair(t, pairConfig{})
	l, err := p.b.Listen("tcp", ":9000")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	// The server echoes a SHA-256 of what it read after sending its own
	// stream, so each side checks what it received.
	wg.Go(func() {
		for range conns {
			s, err := l.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			wg.Go(func() { transferSide(t, s, 2, size) })
		}
	})
	for i := range conns {
		wg.Go(func() {
			c, err := p.a.Dial("tcp", "10.0.0.2:9000")
			if err != nil {
				t.Error(err)
				return
			}
			transferSide(t, c, 1, size+i*1000+7) // odd sizes: the last segment is short
		})
	}
	wg.Wait()
}

// transferSide writes n bytes seeded by seed then half-closes, while reading
// everything the peer sends; it checks the peer's bytes against a digest
// that follows them on the wire. Both sides run it.
func transferSide(t *testing.T, c net.Conn, seed uint64, n int) {
	defer c.Close()
	data := payload(seed, n)
	writeErr := make(chan error, 1)
	go func() {
		sum := sha256sum(data)
		_, err := c.Write(append(data, sum[:]...))
		if err == nil {
			err = c.(*Conn).CloseWrite()
		}
		writeErr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Errorf("read: %v", err)
		return
	}
	if err := <-writeErr; err != nil {
		t.Errorf("write: %v", err)
	}
	if len(got) < 32 {
		t.Errorf("received only %d bytes", len(got))
		return
	}
	body, sum := got[:len(got)-32], got[len(got)-32:]
	if want := sha256sum(body); !bytes.Equal(sum, want[:]) {
		t.Errorf("received %d bytes whose SHA-256 does not match the sender's", len(body))
	}
}

func TestListenErrors(t *testing.T) {
	p := newPair(t, pairConfig{})
	l, err := p.b.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		network, addr string
		is            error
		msg           string
	}{
		{"tcp", ":80", syscall.EADDRINUSE, "listen tcp :80: bind: address already in use"},
		{"tcp", "10.0.0.1:80", syscall.EADDRNOTAVAIL, "listen tcp 10.0.0.1:80: bind: cannot assign requested address"},
		{"udp", ":80", nil, "listen udp: unknown network udp"},
	}
	for _, tt := range tests {
		_, err := p.b.Listen(tt.network, tt.addr)
		if err == nil || err.Error() != tt.msg || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("Listen(%s, %s) = %v, want %q", tt.network, tt.addr, err, tt.msg)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	// The port is free again.
	l2, err := p.b.Listen("tcp", "10.0.0.2:80")
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	l2.Close()
	// Port 0 picks an ephemeral port.
	l3, err := p.b.Listen("tcp", ":0")
	if err != nil || l3.Addr().(*net.TCPAddr).Port < ephemeralFirst {
		t.Fatalf("Listen :0 = %v, %v", l3, err)
	}
	l3.Close()
}

func TestListenerCloseResetsUnaccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		l, _ := p.b.Listen("tcp", ":80")
		c, err := p.a.Dial("tcp", "10.0.0.2:80")
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the handshake's last ACK reaches the listener
		l.Close()
		synctest.Wait()
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("Read on a connection its listener dropped: %v", err)
		}
		c.Close()
		if connCount(p.b) != 0 {
			t.Errorf("listener host keeps %d connections", connCount(p.b))
		}
	})
}

// TestListenerSurvivesResetHandshakes resets more half-open handshakes than
// the backlog holds; each must give its backlog slot back.
func TestListenerSurvivesResetHandshakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{hb: HostConfig{ListenBacklog: testBacklog}})
		l, _ := p.b.Listen("tcp", ":80")
		defer l.Close()
		spoofMAC := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
		spoofIP := mustAddr("10.0.0.99")
		p.b.SetStaticARP(spoofIP, spoofMAC)
		// Answer every SYN-ACK to the spoofed client with a RST, as a host
		// that never sent the SYN would.
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			pk := decodeTCP(f.Data)
			if pk == nil || !pk.tcp.SYN || !pk.tcp.ACK || pk.ip.DstIP.String() != spoofIP.String() {
				return Pass
			}
			p.lan.Inject(tcpFrame(t, spoofMAC, p.nb.MAC(), pk.ip.DstIP, pk.ip.SrcIP,
				&layers.TCP{SrcPort: pk.tcp.DstPort, DstPort: pk.tcp.SrcPort, Seq: pk.tcp.Ack, RST: true}, nil))
			return Drop
		}))
		for i := range testBacklog + 10 {
			p.lan.Inject(tcpFrame(t, spoofMAC, p.nb.MAC(), spoofIP.AsSlice(), p.nb.Addr().AsSlice(),
				&layers.TCP{SrcPort: layers.TCPPort(20000 + i), DstPort: 80, Seq: uint32(i * 1000), SYN: true, Window: 1000}, nil))
			synctest.Wait()
		}
		if n := connCount(p.b); n != 0 {
			t.Errorf("%d reset handshakes still tracked", n)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		c, err := p.a.DialContext(ctx, "tcp", "10.0.0.2:80")
		if err != nil {
			t.Fatalf("dial after %d reset handshakes: %v", testBacklog+10, err)
		}
		c.Close()
	})
}

func TestDialOwnAddress(t *testing.T) {
	p := newPair(t, pairConfig{})
	c, s := connect(t, p.a, p.a, "80")
	go func() { io.Copy(s, s); s.Close() }()
	msg := payload(3, 100000)
	go func() { c.Write(msg); c.CloseWrite() }()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo over own address: %d bytes, %v", len(got), err)
	}
	c.Close()
}

func TestEphemeralPortsAreReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		l, _ := p.b.Listen("tcp", ":80")
		defer l.Close()
		go func() {
			for {
				s, err := l.Accept()
				if err != nil {
					return
				}
				s.Close()
			}
		}()
		for range 50 {
			c, err := p.a.Dial("tcp", "10.0.0.2:80")
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(c)
			c.Close()
		}
		synctest.Wait()
		p.a.tcp.mu.RLock()
		ports := len(p.a.tcp.ports)
		p.a.tcp.mu.RUnlock()
		if ports != 0 || connCount(p.a) != 0 || connCount(p.b) != 0 {
			t.Errorf("after 50 closed connections: %d ports, %d + %d connections in use", ports, connCount(p.a), connCount(p.b))
		}
	})
}

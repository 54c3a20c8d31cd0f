package netsim

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestHostDownUp: a host that is down neither sends nor receives and loses
// its connections; back up, it answers a stale connection's segment with
// RST, and works again.
func TestHostDownUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := impairPair(t, 1)
		c, s := connect(t, p.a, p.b, "80")
		pb, _ := p.b.ListenPacket("udp", ":9")
		defer pb.Close()
		ua, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer ua.Close()
		var atB atomic.Int64 // frames b's NIC sent or processed
		p.nb.AddTap(TapFunc(func(time.Time, []byte) { atB.Add(1) }))

		p.b.Down()
		if !p.b.IsDown() {
			t.Fatal("IsDown false after Down")
		}
		buf := make([]byte, 16)
		if _, err := s.Read(buf); !errors.Is(err, syscall.ECONNABORTED) {
			t.Errorf("Read on the down host: %v, want ECONNABORTED", err)
		}
		if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.ECONNABORTED) {
			t.Errorf("Write on the down host: %v, want ECONNABORTED", err)
		}
		c.Write([]byte("into the void"))
		ua.Write([]byte("dgram"))
		time.Sleep(time.Second)
		if n := atB.Load(); n != 0 {
			t.Errorf("the down host sent or received %d frames", n)
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(buf); !isTimeout(err) {
			t.Errorf("peer's Read while the host is down: %v, want a timeout (nothing tells it)", err)
		}
		pb.SetReadDeadline(time.Now())
		if _, _, err := pb.ReadFrom(buf); !isTimeout(err) {
			t.Errorf("a datagram reached the down host: %v", err)
		}

		p.b.Up()
		if p.b.IsDown() {
			t.Fatal("IsDown true after Up")
		}
		c.SetReadDeadline(time.Time{})
		c.Write([]byte("hello?"))
		if _, err := c.Read(buf); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("peer's Read after the host came back: %v, want ECONNRESET", err)
		}
		if n := atB.Load(); n != 2 { // the segment and the RST
			t.Errorf("the host saw %d frames after Up, want 2", n)
		}
		c2, s2 := connect(t, p.a, p.b, "81")
		c2.Write([]byte("again"))
		if n, err := s2.Read(buf); err != nil || string(buf[:n]) != "again" {
			t.Errorf("new connection after Up: %q, %v", buf[:n], err)
		}
		ua.Write([]byte("dgram"))
		pb.SetReadDeadline(time.Time{})
		if n, _, err := pb.ReadFrom(buf); err != nil || string(buf[:n]) != "dgram" {
			t.Errorf("datagram after Up: %q, %v", buf[:n], err)
		}
		c.Close()
		c2.Close()
		s2.Close()
	})
}

// TestHostDownHalfOpen: a half-open connection lost in a crash gives its
// listener's backlog slot back, and a Dial waiting on a host that goes down
// fails.
func TestHostDownHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{hb: HostConfig{ListenBacklog: 1}})
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		p.b.SetStaticARP(p.a.Addr(), p.na.MAC())
		l, err := p.b.Listen("tcp", ":80")
		must(t, err)
		defer l.Close()
		p.na.rx.set(Impairment{Partition: true}, false) // b's SYN-ACKs never reach a
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		if _, err := p.a.DialContext(ctx, "tcp", "10.0.0.2:80"); err == nil {
			t.Fatal("Dial succeeded without a SYN-ACK")
		}
		cancel()
		p.b.Down() // loses the half-open connection, filling the backlog
		p.b.Up()
		must(t, p.na.SetImpairment(Impairment{}))
		c, err := p.a.Dial("tcp", "10.0.0.2:80")
		if err != nil {
			t.Fatalf("Dial after the crash: %v (backlog slot not given back?)", err)
		}
		c.Close()

		dialErr := make(chan error, 1)
		must(t, p.nb.SetImpairment(Impairment{Partition: true}))
		go func() {
			_, err := p.b.Dial("tcp", "10.0.0.1:80")
			dialErr <- err
		}()
		time.Sleep(100 * time.Millisecond)
		p.b.Down()
		if err := <-dialErr; !errors.Is(err, syscall.ECONNABORTED) {
			t.Errorf("Dial on a host that went down: %v, want ECONNABORTED", err)
		}
		p.b.Up()
	})
}

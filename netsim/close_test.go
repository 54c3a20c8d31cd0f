package netsim

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

// blockedOps starts one blocked call of every kind on p and returns
// functions that wait for their errors, by name.
func blockedOps(t *testing.T, p *pair) map[string]func() error {
	t.Helper()
	c, s := connect(t, p.a, p.b, "80")
	wc, _ := connect(t, p.a, p.b, "81") // its peer never reads
	l, err := p.b.Listen("tcp", ":82")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := p.b.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	uc, err := p.a.DialContext(t.Context(), "udp", "10.0.0.2:53")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 4*p.b.cfg.ReceiveBuffer)
	ops := map[string]func() error{
		"Read":           func() error { _, err := c.Read(make([]byte, 1)); return err },
		"Read (peer)":    func() error { _, err := s.Read(make([]byte, 1)); return err },
		"Write":          func() error { _, err := wc.Write(big); return err },
		"Accept":         func() error { _, err := l.Accept(); return err },
		"Dial":           func() error { _, err := p.a.DialContext(context.Background(), "tcp", "10.0.0.99:80"); return err },
		"ReadFrom":       func() error { _, _, err := pc.ReadFrom(make([]byte, 1)); return err },
		"Read connected": func() error { _, err := uc.Read(make([]byte, 1)); return err },
	}
	waits := map[string]func() error{}
	for name, op := range ops {
		errc := make(chan error, 1)
		go func() { errc <- op() }()
		waits[name] = func() error { return <-errc }
	}
	return waits
}

// TestWorldCloseUnblocks closes a World under every kind of blocked call:
// each returns an error that is net.ErrClosed, and nothing the World
// started keeps running (synctest would report a goroutine left blocked in
// the bubble, goleak one outside it).
func TestWorldCloseUnblocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{hb: HostConfig{ReceiveBuffer: 16 << 10}})
		waits := blockedOps(t, p)
		synctest.Wait() // everything is blocked
		if err := p.w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for name, wait := range waits {
			err := wait()
			if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrWorldClosed) {
				t.Errorf("%s across World.Close: %v, want ErrWorldClosed (net.ErrClosed)", name, err)
			}
		}
		select {
		case <-p.w.Done():
		default:
			t.Error("Done not closed")
		}
		if err := p.w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// Calls made after Close fail the same way instead of blocking.
		if _, err := p.a.Dial("tcp", "10.0.0.2:80"); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Dial after Close: %v", err)
		}
		l, err := p.b.Listen("tcp", ":9")
		if err == nil {
			if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept after Close: %v", err)
			}
		}
		pc, err := p.b.ListenPacket("udp", ":9")
		if err == nil {
			if _, _, err := pc.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("ReadFrom after Close: %v", err)
			}
		}
	})
}

// TestWorldCloseLeavesNoGoroutines does the same on the real clock and
// checks with goleak that every goroutine the World started is gone when
// Close returns.
func TestWorldCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newPair(t, pairConfig{hb: HostConfig{ReceiveBuffer: 16 << 10}})
	waits := blockedOps(t, p)
	p.w.Close()
	for name, wait := range waits {
		if err := wait(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s across World.Close: %v", name, err)
		}
	}
}

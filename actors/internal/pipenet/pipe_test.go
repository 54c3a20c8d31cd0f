package pipenet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/internal/pipenet"
)

func TestPipe(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, a, b net.Conn)
	}{
		{"bytes arrive in order without the peer reading", func(t *testing.T, a, b net.Conn) {
			mustWrite(t, a, "hello ")
			mustWrite(t, a, "world")
			a.Close()
			if got, err := io.ReadAll(b); err != nil || string(got) != "hello world" {
				t.Fatalf("ReadAll = %q, %v", got, err)
			}
		}},
		{"both ends write at once", func(t *testing.T, a, b net.Conn) {
			mustWrite(t, a, "ping")
			mustWrite(t, b, "pong")
			expectRead(t, a, "pong")
			expectRead(t, b, "ping")
		}},
		{"write after peer close fails", func(t *testing.T, a, b net.Conn) {
			b.Close()
			if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("Write = %v, want io.ErrClosedPipe", err)
			}
		}},
		{"read after own close fails", func(t *testing.T, a, b net.Conn) {
			a.Close()
			if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Read = %v, want net.ErrClosed", err)
			}
		}},
		{"past deadline fails at once", func(t *testing.T, a, b net.Conn) {
			a.SetDeadline(time.Now().Add(-time.Second))
			if _, err := a.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Write = %v, want deadline exceeded", err)
			}
		}},
		{"addresses", func(t *testing.T, a, b net.Conn) {
			if a.LocalAddr().String() != "a" || a.RemoteAddr().String() != "b" || b.RemoteAddr().Network() != "pipe" {
				t.Fatalf("a: %v -> %v", a.LocalAddr(), a.RemoteAddr())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pipenet.Pipe("a", "b")
			defer a.Close()
			defer b.Close()
			tt.run(t, a, b)
		})
	}
}

func TestPipeReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipenet.Pipe("a", "b")
		defer a.Close()
		defer b.Close()
		a.SetReadDeadline(time.Now().Add(time.Second))
		start := time.Now()
		_, err := a.Read(make([]byte, 1))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read = %v, want a timeout", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("timed out after %v (simulated), want 1s", d)
		}
		a.SetReadDeadline(time.Time{})
		mustWrite(t, b, "x")
		expectRead(t, a, "x")
	})
}

func TestListener(t *testing.T) {
	ln := pipenet.Listen("server")
	ctx := t.Context()
	done := make(chan net.Conn)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	client, err := ln.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	server := <-done
	if server.RemoteAddr().String() != "client-1" || client.RemoteAddr().String() != "server" {
		t.Errorf("server sees %v, client sees %v", server.RemoteAddr(), client.RemoteAddr())
	}
	client.Close()
	server.Close()
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v", err)
	}
	if _, err := ln.Dial(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := pipenet.Listen("x").Dial(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with canceled ctx = %v", err)
	}
}

func mustWrite(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func expectRead(t *testing.T, c net.Conn, want string) {
	t.Helper()
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("read %q, %v; want %q", buf, err, want)
	}
}

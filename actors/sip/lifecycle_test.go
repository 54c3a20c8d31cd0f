package sip_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/sip"
)

// TestServe: Serve returns nil after Close and the context's cause when
// its context ends; a closed server cannot start again.
func TestServe(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		tp := newTopo(t)
		fe, err := sip.NewFrontEnd(tp.fe01)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- fe.Serve(context.Background()) }()
		eventually(t, "fe01 serves", func() error {
			_, err := newClient(t, tp.client).SendMessage(t.Context(), "dave@contoso.com", canary)
			return err
		})
		if err := fe.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve after Close: %v, want nil", err)
		}
		if err := fe.Start(t.Context()); !errors.Is(err, sip.ErrServerClosed) {
			t.Errorf("Start after Close: %v, want ErrServerClosed", err)
		}
		if err := fe.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		tp := newTopo(t)
		fe, err := sip.NewFrontEnd(tp.fe01)
		if err != nil {
			t.Fatal(err)
		}
		defer fe.Close()
		cause := errors.New("scenario over")
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		go func() { done <- fe.Serve(ctx) }()
		eventually(t, "fe01 serves", func() error {
			_, err := newClient(t, tp.client).SendMessage(t.Context(), "dave@contoso.com", canary)
			return err
		})
		cancel(cause)
		if err := <-done; err != cause {
			t.Errorf("Serve: %v, want the context's cause", err)
		}
	})
	t.Run("never started", func(t *testing.T) {
		tp := newTopo(t)
		e, err := sip.NewEdge(tp.edge)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := e.Serve(t.Context()); !errors.Is(err, sip.ErrServerClosed) {
			t.Errorf("Serve after Close: %v, want ErrServerClosed", err)
		}
	})
}

func TestStartErrors(t *testing.T) {
	tp := newTopo(t)
	fe := startFrontEnd(t, tp.fe01)
	if err := fe.Start(t.Context()); err == nil || err.Error() != "sip: fe01: start: already started" {
		t.Errorf("second Start: %v", err)
	}
	again, err := sip.NewFrontEnd(tp.fe01)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	err = again.Start(t.Context())
	const want = "sip: fe01: listen 10.0.0.11:5061: listen tcp 10.0.0.11:5061: bind: address already in use"
	if err == nil || err.Error() != want {
		t.Errorf("Start on taken ports: %v, want %s", err, want)
	}
	// The first server is unaffected.
	if _, err := newClient(t, tp.client).SendMessage(t.Context(), "dave@contoso.com", canary); err != nil {
		t.Errorf("after the failed Start: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tp := newTopo(t)
	tests := []struct {
		name string
		new  func() error
		want string
	}{
		{"FrontEnd FQDN", func() error {
			cfg := tp.fe01
			cfg.FQDN = ""
			_, err := sip.NewFrontEnd(cfg)
			return err
		}, "sip: FrontEndConfig.FQDN: empty; name the server, e.g. fe01.contoso.com"},
		{"FrontEnd trusted servers", func() error {
			cfg := tp.fe01
			cfg.TrustedServers = nil
			_, err := sip.NewFrontEnd(cfg)
			return err
		}, "sip: FrontEndConfig.TrustedServers: empty; list the topology's servers, or set SkipTrustedServerCheck"},
		{"FrontEnd Edge not a peer", func() error {
			cfg := tp.fe01
			cfg.Edge = "edge99.contoso.com"
			_, err := sip.NewFrontEnd(cfg)
			return err
		}, "sip: FrontEndConfig.Edge: edge99.contoso.com is not a key of Peers; give its internal MTLS address"},
		{"Edge partners", func() error {
			cfg := tp.edge
			cfg.Partners = nil
			_, err := sip.NewEdge(cfg)
			return err
		}, "sip: EdgeConfig.Partners: empty; list the partner domains, or set AllowAnyPartner"},
		{"Client user", func() error {
			cfg := tp.client
			cfg.User = "alice"
			_, err := sip.NewClient(cfg)
			return err
		}, `sip: ClientConfig.User: "sip:alice" is not a SIP address: want user@domain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.new()
			var ce *sip.ConfigError
			if !errors.As(err, &ce) || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// TestCloseDuringRelay: Close returns while a relay waits on a next hop
// that never answers, and the waiting client gets an error.
func TestCloseDuringRelay(t *testing.T) {
	tp := newTopo(t)
	// fe02's MTLS port is a black hole: it accepts and never speaks.
	hole, err := tp.fe02H.Listen("tcp", fe02IP+":5062")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := hole.Accept(); err == nil {
			accepted <- c
		}
	}()
	fe01 := startFrontEnd(t, tp.fe01)
	done := make(chan error, 1)
	go func() {
		_, err := newClient(t, tp.client).SendMessage(t.Context(), "bob@contoso.com", canary)
		done <- err
	}()
	var c net.Conn
	select {
	case c = <-accepted:
		defer c.Close()
	case <-time.After(testTimeout):
		t.Fatal("fe01 never dialled fe02")
	}
	if err := fe01.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; err == nil {
		t.Error("SendMessage succeeded through a closed server")
	}
}

// TestInboundProblems: what reaches a listener and is not SIP over the
// right transport is refused and recorded; an idle connection is closed
// quietly.
func TestInboundProblems(t *testing.T) {
	tp := newTopo(t)
	tp.fe01.PlainAddr = fe01IP + ":5060"
	tp.fe01.Timeout = 200 * time.Millisecond
	fe := startFrontEnd(t, tp.fe01)
	dial := func(port string) net.Conn {
		c, err := tp.alice.DialContext(t.Context(), "tcp", fe01IP+":"+port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// Idle: closed by the server after its timeout, without a record.
	idle := dial("5060")
	if n, err := io.Copy(io.Discard, idle); n != 0 || err != nil {
		t.Errorf("idle connection: read %d bytes, %v; want EOF", n, err)
	}

	// Plaintext SIP to the TLS port.
	c := dial("5061")
	io.WriteString(c, "OPTIONS sip:fe01.contoso.com SIP/2.0\r\n\r\n")
	eventually(t, "plaintext on the TLS port", func() error {
		return equalReasons(fe.Rejections(), "fe01: tls: first record does not look like a TLS handshake")
	})

	// Garbage to the plaintext port.
	c = dial("5060")
	io.WriteString(c, "HELLO\r\n\r\n")
	eventually(t, "garbage on the plaintext port", func() error {
		rs := fe.Rejections()
		if len(rs) != 2 || rs[1].Stage != sip.StageRequest || !strings.HasPrefix(rs[1].Reason, "fe01: malformed SIP message: ") {
			return errors.New("no malformed-message rejection yet")
		}
		return nil
	})
}

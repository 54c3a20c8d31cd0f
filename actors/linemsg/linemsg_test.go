package linemsg_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/internal/pipenet"
	"github.com/tlslab/tlslab/actors/linemsg"
)

const canary = "canary-7f3a9c"

// errCheck inspects an error; checks compose with all.
type errCheck func(t *testing.T, err error)

func all(checks ...errCheck) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		for _, c := range checks {
			c(t, err)
		}
	}
}

func noError() errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("error = %v, want none", err)
		}
	}
}

func message(want string) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err == nil || err.Error() != want {
			t.Errorf("error = %v\nwant    %s", err, want)
		}
	}
}

func messagePrefix(want string) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %v\nwant prefix %s", err, want)
		}
	}
}

// as checks that errors.As finds an E in the chain.
func as[E any]() errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var target E
		if !errors.As(err, &target) {
			t.Errorf("error %v (%T) holds no %T", err, err, target)
		}
	}
}

func is(target error) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("error %v is not %v", err, target)
		}
	}
}

func timeout() errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("error %v is not a timeout", err)
		}
	}
}

// serverErrs checks the server's recorded errors, one check per error.
func serverErrs(t *testing.T, got []error, want ...errCheck) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("server recorded %d errors %v, want %d", len(got), got, len(want))
	}
	for i, check := range want {
		check(t, got[i])
	}
}

func TestSend(t *testing.T) {
	p := newTestPKI(t)
	now := epoch.Add(time.Hour)
	tests := []struct {
		name       string
		server     linemsg.ServerConfig
		client     linemsg.ClientConfig
		sendErr    errCheck
		received   []string
		serverErrs []errCheck
	}{
		{
			name:     "plaintext",
			sendErr:  noError(),
			received: []string{canary},
		},
		{
			name:     "tls",
			server:   linemsg.ServerConfig{TLS: serverTLS(p.cert, now)},
			client:   linemsg.ClientConfig{TLS: clientTLS(p.ca, serverName, now)},
			sendErr:  noError(),
			received: []string{canary},
		},
		{
			name:   "tls hostname mismatch",
			server: linemsg.ServerConfig{TLS: serverTLS(p.cert, now)},
			client: linemsg.ClientConfig{TLS: clientTLS(p.ca, "evil.example", now)},
			sendErr: all(
				message("linemsg: handshake server: tls: failed to verify certificate: x509: certificate is valid for pool01.contoso.com, not evil.example"),
				as[*tls.CertificateVerificationError](), as[x509.HostnameError](), as[*linemsg.OpError]()),
			serverErrs: []errCheck{all(message("linemsg: handshake client-1: remote error: tls: bad certificate"), as[*net.OpError]())},
		},
		{
			name:   "tls unknown authority",
			server: linemsg.ServerConfig{TLS: serverTLS(p.cert, now)},
			client: linemsg.ClientConfig{TLS: clientTLS(p.rogue, serverName, now)},
			sendErr: all(
				message("linemsg: handshake server: tls: failed to verify certificate: x509: certificate signed by unknown authority"),
				as[x509.UnknownAuthorityError]()),
			serverErrs: []errCheck{message("linemsg: handshake client-1: remote error: tls: bad certificate")},
		},
		{
			name:   "tls expired",
			server: linemsg.ServerConfig{TLS: serverTLS(p.cert, now)},
			client: linemsg.ClientConfig{TLS: clientTLS(p.ca, serverName, epoch.AddDate(2, 0, 0))},
			sendErr: all(
				messagePrefix("linemsg: handshake server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2028-03-01T12:00:00Z is after 2027-03-01T12:00:00Z"),
				as[x509.CertificateInvalidError]()),
			serverErrs: []errCheck{message("linemsg: handshake client-1: remote error: tls: bad certificate")},
		},
		{
			name:       "plaintext client, tls server",
			server:     linemsg.ServerConfig{TLS: serverTLS(p.cert, now)},
			sendErr:    all(message("linemsg: read server: EOF"), is(io.EOF)),
			serverErrs: []errCheck{all(message("linemsg: handshake client-1: tls: first record does not look like a TLS handshake"), as[tls.RecordHeaderError]())},
		},
		{
			name:     "empty body",
			sendErr:  noError(),
			received: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				body := canary
				if tt.received != nil {
					body = tt.received[0]
				}
				f := startServer(t, tt.server)
				err := linemsg.NewClient(tt.client).Send(t.Context(), f.dial(t), body)
				tt.sendErr(t, err)
				if err := f.Close(); err != nil {
					t.Errorf("Serve = %v, want nil after the listener closed", err)
				}
				if got := f.srv.Received(); !slices.Equal(got, tt.received) {
					t.Errorf("Received = %q, want %q", got, tt.received)
				}
				serverErrs(t, f.srv.Errors(), tt.serverErrs...)
			})
		})
	}
}

func TestSendRefusesNewline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startServer(t, linemsg.ServerConfig{})
		conn := f.dial(t)
		err := linemsg.NewClient(linemsg.ClientConfig{}).Send(t.Context(), conn, "a\nMSG b")
		all(message("linemsg: send server: body contains a newline"), as[*linemsg.OpError]())(t, err)
		f.Close()
		if got := f.srv.Received(); len(got) != 0 {
			t.Errorf("Received = %q, want nothing", got)
		}
		// The conn was closed without a word: the server saw EOF.
		serverErrs(t, f.srv.Errors(), all(message("linemsg: read client-1: EOF"), is(io.EOF)))
	})
}

func TestSendAgainstPeers(t *testing.T) {
	tests := []struct {
		name   string
		cfg    linemsg.ClientConfig
		peer   func(conn net.Conn)
		check  errCheck
		waited time.Duration // simulated time Send took
	}{
		{
			name:  "server rejects",
			peer:  func(c net.Conn) { readLineFrom(c); io.WriteString(c, "ERR busy\n") },
			check: all(message("linemsg: read server: server rejected message: busy"), as[*linemsg.RejectedError]()),
		},
		{
			name:  "server answers nonsense",
			peer:  func(c net.Conn) { readLineFrom(c); io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n") },
			check: all(message(`linemsg: read server: unexpected line "HTTP/1.1 400 Bad Request\r", want "OK" or "ERR <reason>"`), as[*linemsg.ProtocolError]()),
		},
		{
			name:  "server hangs up mid-line",
			peer:  func(c net.Conn) { readLineFrom(c); io.WriteString(c, "O") },
			check: all(message("linemsg: read server: unexpected EOF"), is(io.ErrUnexpectedEOF)),
		},
		{
			name:   "server never answers",
			cfg:    linemsg.ClientConfig{Timeout: 3 * time.Second},
			peer:   func(c net.Conn) { readLineFrom(c); readLineFrom(c) },
			check:  all(timeout(), as[*linemsg.OpError]()),
			waited: 3 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, server := pipePair()
				go func() {
					defer server.Close()
					tt.peer(server)
				}()
				start := time.Now()
				err := linemsg.NewClient(tt.cfg).Send(t.Context(), client, canary)
				tt.check(t, err)
				if d := time.Since(start); d != tt.waited {
					t.Errorf("Send took %v of simulated time, want %v", d, tt.waited)
				}
				synctest.Wait()
			})
		})
	}
}

func TestSendContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := pipePair()
		defer server.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err := linemsg.NewClient(linemsg.ClientConfig{}).Send(ctx, client, canary)
		all(message("linemsg: read server: context deadline exceeded"), is(context.DeadlineExceeded), timeout())(t, err)
		if d := time.Since(start); d != time.Second {
			t.Errorf("Send took %v of simulated time, want 1s", d)
		}
	})
}

func TestServerRejectsMalformed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startServer(t, linemsg.ServerConfig{})
		conn := f.dial(t)
		io.WriteString(conn, "HELLO\n")
		if got := readLineFrom(conn); got != "ERR malformed request" {
			t.Errorf("reply = %q", got)
		}
		conn.Close()
		f.Close()
		serverErrs(t, f.srv.Errors(), all(message(`linemsg: read client-1: unexpected line "HELLO", want "MSG <body>"`), as[*linemsg.ProtocolError]()))
	})
}

func TestServerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startServer(t, linemsg.ServerConfig{Timeout: 5 * time.Second})
		conn := f.dial(t)
		defer conn.Close()
		start := time.Now()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Serve drained after %v of simulated time, want 5s", d)
		}
		serverErrs(t, f.srv.Errors(), all(timeout(), messagePrefix("linemsg: read client-1: read pipe server->client-1: i/o timeout")))
	})
}

func TestServeCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startServer(t, linemsg.ServerConfig{})
		conn := f.dial(t) // idle: only cancellation ends it before the timeout
		defer conn.Close()
		synctest.Wait()
		start := time.Now()
		if err := f.Cancel(); !errors.Is(err, context.Canceled) {
			t.Errorf("Serve = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Serve returned after %v of simulated time, want at once", d)
		}
		serverErrs(t, f.srv.Errors(), all(message("linemsg: read client-1: context canceled"), is(context.Canceled)))
		if _, err := f.ln.Dial(t.Context()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Dial after Serve = %v, want the listener closed", err)
		}
	})
}

func TestServeConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newTestPKI(t)
		now := epoch.Add(time.Hour)
		f := startServer(t, linemsg.ServerConfig{TLS: serverTLS(p.cert, now)})
		client := linemsg.NewClient(linemsg.ClientConfig{TLS: clientTLS(p.ca, serverName, now)})
		var want []string
		var wg sync.WaitGroup
		for i := range 16 {
			body := fmt.Sprintf("%s-%02d", canary, i)
			want = append(want, body)
			conn := f.dial(t)
			wg.Go(func() {
				if err := client.Send(t.Context(), conn, body); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		f.Close()
		got := f.srv.Received()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("Received = %q\nwant %q", got, want)
		}
		serverErrs(t, f.srv.Errors())
	})
}

// pipePair returns a client conn whose peer is named "server".
func pipePair() (client, server net.Conn) {
	return pipenet.Pipe("client-1", "server")
}

// readLineFrom reads up to and excluding a newline, byte by byte so nothing
// after it is consumed; it returns what it has on error.
func readLineFrom(c net.Conn) string {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		if _, err := c.Read(buf); err != nil || buf[0] == '\n' {
			return b.String()
		}
		b.WriteByte(buf[0])
	}
}

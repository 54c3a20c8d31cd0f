package linemsg

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"time"
)

// ServerConfig declares a message server.
type ServerConfig struct {
	// TLS, when non-nil, makes every accepted conn a tls.Server with this
	// config; nil serves plaintext. It is shared by all conns and must not
	// be modified once Serve is called.
	TLS *tls.Config
	// Timeout bounds each conn's whole exchange (handshake, request, reply,
	// waiting for the client to close); zero means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock deadlines are computed from; nil means time.Now.
	// Give it the clock the conns' deadlines are measured against.
	Now func() time.Time
}

// Server accepts one message per connection and records what it accepted.
// Its methods are safe for concurrent use; Serve may run on several
// listeners at once.
type Server struct {
	cfg ServerConfig

	mu       sync.Mutex
	received []string
	errs     []error
}

// NewServer returns a server for cfg. cfg is copied.
func NewServer(cfg ServerConfig) *Server {
	return &Server{cfg: cfg}
}

// Serve accepts conns from ln and serves each on its own goroutine until ln
// is closed (it then returns nil) or ctx ends (it returns context.Cause(ctx)).
// Accept failing otherwise returns an *OpError with Op "accept".
//
// Serve always closes ln before returning. It returns only after every conn
// it accepted is finished: when ctx ends those conns are closed at once;
// when ln is closed they run to completion, each bounded by Timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	for {
		conn, err := ln.Accept()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return context.Cause(ctx)
			case errors.Is(err, net.ErrClosed):
				return nil
			default:
				return &OpError{Op: "accept", Addr: ln.Addr(), Err: err}
			}
		}
		wg.Go(func() { s.serveConn(ctx, conn) })
	}
}

// serveConn runs one exchange. Every failure is recorded; none stops Serve.
func (s *Server) serveConn(ctx context.Context, raw net.Conn) {
	remote := raw.RemoteAddr()
	w := newWatch(ctx, raw, exchangeDeadline(s.cfg.Now, s.cfg.Timeout))
	defer w.stop()

	conn := raw
	defer func() { conn.Close() }() // the TLS conn once wrapped, so close_notify is sent
	if s.cfg.TLS != nil {
		tc := tls.Server(raw, s.cfg.TLS)
		conn = tc
		if err := tc.HandshakeContext(ctx); err != nil {
			s.fail(&OpError{Op: "handshake", Addr: remote, Err: w.cause(err)})
			return
		}
	}

	br := bufio.NewReader(conn)
	line, err := readLine(br)
	if err != nil {
		s.fail(&OpError{Op: "read", Addr: remote, Err: w.cause(err)})
		return
	}
	body, err := parseMsg(line)
	if err != nil {
		s.fail(&OpError{Op: "read", Addr: remote, Err: err})
		_, _ = io.WriteString(conn, replyErr+"malformed request\n")
		return
	}
	s.mu.Lock()
	s.received = append(s.received, body)
	s.mu.Unlock()

	if _, err := io.WriteString(conn, replyOK+"\n"); err != nil {
		s.fail(&OpError{Op: "write", Addr: remote, Err: w.cause(err)})
		return
	}
	// Let the client close first (see the package doc); anything it still
	// sends is discarded, and the deadline bounds the wait.
	_, _ = io.Copy(io.Discard, io.LimitReader(br, MaxLineBytes))
}

func (s *Server) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// Received returns the bodies accepted so far, in the order they were
// accepted. A body is recorded before the server answers OK, so it counts as
// delivered even if the reply is lost. The slice is a copy.
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Errors returns the failed exchanges so far, each an *OpError, in the order
// they failed (e.g. a handshake the client aborted: "remote error: tls: bad
// certificate"). The slice is a copy.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// ConnInfo describes a Session's connection.
type ConnInfo struct {
	// Record and Target are the SRV record and server name the connection
	// was made to; Addr the address dialled, Local the client's own.
	Record string
	Target string
	Addr   netip.AddrPort
	Local  string
	// Transport is TLS, or TCP after plaintext fallback.
	Transport Transport
	// Fallback is true when the client fell back to plaintext.
	Fallback bool
	// TLS is the handshake; nil for plaintext.
	TLS *TLSInfo
}

// String summarizes a connection: "TLS 1.3 TLS_AES_128_GCM_SHA256 to
// pool01.contoso.com 10.0.0.11:5061 (CN=pool01.contoso.com issued by CN=...)".
func (i ConnInfo) String() string {
	if i.TLS == nil {
		return fmt.Sprintf("%s to %s %s", i.Transport, i.Target, i.Addr)
	}
	return fmt.Sprintf("%s %s to %s %s (%s issued by %s)", i.TLS.VersionName(), i.TLS.CipherSuiteName(), i.Target, i.Addr, i.TLS.PeerSubject, i.TLS.PeerIssuer)
}

// Session is one connection from a client to its pool, over which it
// registers and sends messages. Transactions run one at a time; its
// methods are safe for concurrent use. A transaction whose ctx ends closes
// the connection: the session is then unusable.
type Session struct {
	c        *Client
	info     ConnInfo
	attempts []Attempt
	conn     net.Conn

	mu  sync.Mutex // one transaction at a time; guards mc and dlg
	mc  *msgConn
	dlg dialog // REGISTER's Call-ID and CSeq

	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Info describes the connection.
func (s *Session) Info() ConnInfo { return s.info }

// Attempts lists every lookup and connection attempt Connect made, the
// successful one last.
func (s *Session) Attempts() []Attempt { return append([]Attempt(nil), s.attempts...) }

// Register registers the user (REGISTER to its domain, Contact the
// session's address) and waits for the answer. A server's MS-SIPAE NTLM
// demand (401) is answered with ClientConfig.Credential, after
// ClientConfig.AllowNTLM agreed, in two more REGISTERs on the same
// connection. A final non-2xx answer is a *StatusError inside an
// *OpError; a demand AllowNTLM refused is an *NTLMRefusedError inside
// one.
func (s *Session) Register(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := func(err error) error {
		return &OpError{Node: s.c.User(), Op: string(sipgo.REGISTER), Peer: s.info.Target, Err: err}
	}
	req := s.newRegister(nil)
	res, err := s.roundTrip(ctx, req)
	if err == nil && res.StatusCode == sipgo.StatusUnauthorized {
		res, err = s.answerNTLM(ctx, res)
	}
	switch {
	case err != nil:
		return op(err)
	case res.StatusCode >= 300:
		return op(statusError(req.Method, res))
	}
	return nil
}

// newRegister builds a REGISTER of the session's dialog (next CSeq, new
// branch), with an Authorization header when auth is not nil.
func (s *Session) newRegister(auth *NTLMAuth) *sipgo.Request {
	via := viaFor(s.conn, s.info.Transport, s.c.ids.branch())
	registrar := sipgo.Uri{Scheme: "sip", Host: s.c.domain}
	req := newRequest(sipgo.REGISTER, registrar, s.c.user, &s.dlg, via, "", nil)
	req.AppendHeader(&sipgo.ContactHeader{Address: s.contact()})
	expires := sipgo.ExpiresHeader(3600)
	req.AppendHeader(&expires)
	if auth != nil {
		req.AppendHeader(sipgo.NewHeader("Authorization", auth.String()))
	}
	return req
}

// Message sends a MESSAGE with a text/plain body to the address to
// ("bob@contoso.com") and waits for the final answer: nil for 2xx, a
// *StatusError inside an *OpError otherwise.
func (s *Session) Message(ctx context.Context, to, body string) error {
	recipient, err := parseAddress(to)
	if err != nil {
		return &OpError{Node: s.c.User(), Op: string(sipgo.MESSAGE), Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := dialog{from: s.c.user, tag: s.c.ids.token(), callID: s.c.ids.token()}
	via := viaFor(s.conn, s.info.Transport, s.c.ids.branch())
	req := newRequest(sipgo.MESSAGE, recipient, recipient, &d, via, "text/plain", []byte(body))
	return s.transact(ctx, req)
}

// contact is the session's own address as a SIP URI.
func (s *Session) contact() sipgo.Uri {
	u := sipgo.Uri{Scheme: "sip", User: s.c.user.User}
	if host, port, err := net.SplitHostPort(s.info.Local); err == nil {
		u.Host = host
		u.Port, _ = strconv.Atoi(port)
	}
	u.UriParams = sipgo.NewParams()
	if s.info.Transport == TransportTCP {
		u.UriParams.Add("transport", "tcp")
	} else {
		u.UriParams.Add("transport", "tls")
	}
	return u
}

// transact sends req and waits for its final response: nil for 2xx, a
// *StatusError inside an *OpError otherwise. Called with s.mu held.
func (s *Session) transact(ctx context.Context, req *sipgo.Request) error {
	res, err := s.roundTrip(ctx, req)
	if err == nil && res.StatusCode >= 300 {
		err = statusError(req.Method, res)
	}
	if err != nil {
		return &OpError{Node: s.c.User(), Op: string(req.Method), Peer: s.info.Target, Err: err}
	}
	return nil
}

// roundTrip sends req and returns its final response, or the cause of
// failing to get one. Called with s.mu held.
func (s *Session) roundTrip(ctx context.Context, req *sipgo.Request) (*sipgo.Response, error) {
	if s.closing.Load() {
		return nil, net.ErrClosed
	}
	w := newWatch(ctx, s.conn)
	defer w.stop()
	_ = s.conn.SetDeadline(s.c.now().Add(s.c.cfg.Timeout))
	defer s.conn.SetDeadline(time.Time{})
	branch := branchOf(req)
	if err := s.mc.write(req); err != nil {
		return nil, w.cause(err)
	}
	for {
		msg, err := s.mc.read()
		if err != nil {
			return nil, w.cause(err)
		}
		res, ok := msg.(*sipgo.Response)
		if !ok || res.StatusCode < 200 || branchOf(res) != branch {
			continue
		}
		return res, nil
	}
}

// Close closes the connection at once (sending TLS close_notify first),
// ending a transaction in progress with an error. It is idempotent and
// returns the first close's error.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		_ = s.conn.SetWriteDeadline(s.c.now().Add(s.c.cfg.Timeout))
		s.closeErr = s.conn.Close()
		s.mu.Lock() // the transaction in progress, if any, has failed
		s.mc.close()
		s.mu.Unlock()
	})
	return s.closeErr
}

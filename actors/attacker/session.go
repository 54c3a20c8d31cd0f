package attacker

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// Session is the record of one intercepted connection.
type Session struct {
	// ID numbers sessions from 1 in the order accepted; Inject takes it.
	ID int
	// Start is when the connection was intercepted; End when the relay
	// ended (zero while it runs). World clock.
	Start, End time.Time
	// Victim is the victim's address; Dialled the address it dialled (the
	// real server's, or the attacker's own after a DNS hijack).
	Victim, Dialled netip.AddrPort
	// Upstream is where the attacker connected; invalid when it made no
	// network connection (it failed, or SIPResponder played the server).
	Upstream netip.AddrPort
	// VictimSide is the attacker playing server to the victim: the
	// certificate it presented, whether the victim completed the
	// handshake, and the victim's alert if it refused.
	VictimSide Handshake
	// UpstreamSide is the attacker playing client to the server.
	UpstreamSide Handshake
	// FromVictim and FromServer count application bytes received from
	// each side (plaintext when TLS was terminated, ciphertext in a
	// passthrough relay).
	FromVictim, FromServer int64
	// Messages lists the SIP messages relayed or injected (ProxyConfig.SIP).
	Messages []SIPMessage
	// Injections lists the requests the attacker injected and the answers.
	Injections []Injection
	// Found is set by Proxy.Report: the canaries in this session's bytes.
	Found []string
	// Err says why the session ended abnormally ("" for an orderly close
	// by either side).
	Err string
}

// session is a Session while it runs.
type session struct {
	p   *Proxy
	sip bool

	mu         sync.Mutex
	rec        Session
	fromVictim capBuf
	fromServer capBuf
	victim, up net.Conn // closed at the end; up is nil until connected
	ended      bool
	sipSeen    bool                            // a SIP message from the victim was parsed
	pending    map[string]chan *sipgo.Response // injected branches

	upMu sync.Mutex // serialises writes upstream: relay and Inject
	done chan struct{}
}

func newSession(p *Proxy, id int, c net.Conn) *session {
	return &session{
		p:          p,
		sip:        p.cfg.SIP,
		rec:        Session{ID: id, Start: p.now(), Victim: addrPortOf(c.RemoteAddr()), Dialled: addrPortOf(c.LocalAddr())},
		fromVictim: capBuf{max: p.cfg.MaxCapture},
		fromServer: capBuf{max: p.cfg.MaxCapture},
		victim:     c,
		pending:    map[string]chan *sipgo.Response{},
		done:       make(chan struct{}),
	}
}

func (s *session) record() Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyLocked()
}

func (s *session) copyLocked() Session {
	r := s.rec
	r.VictimSide, r.UpstreamSide = r.VictimSide.clone(), r.UpstreamSide.clone()
	r.Messages = append([]SIPMessage(nil), r.Messages...)
	r.Injections = append([]Injection(nil), r.Injections...)
	return r
}

// snapshot returns the record and copies of the captured bytes.
func (s *session) snapshot() (Session, [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyLocked(), [][]byte{append([]byte(nil), s.fromVictim.data...), append([]byte(nil), s.fromServer.data...)}
}

// closeAll closes both connections; safe to call repeatedly.
func (s *session) closeAll() {
	s.mu.Lock()
	v, u := s.victim, s.up
	s.mu.Unlock()
	v.Close()
	if u != nil {
		u.Close()
	}
}

// run handles the intercepted connection c to its end.
func (s *session) run(c net.Conn) {
	p := s.p
	defer close(s.done)
	stop := context.AfterFunc(p.ctx, s.closeAll)
	defer stop()
	defer s.closeAll()

	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	defer cancel()
	_ = c.SetDeadline(p.now().Add(p.cfg.Timeout))
	var vh Handshake
	p.noteForgedHandshake(c)
	vc, err := p.cfg.Victim.Accept(ctx, c, &vh)
	s.mu.Lock()
	s.rec.VictimSide = vh
	s.mu.Unlock()
	if err != nil {
		s.finish(err)
		return
	}
	var uh Handshake
	uc, err := p.cfg.Upstream.Connect(ctx, UpstreamTarget{Dial: p.cfg.Host, Dialled: s.rec.Dialled, ServerName: vh.ServerName}, &uh)
	s.mu.Lock()
	s.rec.UpstreamSide = uh
	if uc != nil {
		s.rec.Upstream = addrPortOf(uc.RemoteAddr())
		s.up = uc
	}
	s.victim = vc
	s.mu.Unlock()
	if err != nil {
		s.finish(err)
		return
	}
	if p.ctx.Err() != nil { // closed while connecting: AfterFunc may have missed up
		s.finish(nil)
		return
	}
	_ = c.SetDeadline(time.Time{})

	var wg sync.WaitGroup
	var errs [2]error
	wg.Go(func() { errs[0] = s.pump(true, vc, uc) })
	wg.Go(func() { errs[1] = s.pump(false, uc, vc) })
	wg.Wait()
	s.finish(errors.Join(errs[0], errs[1]))
}

// finish records the end of the session and tells the proxy's waiters.
func (s *session) finish(err error) {
	defer s.p.changed.Broadcast()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.rec.End = s.p.now()
	if err != nil && s.p.ctx.Err() == nil {
		s.rec.Err = err.Error()
	}
	for b, ch := range s.pending {
		close(ch)
		delete(s.pending, b)
	}
}

// pump relays src to dst until src ends. At src's EOF it half-closes dst
// so the other direction can finish; on any other error it closes both,
// ending the other pump too.
func (s *session) pump(fromVictim bool, src, dst net.Conn) error {
	var f *sipFramer
	if s.sip {
		f = newSIPFramer()
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			s.mu.Lock()
			if fromVictim {
				s.fromVictim.write(buf[:n])
				s.rec.FromVictim += int64(n)
			} else {
				s.fromServer.write(buf[:n])
				s.rec.FromServer += int64(n)
			}
			s.mu.Unlock()
			if err := s.forward(fromVictim, f, buf[:n], dst); err != nil {
				s.closeAll()
				if quiet(err) {
					return nil
				}
				return err
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				} else {
					dst.Close()
				}
				return nil
			}
			s.closeAll()
			if quiet(rerr) {
				return nil
			}
			return rerr
		}
	}
}

// quiet reports whether err is a connection ending the ordinary way.
func quiet(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)
}

// forward writes p (raw relay) or the whole SIP messages completed by it
// to dst. Answers to injected requests are handed to Inject, not relayed.
func (s *session) forward(fromVictim bool, f *sipFramer, p []byte, dst net.Conn) error {
	if f == nil {
		return s.write(fromVictim, dst, p)
	}
	f.feed(p)
	for {
		raw, msg, ok := f.next()
		if !ok {
			return nil
		}
		if msg != nil {
			injected := false
			if res, isRes := msg.(*sipgo.Response); isRes && !fromVictim {
				injected = s.deliverInjected(res)
			}
			s.mu.Lock()
			s.rec.Messages = append(s.rec.Messages, describeSIP(msg, fromVictim, injected))
			s.sipSeen = s.sipSeen || fromVictim
			s.mu.Unlock()
			if injected {
				continue
			}
		}
		if err := s.write(fromVictim, dst, raw); err != nil {
			return err
		}
	}
}

func (s *session) write(fromVictim bool, dst net.Conn, p []byte) error {
	if fromVictim {
		s.upMu.Lock()
		defer s.upMu.Unlock()
	}
	_, err := dst.Write(p)
	return err
}

// deliverInjected hands a response to the Inject waiting for its branch
// and reports whether there was one. Provisional answers are swallowed.
func (s *session) deliverInjected(res *sipgo.Response) bool {
	b := branchOf(res)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.pending[b]
	if !ok {
		return false
	}
	if res.StatusCode >= 200 {
		ch <- res
		delete(s.pending, b)
	}
	return true
}

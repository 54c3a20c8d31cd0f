package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"
)

// aLongTimeAgo is a deadline in the past: setting it unblocks reads.
var aLongTimeAgo = time.Unix(1, 0)

// errTryTimeout marks a try that got no acceptable answer in time.
var errTryTimeout = errors.New("try timed out")

// exchange runs the try loop: every try sends q to every server in turn,
// over UDP with TCP fallback on truncation. It returns the first matching
// response, or the cause of failure: a *TimeoutError when every try timed
// out, the context's error, or the last transport error.
func (r *Resolver) exchange(ctx context.Context, q *miekg.Msg) (*miekg.Msg, error) {
	return r.exchangeAccepting(ctx, q, nil)
}

// exchangeAccepting is exchange with a further test on responses: a
// matching UDP response that accept rejects is dropped like a forgery with
// the wrong ID, and the try keeps waiting for the real answer, which an
// on-path spoofer only races (DNSSEC validation uses this). When a try ends
// with no accepted response, the last rejection is its error. accept nil
// accepts everything.
func (r *Resolver) exchangeAccepting(ctx context.Context, q *miekg.Msg, accept func(*miekg.Msg) error) (*miekg.Msg, error) {
	tries := 0
	var lastErr error
	for range r.cfg.Retries + 1 {
		for _, server := range r.servers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			tries++
			m := q.Copy()
			m.Response = false
			m.Id = r.nextTXID()
			resp, err := r.exchangeUDP(ctx, m, server, accept)
			if err == nil && resp.Truncated {
				resp, err = r.exchangeTCP(ctx, m, server)
				if err == nil && accept != nil {
					err = accept(resp)
				}
			}
			switch {
			case err == nil:
				return resp, nil
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.Is(err, errTryTimeout):
			default:
				lastErr = err
			}
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, &TimeoutError{Tries: tries}
}

// nextTXID returns the ID for the next query according to the TXID policy.
func (r *Resolver) nextTXID() uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.TXID == SequentialTXID {
		id := r.nextID
		r.nextID++
		return id
	}
	return uint16(r.rng.Uint64())
}

// randomPort draws a port in the ephemeral range.
func (r *Resolver) randomPort() uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return uint16(ephemeralFirst + r.rng.Uint64()%ephemeralCount)
}

// openUDP opens the socket for one try according to the port policy.
// release closes it (and, for FixedSourcePort, lets the next try bind the
// port).
func (r *Resolver) openUDP(ctx context.Context) (pc net.PacketConn, release func(), err error) {
	if r.cfg.SourcePort == FixedSourcePort {
		select {
		case r.fixedPort <- struct{}{}:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		pc, err := r.cfg.Net.ListenPacket("udp", ":"+strconv.Itoa(int(r.cfg.FixedPort)))
		if err != nil {
			<-r.fixedPort
			return nil, nil, err
		}
		return pc, func() { pc.Close(); <-r.fixedPort }, nil
	}
	// A drawn port may be taken by another socket on the host: draw again
	// a few times, then let the host pick.
	for range 8 {
		pc, err = r.cfg.Net.ListenPacket("udp", ":"+strconv.Itoa(int(r.randomPort())))
		if err == nil {
			return pc, func() { pc.Close() }, nil
		}
	}
	pc, err = r.cfg.Net.ListenPacket("udp", ":0")
	if err != nil {
		return nil, nil, err
	}
	return pc, func() { pc.Close() }, nil
}

// udpBuffers holds receive buffers big enough for any DNS message. Msg.Unpack
// copies what it keeps, so a buffer is free again when exchangeUDP returns.
var udpBuffers = sync.Pool{New: func() any {
	b := make([]byte, miekg.MaxMsgSize)
	return &b
}}

// exchangeUDP sends m to server from a socket chosen by the port policy and
// waits up to Timeout for a response whose source, ID and question match.
// Anything else arriving on the socket is dropped (and recorded, see
// DroppedAnswer) and the wait goes on.
func (r *Resolver) exchangeUDP(ctx context.Context, m *miekg.Msg, server netip.AddrPort, accept func(*miekg.Msg) error) (*miekg.Msg, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	pc, release, err := r.openUDP(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	if err := pc.SetReadDeadline(r.now().Add(r.cfg.Timeout)); err != nil {
		return nil, err
	}
	if _, err := pc.WriteTo(wire, net.UDPAddrFromAddrPort(server)); err != nil {
		return nil, err
	}
	bufp := udpBuffers.Get().(*[]byte)
	defer udpBuffers.Put(bufp)
	buf := *bufp
	var rejected error
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if rejected != nil {
					return nil, rejected
				}
				return nil, errTryTimeout
			}
			return nil, err
		}
		dropped := func(resp *miekg.Msg, reason DropReason, err error) {
			q := m.Question[0]
			r.drop(DroppedAnswer{
				From: addrPort(from), Server: server, Port: localPort(pc),
				QueryID: m.Id, QueryName: q.Name, QueryType: q.Qtype,
				Msg: resp, Reason: reason, Err: err,
			})
		}
		resp := new(miekg.Msg)
		if resp.Unpack(buf[:n]) != nil {
			resp = nil
		}
		switch {
		case !sameAddr(from, server):
			dropped(resp, DropWrongSource, nil) // not from the server we asked
			continue
		case resp == nil:
			dropped(nil, DropMalformed, nil)
			continue
		}
		if reason, ok := mismatch(resp, m); !ok {
			dropped(resp, reason, nil)
			continue
		}
		if accept != nil && !resp.Truncated {
			if err := accept(resp); err != nil {
				rejected = err
				dropped(resp, DropValidation, err)
				continue
			}
		}
		return resp, nil
	}
}

// exchangeTCP sends m to server over a new TCP connection and reads one
// response, bounded by Timeout. A response that does not match m is an
// error: on a connection no third party can interleave.
func (r *Resolver) exchangeTCP(ctx context.Context, m *miekg.Msg, server netip.AddrPort) (*miekg.Msg, error) {
	dctx, cancel := context.WithDeadline(ctx, r.now().Add(r.cfg.Timeout))
	defer cancel()
	c, err := r.cfg.Net.DialContext(dctx, "tcp", server.String())
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			return nil, errTryTimeout
		}
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	defer stop()
	if err := c.SetDeadline(r.now().Add(r.cfg.Timeout)); err != nil {
		return nil, err
	}
	co := &miekg.Conn{Conn: c}
	if err := co.WriteMsg(m); err != nil {
		return nil, r.tcpErr(ctx, err)
	}
	resp, err := co.ReadMsg()
	if err != nil {
		return nil, r.tcpErr(ctx, err)
	}
	if !matches(resp, m) {
		return nil, errors.New("TCP response from " + server.String() + " does not match the query")
	}
	return resp, nil
}

func (r *Resolver) tcpErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errTryTimeout
	}
	return err
}

// sameAddr reports whether from is server's address and port.
func sameAddr(from net.Addr, server netip.AddrPort) bool { return addrPort(from) == server }

// matches reports whether resp answers q: a response with q's ID and the
// same question (names compared case-insensitively).
func matches(resp, q *miekg.Msg) bool {
	_, ok := mismatch(resp, q)
	return ok
}

// mismatch reports whether resp answers q and, when it does not, why.
func mismatch(resp, q *miekg.Msg) (DropReason, bool) {
	switch {
	case !resp.Response:
		return DropNotResponse, false
	case resp.Id != q.Id:
		return DropTXIDMismatch, false
	case len(resp.Question) != 1:
		return DropQuestionMismatch, false
	}
	a, b := resp.Question[0], q.Question[0]
	if a.Qtype != b.Qtype || a.Qclass != b.Qclass || !strings.EqualFold(a.Name, b.Name) {
		return DropQuestionMismatch, false
	}
	return 0, true
}

// addrPort returns a UDP address as a netip.AddrPort (zero for another
// kind of address).
func addrPort(a net.Addr) netip.AddrPort {
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// localPort is the UDP port pc is bound to.
func localPort(pc net.PacketConn) uint16 { return addrPort(pc.LocalAddr()).Port() }

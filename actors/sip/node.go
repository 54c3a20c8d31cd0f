package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// listenSpec declares one listener of a server.
type listenSpec struct {
	name      string      // "client", "plain", "mtls", "internal", "external"
	addr      string      // "ip:port" on the server's Network
	tls       *tls.Config // nil: plaintext
	transport Transport   // nominal, for records of failed handshakes
}

// inbound is the connection a request arrived on. Only its connection's
// goroutine touches it.
type inbound struct {
	peer PeerInfo
	// ntlm is the MS-SIPAE security association whose CHALLENGE was sent
	// on this connection and awaits its AUTHENTICATE; nil when none.
	ntlm *ntlmAssociation
}

// fromClient reports whether the connection came in on a client listener.
func (in *inbound) fromClient() bool {
	return in.peer.Listener == "client" || in.peer.Listener == "plain"
}

// handler answers one request. It returns the response to send, or nil to
// send none.
type handler func(in *inbound, req *sipgo.Request) *sipgo.Response

// nodeState is where a node is in its life.
type nodeState int

const (
	stateNew nodeState = iota
	stateRunning
	stateClosed
)

// node is the machinery FrontEnd and Edge share: listeners, one goroutine
// per connection reading requests in order, relaying to a next hop, records,
// and a lifecycle in which Close stops and waits for everything.
type node struct {
	name    string // records and Warning headers: "fe01"
	fqdn    string // Via and Warning agent: "fe01.contoso.com"
	net     Network
	timeout time.Duration
	now     func() time.Time
	ids     *ids
	specs   []listenSpec
	handle  handler
	rec     recorder

	mu     sync.Mutex
	state  nodeState
	ctx    context.Context // ends at Close or when Start's ctx ends
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // accept loops, connections
}

// deadline is now plus the exchange timeout, on the configured clock.
func (n *node) deadline() time.Time { return n.now().Add(n.timeout) }

// start binds every listener, then serves them in the background. When a
// listener cannot be bound, those already bound are closed and nothing runs.
func (n *node) start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch n.state {
	case stateRunning:
		return &OpError{Node: n.name, Op: "start", Err: errors.New("already started")}
	case stateClosed:
		return ErrServerClosed
	}
	lns := make([]net.Listener, 0, len(n.specs))
	for _, s := range n.specs {
		ln, err := n.net.Listen("tcp", s.addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return &OpError{Node: n.name, Op: "listen", Peer: s.addr, Err: err}
		}
		lns = append(lns, ln)
	}
	n.ctx, n.cancel = context.WithCancelCause(ctx)
	n.state = stateRunning
	n.wg.Go(func() {
		<-n.ctx.Done()
		for _, l := range lns {
			l.Close()
		}
	})
	for i, ln := range lns {
		spec := n.specs[i]
		n.wg.Go(func() { n.acceptLoop(ln, spec) })
	}
	return nil
}

// serve is start, then waiting for the end: nil after close, ctx's cause
// when ctx ended.
func (n *node) serve(ctx context.Context) error {
	if err := n.start(ctx); err != nil {
		return err
	}
	<-n.ctx.Done()
	n.wg.Wait()
	if errors.Is(context.Cause(n.ctx), ErrServerClosed) {
		return nil
	}
	return context.Cause(ctx)
}

// close stops the listeners, closes every connection (inbound and to next
// hops) and waits for every goroutine the node started. Idempotent.
func (n *node) close() error {
	n.mu.Lock()
	prev := n.state
	n.state = stateClosed
	cancel := n.cancel
	n.mu.Unlock()
	if prev == stateNew || cancel == nil {
		return nil
	}
	cancel(ErrServerClosed)
	n.wg.Wait()
	return nil
}

// acceptLoop accepts until the listener closes.
func (n *node) acceptLoop(ln net.Listener, spec listenSpec) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // closed by close, by Start's ctx, or by the World
		}
		n.wg.Go(func() { n.serveConn(conn, spec) })
	}
}

// serveConn runs one inbound connection: the TLS handshake when the
// listener has TLS, then requests in order until the peer closes, the
// connection idles for the timeout, or the node closes. Each request is
// answered before the next is read.
func (n *node) serveConn(raw net.Conn, spec listenSpec) {
	w := newWatch(n.ctx, raw)
	defer w.stop()
	conn := raw
	defer func() { conn.Close() }() // the TLS conn once wrapped, so close_notify is sent
	addr := raw.RemoteAddr().String()

	var cs *tls.ConnectionState
	if spec.tls != nil {
		_ = raw.SetDeadline(n.deadline())
		tc := tls.Server(raw, spec.tls)
		conn = tc
		if err := tc.HandshakeContext(n.ctx); err != nil {
			if n.ctx.Err() == nil {
				n.reject(Rejection{
					Direction: Inbound,
					Stage:     StageHandshake,
					Peer:      PeerInfo{Addr: addr, Listener: spec.name, Transport: spec.transport},
					Err:       err,
				})
			}
			return
		}
		state := tc.ConnectionState()
		cs = &state
	}
	in := &inbound{peer: peerInfo(spec.name, addr, cs)}

	mc := newMsgConn(conn)
	defer mc.close()
	for {
		_ = conn.SetDeadline(n.deadline()) // idle limit for the next request
		msg, err := mc.read()
		if err != nil {
			if n.ctx.Err() == nil && !quietEnd(err) {
				stage := StageExchange
				var pe *parseError
				if errors.As(err, &pe) {
					stage = StageRequest
				}
				n.reject(Rejection{Direction: Inbound, Stage: stage, Peer: in.peer, Err: err})
			}
			return
		}
		req, ok := msg.(*sipgo.Request)
		if !ok || req.IsAck() {
			continue // stray responses and ACKs get no answer
		}
		var res *sipgo.Response
		if err := checkRequest(req); err != nil {
			res = n.refuse(in, req, sipgo.StatusBadRequest, Rejection{Err: err})
		} else {
			res = n.handle(in, req)
		}
		if res == nil {
			continue
		}
		_ = conn.SetDeadline(n.deadline())
		if err := mc.write(res); err != nil {
			return
		}
	}
}

// reject completes r (time, node, reason) and records it.
func (n *node) reject(r Rejection) {
	r.Time = n.now()
	r.Node = n.name
	r.Reason = n.name + ": " + r.Err.Error()
	n.rec.addRejection(r)
}

// refuse records a refused request and answers it with status, carrying
// the reason in a Warning header. r needs Err; Direction defaults to
// Inbound and Stage to StageRequest.
func (n *node) refuse(in *inbound, req *sipgo.Request, status int, r Rejection) *sipgo.Response {
	return n.respond(req, status, n.refusal(in, req, status, r))
}

// refusal completes r from the request and the connection it came on,
// records it and returns its Reason.
func (n *node) refusal(in *inbound, req *sipgo.Request, status int, r Rejection) string {
	if r.Direction == "" {
		r.Direction = Inbound
	}
	if r.Stage == "" {
		r.Stage = StageRequest
	}
	r.Peer = in.peer
	r.Method, r.From, r.To = describe(req)
	r.Status = status
	n.reject(r)
	return n.name + ": " + r.Err.Error()
}

// respond answers req; warning, when not empty, goes into a Warning header.
func (n *node) respond(req *sipgo.Request, status int, warning string) *sipgo.Response {
	return newResponse(req, status, reasonPhrase(status), n.ids.token(), n.fqdn, warning)
}

// describe returns a request's method, sender and recipient (its
// Request-URI) for records.
func describe(req *sipgo.Request) (method, from, to string) {
	method = string(req.Method)
	if f := req.From(); f != nil {
		from = addressOf(f.Address)
	}
	return method, from, addressOf(req.Recipient)
}

// reasonPhrase is the RFC 3261 reason phrase of the statuses servers send.
func reasonPhrase(status int) string {
	switch status {
	case sipgo.StatusOK:
		return "OK"
	case sipgo.StatusBadRequest:
		return "Bad Request"
	case sipgo.StatusUnauthorized:
		return "Unauthorized"
	case sipgo.StatusForbidden:
		return "Forbidden"
	case sipgo.StatusNotFound:
		return "Not Found"
	case sipgo.StatusMethodNotAllowed:
		return "Method Not Allowed"
	case sipgo.StatusTooManyHops:
		return "Too Many Hops"
	case sipgo.StatusBadGateway:
		return "Bad Gateway"
	default:
		return "Server Internal Error"
	}
}

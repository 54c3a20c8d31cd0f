package sip

import (
	"context"
	"crypto/tls"

	sipgo "github.com/emiago/sipgo/sip"
)

// hop is a next hop a server relays a request to, over MTLS.
type hop struct {
	name string      // TLS server name: an FQDN or an SRV target
	addr string      // "ip:port"
	tls  *tls.Config // client config with ServerName = name and the policy checks
	via  string      // sent-by host of the Via this server adds
	// dialer opens the connection; nil means the node's Network.
	dialer Dialer
}

// newHop returns a hop to name at addr, dialled with a clone of base whose
// ServerName is name and whose VerifyConnection also runs checks.
//
// The config's first certificate is always presented as the client
// certificate, whatever CA names the peer's CertificateRequest lists (as
// Schannel servers send no such list by default): a peer that does not
// trust our CA then fails with the exact x509 reason rather than "client
// didn't provide a certificate".
func newHop(name, addr, via string, base *tls.Config, checks ...verifyFunc) hop {
	cfg := withVerify(base, checks...)
	cfg.ServerName = name
	if cfg.GetClientCertificate == nil && len(cfg.Certificates) > 0 {
		cert := &cfg.Certificates[0]
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return hop{name: name, addr: addr, tls: cfg, via: via}
}

// relay forwards req to h on behalf of the connection in, records a Relay,
// and returns the next hop's final answer for upstream. When the hop fails
// (dial, handshake, exchange) it records a Rejection instead and answers 502
// Bad Gateway with the exact reason in a Warning header.
func (n *node) relay(in *inbound, req *sipgo.Request, h hop) *sipgo.Response {
	if res := n.checkHops(in, req); res != nil {
		return res
	}
	res, info, stage, err := n.forward(req, h)
	if err != nil {
		return n.refuse(in, req, sipgo.StatusBadGateway, Rejection{
			Direction: Outbound, Stage: stage, Target: h.name, TargetAddr: h.addr, Err: err,
		})
	}
	n.recordRelay(in, req, h, info, res.StatusCode)
	return res
}

// checkHops refuses a request whose Max-Forwards is spent (RFC 3261
// §16.3); nil means it may be forwarded.
func (n *node) checkHops(in *inbound, req *sipgo.Request) *sipgo.Response {
	if mf := req.MaxForwards(); mf != nil && *mf == 0 {
		return n.refuse(in, req, sipgo.StatusTooManyHops, Rejection{
			Err: &RoutingError{Status: sipgo.StatusTooManyHops, Problem: "Max-Forwards reached 0: routing loop or too many hops"},
		})
	}
	return nil
}

func (n *node) recordRelay(in *inbound, req *sipgo.Request, h hop, info *TLSInfo, status int) {
	method, from, to := describe(req)
	r := Relay{
		Time: n.now(), Node: n.name, Method: method, From: from, To: to, Peer: in.peer,
		NextHop: h.name, NextHopAddr: h.addr, NextHopTLS: info, Status: status,
	}
	if c := req.CallID(); c != nil {
		r.CallID = c.Value()
	}
	n.rec.addRelay(r)
}

// forward sends req to h over a new MTLS connection with this server's Via
// on top and Max-Forwards decremented, and returns the final response with
// that Via removed. On failure it says at which stage. The exchange is
// bounded by the node's timeout and ends at once when the node closes.
func (n *node) forward(req *sipgo.Request, h hop) (*sipgo.Response, *TLSInfo, Stage, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	var dialer Dialer = n.net
	if h.dialer != nil {
		dialer = h.dialer
	}
	raw, err := dialer.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, nil, StageDial, err
	}
	w := newWatch(ctx, raw)
	defer w.stop()
	_ = raw.SetDeadline(n.deadline())
	tc := tls.Client(raw, h.tls)
	defer tc.Close()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, nil, StageHandshake, w.cause(err)
	}
	info := newTLSInfo(tc.ConnectionState())

	fwd := req.Clone()
	branch := n.ids.branch()
	fwd.PrependHeader(newVia(TransportTLS, h.via, 0, branch))
	left := sipgo.MaxForwardsHeader(maxForwards)
	if mf := req.MaxForwards(); mf != nil {
		left = *mf
	}
	left--
	if fwd.MaxForwards() != nil {
		fwd.ReplaceHeader(&left)
	} else {
		fwd.AppendHeader(&left)
	}

	mc := newMsgConn(tc)
	defer mc.close()
	if err := mc.write(fwd); err != nil {
		return nil, info, StageExchange, w.cause(err)
	}
	for {
		msg, err := mc.read()
		if err != nil {
			return nil, info, StageExchange, w.cause(err)
		}
		res, ok := msg.(*sipgo.Response)
		if !ok || res.StatusCode < 200 || branchOf(res) != branch {
			continue // provisional or not ours
		}
		res.RemoveHeader("Via")
		return res, info, "", nil
	}
}

package sip

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	sipgo "github.com/emiago/sipgo/sip"
)

// maxForwards is the Max-Forwards of a request a user agent creates.
const maxForwards = 70

// userAgent is the User-Agent / Server header value.
const userAgent = "tlslab-sip"

// ids makes Via branches, tags and Call-IDs from one random source. It is
// safe for concurrent use.
type ids struct {
	mu sync.Mutex
	r  io.Reader
}

func newIDs(r io.Reader) *ids {
	if r == nil {
		r = rand.Reader
	}
	return &ids{r: r}
}

// token returns 16 random hex digits. A failing source yields zeros rather
// than an error: identifiers are not secrets, and uniqueness is the
// caller's concern when it supplies its own source.
func (g *ids) token() string {
	var b [8]byte
	g.mu.Lock()
	_, _ = io.ReadFull(g.r, b[:])
	g.mu.Unlock()
	return hex.EncodeToString(b[:])
}

// branch returns an RFC 3261 branch: the magic cookie and a random token.
func (g *ids) branch() string { return sipgo.RFC3261BranchMagicCookie + g.token() }

// parseAddress parses "alice@contoso.com" or "sip:alice@contoso.com" into a
// SIP URI with a user and a host.
func parseAddress(s string) (sipgo.Uri, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(strings.ToLower(s), "sip:") && !strings.HasPrefix(strings.ToLower(s), "sips:") {
		s = "sip:" + s
	}
	var u sipgo.Uri
	if err := sipgo.ParseUri(s, &u); err != nil {
		return sipgo.Uri{}, fmt.Errorf("%q is not a SIP address: %w", s, err)
	}
	if u.User == "" || u.Host == "" {
		return sipgo.Uri{}, fmt.Errorf("%q is not a SIP address: want user@domain", s)
	}
	u.Host = normalizeHost(u.Host)
	return u, nil
}

// addressOf is a URI's "user@host", lower-cased host.
func addressOf(u sipgo.Uri) string {
	if u.User == "" {
		return normalizeHost(u.Host)
	}
	return u.User + "@" + normalizeHost(u.Host)
}

// newVia returns a Via header "SIP/2.0/<transport> host[:port];branch=...".
func newVia(transport Transport, host string, port int, branch string) *sipgo.ViaHeader {
	tp := "TLS"
	if transport == TransportTCP {
		tp = "TCP"
	}
	params := sipgo.NewParams()
	params.Add("branch", branch)
	return &sipgo.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       tp,
		Host:            host,
		Port:            port,
		Params:          params,
	}
}

// viaFor is a user agent's Via for conn: its local address.
func viaFor(conn net.Conn, transport Transport, branch string) *sipgo.ViaHeader {
	host, port := "0.0.0.0", 0
	if ta, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		host, port = ta.IP.String(), ta.Port
	} else if h, p, err := net.SplitHostPort(conn.LocalAddr().String()); err == nil {
		host = h
		port, _ = strconv.Atoi(p)
	}
	return newVia(transport, host, port, branch)
}

// dialog is what a user agent's requests share: its address, tag and the
// next CSeq.
type dialog struct {
	from   sipgo.Uri
	tag    string
	callID string
	cseq   uint32
}

// newRequest builds a request from a user agent with the mandatory headers
// of RFC 3261 §8.1.1, topmost Via last argument, and body (nil: none).
func newRequest(method sipgo.RequestMethod, ruri, to sipgo.Uri, d *dialog, via *sipgo.ViaHeader, contentType string, body []byte) *sipgo.Request {
	req := sipgo.NewRequest(method, ruri)
	req.AppendHeader(via)
	mf := sipgo.MaxForwardsHeader(maxForwards)
	req.AppendHeader(&mf)
	fromParams := sipgo.NewParams()
	fromParams.Add("tag", d.tag)
	req.AppendHeader(&sipgo.FromHeader{Address: d.from, Params: fromParams})
	req.AppendHeader(&sipgo.ToHeader{Address: to})
	callID := sipgo.CallIDHeader(d.callID)
	req.AppendHeader(&callID)
	d.cseq++
	req.AppendHeader(&sipgo.CSeqHeader{SeqNo: d.cseq, MethodName: method})
	req.AppendHeader(sipgo.NewHeader("User-Agent", userAgent))
	if contentType != "" {
		ct := sipgo.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	return req
}

// newResponse builds a response to req as RFC 3261 §8.2.6 says: Via, From,
// Call-ID and CSeq copied, To copied with toTag added when it has none.
// warning, when not empty, becomes a Warning header from agent.
func newResponse(req *sipgo.Request, code int, reason, toTag, agent, warning string) *sipgo.Response {
	res := sipgo.NewResponse(code, reason)
	res.SipVersion = req.SipVersion
	for _, h := range req.GetHeaders("Via") {
		res.AppendHeader(sipgo.HeaderClone(h))
	}
	if h := req.From(); h != nil {
		res.AppendHeader(sipgo.HeaderClone(h))
	}
	if h := req.To(); h != nil {
		to := sipgo.HeaderClone(h).(*sipgo.ToHeader)
		if !to.Params.Has("tag") && code != sipgo.StatusTrying {
			to.Params.Add("tag", toTag)
		}
		res.AppendHeader(to)
	}
	if h := req.CallID(); h != nil {
		res.AppendHeader(sipgo.HeaderClone(h))
	}
	if h := req.CSeq(); h != nil {
		res.AppendHeader(sipgo.HeaderClone(h))
	}
	res.AppendHeader(sipgo.NewHeader("Server", userAgent))
	if warning != "" {
		res.AppendHeader(sipgo.NewHeader("Warning", warningValue(agent, warning)))
	}
	res.SetBody(nil)
	return res
}

// checkRequest verifies the headers every request needs (RFC 3261 §8.1.1).
func checkRequest(req *sipgo.Request) error {
	switch {
	case req.Via() == nil:
		return fmt.Errorf("%s request has no Via header", req.Method)
	case req.From() == nil:
		return fmt.Errorf("%s request has no From header", req.Method)
	case req.To() == nil:
		return fmt.Errorf("%s request has no To header", req.Method)
	case req.CallID() == nil:
		return fmt.Errorf("%s request has no Call-ID header", req.Method)
	case req.CSeq() == nil:
		return fmt.Errorf("%s request has no CSeq header", req.Method)
	}
	return nil
}

// branchOf is the branch parameter of a message's topmost Via.
func branchOf(msg sipgo.Message) string {
	via := msg.Via()
	if via == nil {
		return ""
	}
	b, _ := via.Params.Get("branch")
	return b
}

// viaPath lists the sent-by of every Via of msg, topmost first.
func viaPath(msg sipgo.Message) []string {
	var path []string
	for _, h := range msg.GetHeaders("Via") {
		if v, ok := h.(*sipgo.ViaHeader); ok {
			path = append(path, v.SentBy())
		}
	}
	return path
}

// statusError turns a final non-2xx response into a *StatusError.
func statusError(method sipgo.RequestMethod, res *sipgo.Response) *StatusError {
	e := &StatusError{Method: string(method), StatusCode: res.StatusCode, Reason: res.Reason}
	if h := res.GetHeader("Warning"); h != nil {
		e.Warning = warningText(h.Value())
	}
	return e
}

package attacker

import (
	"context"
	"fmt"
	"io"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// Injection records a request the attacker injected into a session and
// what the server answered.
type Injection struct {
	Time time.Time
	// Method, From, To, CallID and Body describe the forged request.
	Method, From, To, CallID, Body string
	// Status, Reason and Warning are the server's final answer (Warning
	// carries the lab servers' refusal reason); Status is 0 when no answer
	// came.
	Status          int
	Reason, Warning string
	// Err says why no answer came; "" when one did.
	Err string
}

// Inject writes req, a request the attacker forged (see ForgedMessage),
// to the server side of session id, between two of the victim's messages,
// and waits for the server's final answer, which is kept from the victim.
// The server sees it on the connection the attacker holds: over TLS it
// accepted from the attacker, registered as the victim if the victim
// registered on it. The proxy must relay SIP (ProxyConfig.SIP).
//
// It fails with ErrNoSession when the session does not exist, made no
// upstream connection, has ended, or has carried no SIP message the
// attacker could read (a passthrough relay of TLS); otherwise the Injection says what
// happened, including a timeout when ctx ended first.
func (p *Proxy) Inject(ctx context.Context, id int, req *sipgo.Request) (Injection, error) {
	in := Injection{Time: p.now(), Method: string(req.Method), CallID: "", Body: string(req.Body())}
	if h := req.From(); h != nil {
		in.From = address(h.Address)
	}
	if h := req.To(); h != nil {
		in.To = address(h.Address)
	}
	if h := req.CallID(); h != nil {
		in.CallID = h.Value()
	}
	s := p.session(id)
	if s == nil || !s.sip {
		return in, fmt.Errorf("%w: session %d (the proxy must relay SIP)", ErrNoSession, id)
	}
	branch := branchOf(req)
	if branch == "" {
		return in, fmt.Errorf("attacker: injected request has no Via branch")
	}
	ch := make(chan *sipgo.Response, 1)
	s.mu.Lock()
	up := s.up
	switch {
	case up == nil || s.ended:
		s.mu.Unlock()
		return in, fmt.Errorf("%w: session %d has no open upstream connection", ErrNoSession, id)
	case !s.sipSeen:
		s.mu.Unlock()
		return in, fmt.Errorf("%w: session %d carries no SIP the attacker can read", ErrNoSession, id)
	}
	s.pending[branch] = ch
	s.rec.Messages = append(s.rec.Messages, describeSIP(req, true, true))
	s.mu.Unlock()

	s.upMu.Lock()
	_, err := io.WriteString(up, req.String())
	s.upMu.Unlock()
	if err == nil {
		select {
		case res, ok := <-ch:
			if !ok {
				err = fmt.Errorf("session %d ended before the server answered", id)
				break
			}
			in.Status, in.Reason = res.StatusCode, res.Reason
			if h := res.GetHeader("Warning"); h != nil {
				in.Warning = warningText(h.Value())
			}
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
	}
	s.mu.Lock()
	delete(s.pending, branch)
	if err != nil {
		in.Err = err.Error()
	}
	s.rec.Injections = append(s.rec.Injections, in)
	s.mu.Unlock()
	return in, nil
}

// warningText extracts the quoted text of a Warning header value
// (`399 fe01.contoso.com "reason"`); the raw value when it has no quotes.
func warningText(v string) string {
	start, end := -1, -1
	for i := range len(v) {
		if v[i] == '"' {
			if start < 0 {
				start = i
			}
			end = i
		}
	}
	if start < 0 || end <= start {
		return v
	}
	return v[start+1 : end]
}

package attacker

import (
	"bytes"

	sipgo "github.com/emiago/sipgo/sip"
)

// maxSIPHeader is the longest header section the framer waits for before
// deciding the stream is not SIP.
const maxSIPHeader = 64 << 10

// sipFramer splits a byte stream into whole SIP messages (RFC 3261 §18.3:
// headers, then Content-Length bytes of body) without changing a byte, so
// a relay can forward them one by one and slip its own messages between
// them. A stream that turns out not to be SIP switches it to raw mode, in
// which it hands back whatever it holds. Not safe for concurrent use.
type sipFramer struct {
	buf    []byte
	raw    bool
	parser *sipgo.Parser
}

func newSIPFramer() *sipFramer { return &sipFramer{parser: sipgo.NewParser()} }

func (f *sipFramer) feed(p []byte) { f.buf = append(f.buf, p...) }

// next returns the next whole message's bytes and its parsed form; msg is
// nil for CRLF keep-alives and in raw mode. ok is false when more bytes
// are needed.
func (f *sipFramer) next() (raw []byte, msg sipgo.Message, ok bool) {
	if len(f.buf) == 0 {
		return nil, nil, false
	}
	if f.raw {
		return f.take(len(f.buf)), nil, true
	}
	if n := leadingCRLF(f.buf); n > 0 {
		return f.take(n), nil, true
	}
	if c := f.buf[0]; c < 'A' || c > 'Z' { // methods and "SIP/2.0" are upper case; a TLS record is not
		f.raw = true
		return f.next()
	}
	end := bytes.Index(f.buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(f.buf) > maxSIPHeader {
			f.raw = true
			return f.next()
		}
		return nil, nil, false
	}
	hdrEnd := end + 4
	head, _, err := f.parser.ParseHeaders(f.buf[:hdrEnd], true)
	if err != nil {
		f.raw = true
		return f.next()
	}
	total := hdrEnd
	if cl := head.ContentLength(); cl != nil {
		total += int(*cl)
	}
	if len(f.buf) < total {
		return nil, nil, false
	}
	m, err := f.parser.ParseSIP(f.buf[:total])
	if err != nil {
		f.raw = true
		return f.next()
	}
	return f.take(total), m, true
}

// take removes and returns a copy of the first n buffered bytes.
func (f *sipFramer) take(n int) []byte {
	out := bytes.Clone(f.buf[:n])
	f.buf = f.buf[n:]
	if len(f.buf) == 0 {
		f.buf = nil
	}
	return out
}

func leadingCRLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

// SIPMessage is one SIP message a proxy relayed, injected or swallowed.
type SIPMessage struct {
	// FromVictim is the direction: true for victim to server.
	FromVictim bool
	// Injected marks a request the attacker wrote itself, and the answer
	// it intercepted for it (never shown to the victim).
	Injected bool
	// Method is the request method, or the CSeq method of a response.
	Method string
	// Status and Reason are set for responses.
	Status int
	Reason string
	// From and To are addresses, "alice@contoso.com".
	From, To string
	CallID   string
}

func describeSIP(m sipgo.Message, fromVictim, injected bool) SIPMessage {
	s := SIPMessage{FromVictim: fromVictim, Injected: injected}
	switch m := m.(type) {
	case *sipgo.Request:
		s.Method = string(m.Method)
	case *sipgo.Response:
		s.Status, s.Reason = m.StatusCode, m.Reason
		if c := m.CSeq(); c != nil {
			s.Method = string(c.MethodName)
		}
	}
	if h := m.From(); h != nil {
		s.From = address(h.Address)
	}
	if h := m.To(); h != nil {
		s.To = address(h.Address)
	}
	if h := m.CallID(); h != nil {
		s.CallID = h.Value()
	}
	return s
}

func address(u sipgo.Uri) string {
	if u.User == "" {
		return u.Host
	}
	return u.User + "@" + u.Host
}

// branchOf is the branch parameter of a message's topmost Via.
func branchOf(m sipgo.Message) string {
	if v := m.Via(); v != nil {
		b, _ := v.Params.Get("branch")
		return b
	}
	return ""
}

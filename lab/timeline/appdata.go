package timeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// appStream reads one direction's decrypted application data as a stream
// of SIP messages, with sipgo's stream parser (Content-Length frames each
// message, RFC 3261 §18.3).
type appStream struct {
	parser *sip.ParserStream
	done   bool // the data was not SIP, or a message did not parse: read no further
}

// sipParser is shared by every stream: a sip.Parser is read-only once made.
var sipParser = sip.NewParser()

// applicationData reads decrypted application data of the direction and
// reports each complete SIP message in it as an Application event at the
// time of the record that completed it: the request line (with the first
// line of the body, where the canary of an instant message travels) or
// the status line. Data that is not SIP is reported once, by size, and
// not read further.
func (w wireCtx) applicationData(content []byte) {
	s := &w.c.dirs[w.dir].tls.v13
	s.dataSeen = true
	if s.app == nil {
		s.app = &appStream{parser: sipParser.NewSIPStream()}
	}
	a := s.app
	if a.done || len(content) == 0 {
		return
	}
	to := w.to
	err := a.parser.ParseSIPStream(content, func(m sip.Message) {
		line := describeSIP(m)
		w.emit(Application, func(n *namer) string { return line + " (decrypted) -> " + n.addrPort(to) })
	})
	if err == nil || errors.Is(err, sip.ErrParseSipPartial) {
		return
	}
	a.done = true
	a.parser.Close()
	size := len(content)
	w.emit(Application, func(n *namer) string {
		return fmt.Sprintf("TLS application data (decrypted) -> %s: %d bytes that are not SIP", n.addrPort(to), size)
	})
}

// closeApp releases the direction's SIP parser.
func (s *tls13Dir) closeApp() {
	if s.app != nil && !s.app.done {
		s.app.done = true
		s.app.parser.Close()
	}
}

// describeSIP is "SIP MESSAGE sip:dave@contoso.com: \"body's first
// line\"" for a request, "SIP 200 OK" for a response.
func describeSIP(m sip.Message) string {
	switch m := m.(type) {
	case *sip.Request:
		s := "SIP " + m.StartLine()
		s = strings.TrimSuffix(s, " SIP/2.0")
		if body := m.Body(); len(body) > 0 {
			s += ": " + firstLine(body)
		}
		return s
	case *sip.Response:
		return "SIP " + strings.TrimPrefix(m.StartLine(), "SIP/2.0 ")
	}
	return "SIP message"
}

package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// DefaultTimeout bounds one exchange (dial, handshake, request and answer)
// and a server connection's idle time when a config's Timeout is zero.
const DefaultTimeout = 10 * time.Second

// readChunk is how much msgConn reads from its conn at a time.
const readChunk = 4096

// msgConn frames SIP messages on a stream connection (RFC 3261 §18.3): each
// message ends after its headers plus Content-Length bytes of body. Parsing
// is sipgo's stream parser; msgConn only feeds it bytes. It is not safe for
// concurrent use: one goroutine reads, and writes happen between reads.
type msgConn struct {
	conn   net.Conn
	stream *sipgo.ParserStream
	buf    []byte
	// inMessage is set once a byte other than CR or LF (keep-alives,
	// RFC 5626) has arrived since the last complete message.
	inMessage bool
}

func newMsgConn(conn net.Conn) *msgConn {
	m := &msgConn{conn: conn, stream: sipgo.NewParser().NewSIPStream(), buf: make([]byte, readChunk)}
	m.stream.Buffer() // allocate it, so an empty stream reads as "between messages"
	return m
}

// read returns the next complete message. It returns io.EOF when the peer
// closed between messages, io.ErrUnexpectedEOF when it closed inside one,
// a *parseError for bytes that are not SIP, and the conn's error otherwise.
func (m *msgConn) read() (sipgo.Message, error) {
	for {
		// sipgo reports io.EOF for an empty buffer between messages and
		// io.ErrUnexpectedEOF inside one; both mean "read more".
		msg, _, err := m.stream.ParseNext()
		if err == nil {
			m.inMessage = !onlyCRLF(m.stream.Buffer().Bytes())
			return msg, nil
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, &parseError{err: err}
		}
		n, rerr := m.conn.Read(m.buf)
		if n > 0 {
			m.inMessage = m.inMessage || !onlyCRLF(m.buf[:n])
			_, _ = m.stream.Write(m.buf[:n])
			continue // parse what arrived before looking at rerr
		}
		switch {
		case rerr == nil:
			continue
		case errors.Is(rerr, io.EOF) && m.inMessage:
			return nil, io.ErrUnexpectedEOF
		}
		return nil, rerr
	}
}

// onlyCRLF reports whether b holds nothing but CR and LF bytes.
func onlyCRLF(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// write sends one message in a single Write.
func (m *msgConn) write(msg sipgo.Message) error {
	_, err := io.WriteString(m.conn, msg.String())
	return err
}

// close releases the parser's buffer; it does not close the conn.
func (m *msgConn) close() { m.stream.Close() }

// parseError is a byte stream that sipgo's parser rejected.
type parseError struct{ err error }

func (e *parseError) Error() string { return "malformed SIP message: " + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// clock returns now, or time.Now when now is nil.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// timeoutOr returns d, or DefaultTimeout when d is not positive.
func timeoutOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// watch binds a conn to a context: the conn is closed as soon as ctx ends,
// so blocked reads and writes return at once.
type watch struct {
	ctx    context.Context
	fired  atomic.Bool
	closed chan struct{} // closed once the callback has closed the conn
	stopFn func() bool
}

func newWatch(ctx context.Context, conn net.Conn) *watch {
	w := &watch{ctx: ctx, closed: make(chan struct{})}
	w.stopFn = context.AfterFunc(ctx, func() {
		defer close(w.closed)
		w.fired.Store(true)
		conn.Close()
	})
	return w
}

// stop ends the watch. When ctx already ended, it waits for the callback
// to finish, so no goroutine of the watch outlives it.
func (w *watch) stop() {
	if !w.stopFn() {
		<-w.closed
	}
}

// cause returns err, or ctx's cause when ctx ended and closed the conn (a
// closed conn reports "use of closed network connection", which hides why).
func (w *watch) cause(err error) error {
	if w.fired.Load() {
		return context.Cause(w.ctx)
	}
	return err
}

// quietEnd reports whether err is a connection ending in an ordinary way
// (peer closed, idle timeout, our own close) rather than something worth a
// Rejection.
func quietEnd(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// warningText extracts the quoted text of a Warning header value
// (`399 fe01.contoso.com "reason"`); the raw value when it has no quotes.
func warningText(value string) string {
	start := strings.IndexByte(value, '"')
	end := strings.LastIndexByte(value, '"')
	if start < 0 || end <= start {
		return value
	}
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(value[start+1 : end])
}

// warningValue formats a Warning header value (RFC 3261 §20.43) with code
// 399 (miscellaneous warning) from agent.
func warningValue(agent, text string) string {
	text = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", " ", "\n", " ").Replace(text)
	return fmt.Sprintf("399 %s \"%s\"", agent, text)
}

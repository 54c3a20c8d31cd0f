package netsim

import (
	"errors"
	"io"
	"net"
	"sync"
)

// relay is one connection a Bridge carries: in, the connection it accepted,
// and out, the one it dialed for it.
type relay struct {
	in net.Conn

	mu    sync.Mutex
	out   net.Conn // nil until the dial succeeds
	ended bool
}

// serve dials the other side for r, copies both ways until both directions
// have ended, and ends the relay: with Close when both ended with a FIN,
// with a reset otherwise.
func (b *Bridge) serve(r *relay) {
	defer b.wg.Done()
	defer b.remove(r)
	out, err := b.dial(b.ctx, r.in)
	if err != nil {
		// A dial that answered the client itself (a CONNECT front's
		// HTTP error) ends with a FIN, so the answer is read.
		r.end(errors.Is(err, errAnswered))
		return
	}
	if !r.attach(out) {
		resetConn(out)
		return
	}
	var wg sync.WaitGroup
	var inDone bool
	wg.Go(func() { inDone = r.pump(out, r.in) })
	outDone := r.pump(r.in, out)
	wg.Wait()
	r.end(inDone && outDone)
}

// attach records the dialed connection; false means the relay has already
// been reset.
func (r *relay) attach(out net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return false
	}
	r.out = out
	return true
}

// pump copies src to dst until src ends. When src ends with a FIN (Read
// returns io.EOF), dst is half-closed with CloseWrite and pump reports true.
// Any other end of src, or a failed write to dst, resets the relay and pump
// reports false.
func (r *relay) pump(dst, src net.Conn) bool {
	if _, err := io.Copy(dst, src); err != nil {
		r.end(false)
		return false
	}
	if err := closeWrite(dst); err != nil {
		r.end(false)
		return false
	}
	return true
}

// end closes both connections once: with Close when clean, else with a
// reset, so that each peer sees the other's end as it happened.
func (r *relay) end(clean bool) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	in, out := r.in, r.out
	r.mu.Unlock()
	for _, c := range []net.Conn{in, out} {
		switch {
		case c == nil:
		case clean:
			c.Close()
		default:
			resetConn(c)
		}
	}
}

// closeWrite half-closes c: a FIN, and the peer reads io.EOF.
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// resetConn closes c with a RST: Abort for a netsim Conn, SO_LINGER 0 and
// Close for a real TCP connection.
func resetConn(c net.Conn) {
	switch c := c.(type) {
	case *Conn:
		c.Abort()
	case *net.TCPConn:
		c.SetLinger(0)
		c.Close()
	default:
		c.Close()
	}
}

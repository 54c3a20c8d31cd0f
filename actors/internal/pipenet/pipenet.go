package pipenet

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Listener hands the server end of each Dial to Accept. It is safe for
// concurrent use. The zero value is not usable; call Listen.
type Listener struct {
	addr    Addr
	conns   chan net.Conn
	closed  chan struct{}
	closeMu sync.Once
	dials   atomic.Int64
}

var _ net.Listener = (*Listener)(nil)

// Listen returns a listener whose Addr is name.
func Listen(name string) *Listener {
	return &Listener{addr: Addr(name), conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next Dial. After Close it returns an error wrapping
// net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, &net.OpError{Op: "accept", Net: "pipe", Addr: l.addr, Err: net.ErrClosed}
	}
}

// Dial connects to the listener and returns the client end, whose
// LocalAddr is "client-N" (N counting from 1). It waits until Accept takes
// the server end, ctx ends, or the listener is closed.
func (l *Listener) Dial(ctx context.Context) (net.Conn, error) {
	client, server := Pipe(fmt.Sprintf("client-%d", l.dials.Add(1)), string(l.addr))
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		client.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: l.addr, Err: net.ErrClosed}
	case <-ctx.Done():
		client.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: l.addr, Err: ctx.Err()}
	}
}

// Close stops Accept and Dial; established connections are unaffected.
func (l *Listener) Close() error {
	l.closeMu.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the name given to Listen.
func (l *Listener) Addr() net.Addr { return l.addr }

// Addr is a pipenet address: just a name.
type Addr string

func (a Addr) Network() string { return "pipe" }
func (a Addr) String() string  { return string(a) }

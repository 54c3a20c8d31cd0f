package pipenet

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Pipe returns the two ends of a buffered in-memory connection. a's
// LocalAddr is aAddr and its RemoteAddr bAddr, and the other way round for b.
// Both ends are safe for concurrent use.
func Pipe(aAddr, bAddr string) (a, b net.Conn) {
	ab, ba := newQueue(), newQueue()
	a = &Conn{in: ba, out: ab, local: Addr(aAddr), remote: Addr(bAddr), rd: newDeadline(), wd: newDeadline()}
	b = &Conn{in: ab, out: ba, local: Addr(bAddr), remote: Addr(aAddr), rd: newDeadline(), wd: newDeadline()}
	return a, b
}

// Conn is one end of a Pipe.
type Conn struct {
	in, out       *queue
	local, remote Addr
	rd, wd        *deadline
	closeOnce     sync.Once
}

var _ net.Conn = (*Conn)(nil)

// Read reads buffered bytes, waiting for some if none are buffered. It
// returns io.EOF once the peer has closed and the buffer is drained,
// net.ErrClosed after Close, and os.ErrDeadlineExceeded after the read
// deadline.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		c.in.mu.Lock()
		switch {
		case c.in.readerClosed:
			c.in.mu.Unlock()
			return 0, c.opErr("read", net.ErrClosed)
		case len(c.in.buf) > 0:
			n := copy(p, c.in.buf)
			c.in.buf = c.in.buf[n:]
			c.in.mu.Unlock()
			return n, nil
		case c.in.writerClosed:
			c.in.mu.Unlock()
			return 0, io.EOF
		}
		wake := c.in.wake
		c.in.mu.Unlock()
		select {
		case <-wake:
		case <-c.rd.wait():
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
	}
}

// Write buffers p for the peer; it never waits for the peer to read. It
// fails with net.ErrClosed after Close, io.ErrClosedPipe once the peer has
// closed, and os.ErrDeadlineExceeded after the write deadline.
func (c *Conn) Write(p []byte) (int, error) {
	select {
	case <-c.wd.wait():
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	default:
	}
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	switch {
	case c.out.writerClosed:
		return 0, c.opErr("write", net.ErrClosed)
	case c.out.readerClosed:
		return 0, c.opErr("write", io.ErrClosedPipe)
	}
	c.out.buf = append(c.out.buf, p...)
	c.out.signal()
	return len(p), nil
}

// Close closes this end: the peer reads EOF after draining what was written,
// and its writes fail. Close is idempotent.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.out.closeWriter()
		c.in.closeReader()
	})
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return c.local }
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}
func (c *Conn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "pipe", Source: c.local, Addr: c.remote, Err: err}
}

// queue is one direction of a Pipe.
type queue struct {
	mu           sync.Mutex
	buf          []byte
	writerClosed bool
	readerClosed bool
	wake         chan struct{} // closed and replaced on every change
}

func newQueue() *queue { return &queue{wake: make(chan struct{})} }

// signal wakes waiting readers; mu must be held.
func (q *queue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *queue) closeWriter() {
	q.mu.Lock()
	q.writerClosed = true
	q.signal()
	q.mu.Unlock()
}

func (q *queue) closeReader() {
	q.mu.Lock()
	q.readerClosed = true
	q.buf = nil
	q.signal()
	q.mu.Unlock()
}

// deadline is a settable point in time with a channel closed when it passes.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
}

func newDeadline() *deadline { return &deadline{cancel: make(chan struct{})} }

// set arms the deadline at t; a zero t disarms it, a past t fires it now.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired; wait for it to close cancel
	}
	d.timer = nil
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if !closed {
			close(d.cancel)
		}
		return
	}
	if closed {
		d.cancel = make(chan struct{})
	}
	cancel := d.cancel
	d.timer = time.AfterFunc(dur, func() { close(cancel) })
}

// wait returns a channel closed when the deadline passes.
func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

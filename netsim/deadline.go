package netsim

import (
	"sync"
	"time"
)

// deadline is a settable point in time exposed as a channel that is closed
// once the time has passed, in the manner of net.Pipe's deadlines. The zero
// deadline never expires. It is safe for concurrent use.
type deadline struct {
	clock Clock

	mu     sync.Mutex
	timer  Timer
	expire chan struct{} // closed when the deadline passes
}

func newDeadline(clock Clock) *deadline {
	return &deadline{clock: clock, expire: make(chan struct{})}
}

// set arms the deadline at t; the zero time disarms it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.expire // the timer fired: wait until it has closed the channel
	}
	d.timer = nil
	expired := isClosed(d.expire)
	if t.IsZero() {
		if expired {
			d.expire = make(chan struct{})
		}
		return
	}
	wait := t.Sub(d.clock.Now())
	if wait <= 0 {
		if !expired {
			close(d.expire)
		}
		return
	}
	if expired {
		d.expire = make(chan struct{})
	}
	ch := d.expire
	d.timer = d.clock.AfterFunc(wait, func() { close(ch) })
}

// done returns a channel closed when the deadline has passed.
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expire
}

// stop releases the timer, if any, without expiring the deadline. A timer
// that already fired is waited for until its callback has closed the
// channel, as in set: otherwise a later set could reuse the channel and
// the late callback would close it a second time.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		if !d.timer.Stop() {
			<-d.expire
		}
		d.timer = nil
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

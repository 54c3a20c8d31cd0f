package netsim

import (
	"sync"
	"testing"
	"time"
)

// manualClock runs timer callbacks only when the test says so.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	mu             sync.Mutex
	f              func()
	fired, stopped bool
}

func (c *manualClock) Now() time.Time { return c.now }

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{f: f}
	c.timers = append(c.timers, t)
	return t
}

func (c *manualClock) timer(i int) *manualTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= len(c.timers) {
		return nil
	}
	return c.timers[i]
}

func (t *manualTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fired || t.stopped {
		return false
	}
	t.stopped = true
	return true
}

// fire marks the timer expired; run calls its callback, as the clock's
// goroutine would, possibly later.
func (t *manualTimer) fire() { t.mu.Lock(); t.fired = true; t.mu.Unlock() }
func (t *manualTimer) run()  { t.f() }

// A timer that fired but whose callback has not run yet, when the deadline
// is stopped and set again, must not close the new deadline's channel, and
// the new timer's callback must not close a closed channel.
func TestDeadlineStopAfterFireBeforeCallback(t *testing.T) {
	clk := &manualClock{now: time.Unix(1000, 0)}
	d := newDeadline(clk)
	d.set(clk.now.Add(time.Second))
	first := clk.timer(0)
	first.fire() // expired; its callback is still on its way

	reset := make(chan struct{})
	go func() {
		d.stop()
		d.set(clk.now.Add(time.Second))
		close(reset)
	}()
	first.run() // the late callback
	<-reset
	if isClosed(d.done()) {
		t.Fatal("the new deadline expired with the old timer's callback")
	}
	second := clk.timer(1)
	if second == nil {
		t.Fatal("set armed no timer")
	}
	second.fire()
	second.run() // closed a closed channel before stop waited for the first callback
	if !isClosed(d.done()) {
		t.Fatal("the new deadline did not expire with its own timer")
	}
}

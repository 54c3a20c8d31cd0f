package netsim

import "time"

// Clock is the World's single source of time: frame timestamps, link
// latency, deadlines, retransmission and delayed-ACK timers all read it.
//
// The default, SystemClock, uses package time. Inside a testing/synctest
// bubble package time is virtual, so a World created there runs on virtual
// time with no further setting.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless the
	// returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call scheduled by Clock.AfterFunc.
type Timer interface {
	// Stop prevents the call from running and reports whether it did so.
	Stop() bool
}

// SystemClock is the Clock backed by package time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

package linemsg

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one exchange (handshake, request, reply) when a
// config's Timeout is zero.
const DefaultTimeout = 10 * time.Second

// exchangeDeadline is now+timeout. A ctx deadline is not folded in: ctx
// ending closes the conn instead (see watch), so the error names ctx's cause
// rather than a bare i/o timeout.
func exchangeDeadline(now func() time.Time, timeout time.Duration) time.Time {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return now().Add(timeout)
}

// watch binds one exchange on a conn to its context: it sets the conn's
// deadline and closes the conn as soon as ctx ends.
type watch struct {
	ctx    context.Context
	fired  atomic.Bool
	stopFn func() bool
}

func newWatch(ctx context.Context, conn net.Conn, deadline time.Time) *watch {
	_ = conn.SetDeadline(deadline) // a conn that cannot take deadlines is still closed on ctx end
	w := &watch{ctx: ctx}
	w.stopFn = context.AfterFunc(ctx, func() {
		w.fired.Store(true)
		conn.Close()
	})
	return w
}

// stop ends the watch; the conn is no longer closed when ctx ends.
func (w *watch) stop() { w.stopFn() }

// cause returns err, or ctx's cause when ctx ended and closed the conn: such
// a conn reports "use of closed network connection", which hides why.
func (w *watch) cause(err error) error {
	if w.fired.Load() {
		return context.Cause(w.ctx)
	}
	return err
}

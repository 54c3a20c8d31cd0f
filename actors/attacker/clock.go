package attacker

import (
	"context"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// sleep waits d on clock (the World's), or until ctx ends.
func sleep(ctx context.Context, clock netsim.Clock, d time.Duration) error {
	done := make(chan struct{})
	t := clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		if !t.Stop() {
			<-done
		}
		return context.Cause(ctx)
	}
}

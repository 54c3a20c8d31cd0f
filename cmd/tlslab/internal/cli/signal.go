package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tlslab/tlslab/lab"
)

// ExitInterrupted is Run's exit code when its context was canceled by
// something other than a signal; a signal gives 128 + its number (see
// Interrupt), as a shell reports a process the signal killed: 130 for
// SIGINT, 143 for SIGTERM.
const ExitInterrupted = 130

// Interrupt is the cause of a context NotifyContext canceled: the signal
// that arrived.
type Interrupt struct{ Signal os.Signal }

func (i *Interrupt) Error() string { return "interrupted by " + i.Signal.String() }

// ExitCode is 128 + the signal's number.
func (i *Interrupt) ExitCode() int {
	if s, ok := i.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

// NotifyContext returns a copy of parent that is canceled, with an
// *Interrupt as its cause, when the process receives SIGINT or SIGTERM.
// Further signals are caught and ignored, so the run that was going can
// finish closing its files: until stop, a second Ctrl-C does not force an
// exit, which the Runner's deadline and stop grace bound. stop releases
// the signals.
func NotifyContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case sig := <-ch:
				cancel(&Interrupt{Signal: sig})
			case <-quit:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(quit)
		<-done
		cancel(nil)
	}
}

// interruptCode is the exit code for a run whose ctx was canceled.
func interruptCode(ctx context.Context) int {
	var i *Interrupt
	if errors.As(context.Cause(ctx), &i) {
		return i.ExitCode()
	}
	return ExitInterrupted
}

// wasInterrupted reports whether r did not run to its end because ctx was
// canceled: it was not started, or was stopped, by the cancellation.
func wasInterrupted(ctx context.Context, r lab.Result) bool {
	return ctx.Err() != nil && r.Err != nil && errors.Is(r.Err, context.Cause(ctx))
}

// interrupted says on stderr how far an interrupted run got and sets the
// exit code; what is "scenarios" or "cells".
func (st *state) interrupted(ctx context.Context, done, total int, what string) {
	fmt.Fprintf(st.stderr, "tlslab: interrupted after %d of %d %s; no report file or baseline written\n", done, total, what)
	st.code = interruptCode(ctx)
}

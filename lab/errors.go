package lab

import (
	"fmt"
	"time"
)

// TimeoutError reports that a scenario did not finish within its deadline.
// It implements net.Error-style Timeout() so callers can test for it.
type TimeoutError struct {
	Scenario string
	Limit    time.Duration // the deadline the scenario had
	Err      error         // what Run returned after the deadline, or nil
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("lab: scenario %q did not finish within %v", e.Scenario, e.Limit)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout reports true: the error is a timeout.
func (e *TimeoutError) Timeout() bool { return true }

// NotStoppedError reports that Run kept running after its deadline passed and
// its World was closed. Its goroutine is abandoned; anything it records later
// is ignored.
type NotStoppedError struct {
	Scenario string
	Grace    time.Duration // how long the Runner waited after closing the World
	Cause    error         // why the Runner stopped the scenario (usually a *TimeoutError)
}

func (e *NotStoppedError) Error() string {
	return fmt.Sprintf("lab: scenario %q did not stop within %v after its world was closed (%v); its goroutine was abandoned",
		e.Scenario, e.Grace, e.Cause)
}

func (e *NotStoppedError) Unwrap() error { return e.Cause }

// PanicError reports that Run panicked. The panic is contained: the run gets
// an Error verdict and the process carries on.
type PanicError struct {
	Scenario string
	Value    any    // the value passed to panic
	Stack    []byte // the goroutine's stack at the panic, for debugging
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("lab: scenario %q panicked: %v", e.Scenario, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

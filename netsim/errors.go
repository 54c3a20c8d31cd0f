package netsim

import (
	"net"
	"os"
	"syscall"
)

// ConfigError reports a topology that cannot be built: what was being
// configured and what is wrong with it.
type ConfigError struct {
	What    string
	Problem string
}

func (e *ConfigError) Error() string { return "netsim: " + e.What + ": " + e.Problem }

// opError wraps err the way package net does, so messages read like the
// kernel stack's ("read tcp 10.0.0.2:49152->10.0.0.3:443: i/o timeout") and
// errors.Is works with syscall.ECONNREFUSED, os.ErrDeadlineExceeded and
// net.ErrClosed.
func opError(op, network string, local, remote net.Addr, err error) error {
	return &net.OpError{Op: op, Net: network, Source: local, Addr: remote, Err: err}
}

// syscallError names the system call a kernel would have failed in.
func syscallError(call string, errno syscall.Errno) error {
	return os.NewSyscallError(call, errno)
}

// deadlineError is the timeout error of expired deadlines: it implements
// net.Error with Timeout() true and is os.ErrDeadlineExceeded.
var deadlineError error = os.ErrDeadlineExceeded

// callerAddr is an address as the caller wrote it ("10.0.0.1:80", ":53"),
// so that listen errors say where, as package net's do ("listen tcp :80:
// bind: address already in use").
type callerAddr struct{ network, address string }

func (a callerAddr) Network() string { return a.network }
func (a callerAddr) String() string  { return a.address }

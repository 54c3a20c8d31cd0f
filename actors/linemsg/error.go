package linemsg

import (
	"errors"
	"net"
)

// OpError is the error type returned by Client.Send and recorded by Server.
// It names the step that failed and wraps the exact cause, so errors.As and
// errors.Is see through it (to *tls.CertificateVerificationError,
// x509.HostnameError, context.DeadlineExceeded, *ProtocolError, ...).
type OpError struct {
	// Op is the failed step: "accept", "handshake", "write", "read" or
	// "send" (an argument the client refused before touching the wire).
	Op string
	// Addr is the peer's address; nil when unknown.
	Addr net.Addr
	// Err is the cause, never nil.
	Err error
}

func (e *OpError) Error() string {
	s := "linemsg: " + e.Op
	if e.Addr != nil {
		s += " " + e.Addr.String()
	}
	return s + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the cause is a timeout (a deadline expired).
func (e *OpError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

var _ net.Error = (*OpError)(nil)

// Temporary is false: it exists only to satisfy net.Error.
//
// Deprecated: as for net.Error.
func (e *OpError) Temporary() bool { return false }

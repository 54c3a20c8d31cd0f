package sip

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// Error messages come in two layers. The wrappers a caller receives
// (*OpError, *ConnectError, *ConfigError) start with "sip: " and name who
// failed. The causes they wrap are either the standard library's own errors
// (crypto/tls, crypto/x509, net), unchanged, or the policy errors below,
// whose text is the bare reason ("MTLS peer fe99.contoso.com is not in the
// trusted server list") so that a Rejection's Reason reads
// "<node>: <reason>" exactly like the standard library's causes do.

// OpError reports a failed step: a server binding its listeners, a client's
// REGISTER or MESSAGE transaction (writing, reading, or the answer). It wraps the
// exact cause, so errors.As finds *StatusError, *tls.CertificateVerificationError,
// x509.HostnameError, net.Error and so on through it.
type OpError struct {
	// Node is who failed: a user ("alice@contoso.com") or a server's Name
	// ("fe01").
	Node string
	// Op is the step: "listen" or "start" (a server), "REGISTER" or
	// "MESSAGE" (a client's transaction).
	Op string
	// Peer is the listen address, or the server talked to; "" when none.
	Peer string
	// Err is the cause, never nil.
	Err error
}

func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("sip: ")
	b.WriteString(e.Node)
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.Peer != "" {
		b.WriteString(" ")
		b.WriteString(e.Peer)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the cause is a timeout (a deadline expired).
func (e *OpError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary is false: it exists only to satisfy net.Error.
//
// Deprecated: as for net.Error.
func (e *OpError) Temporary() bool { return false }

var _ net.Error = (*OpError)(nil)

// ConnectError reports that a Client found no SIP server it could use: every
// lookup and connection attempt failed (or was refused by policy, such as
// plaintext fallback being off). Attempts lists them in order. Unwrap returns
// every attempt's cause, so errors.As finds, for example, the
// *tls.CertificateVerificationError of a handshake.
type ConnectError struct {
	// User is the client's user, "alice@contoso.com".
	User string
	// Domain is the domain whose servers were looked up.
	Domain string
	// Attempts are the failed lookups and connections, in order.
	Attempts []Attempt
	// Hint says what would have been tried next and why it was not, e.g.
	// that plaintext fallback is off; "" when there is nothing to add.
	Hint string
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	b.WriteString("sip: ")
	b.WriteString(e.User)
	b.WriteString(": no usable SIP server for ")
	b.WriteString(e.Domain)
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.String())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the causes of the failed attempts.
func (e *ConnectError) Unwrap() []error {
	var errs []error
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// HintNoPlaintextFallback is ConnectError.Hint when a client whose TLS
// attempts all failed did not try plaintext SIP because its config forbids
// it (ClientConfig's plaintext fallback off): the TLS-only defense
// refusing to be stripped.
const HintNoPlaintextFallback = "plaintext fallback is off"

// StatusError is a final non-2xx response to a request: the server answered
// but refused or failed. Warning carries the text of the response's Warning
// header, where the lab's servers put the exact reason (for example
// "edge01: partner domain fabrikam.com is not in the federation allow-list").
type StatusError struct {
	Method     string
	StatusCode int
	Reason     string
	Warning    string
}

func (e *StatusError) Error() string {
	s := strconv.Itoa(e.StatusCode) + " " + e.Reason
	if e.Warning != "" {
		s += ": " + e.Warning
	}
	return s
}

// UntrustedPeerError is the trusted server list refusing an MTLS peer: its
// certificate chained to a trusted CA (when chain validation is on) but none
// of its DNS names is a server of the topology. It is returned from the TLS
// VerifyConnection callback, so it is the handshake error itself.
type UntrustedPeerError struct {
	// Identity is the certificate's first DNS name (its subject common name
	// when it has none); "" when the peer presented no certificate.
	Identity string
	// Names are the certificate's DNS names.
	Names []string
}

func (e *UntrustedPeerError) Error() string {
	if e.Identity == "" {
		return "MTLS peer presented no certificate, so it cannot be matched against the trusted server list"
	}
	return "MTLS peer " + e.Identity + " is not in the trusted server list"
}

// PartnerNotAllowedError is the federation allow-list refusing a domain.
// Outbound, Domain is the recipient's domain the Edge will not federate
// with; inbound, Peer is the identity of the partner Edge's certificate,
// none of whose names lies in an allowed domain.
type PartnerNotAllowedError struct {
	Domain string
	Peer   string
}

func (e *PartnerNotAllowedError) Error() string {
	switch {
	case e.Domain != "":
		return "partner domain " + e.Domain + " is not in the federation allow-list"
	case e.Peer != "":
		return "federation peer " + e.Peer + " is not in an allowed partner domain"
	default:
		return "federation peer presented no certificate, so its partner domain is unknown"
	}
}

// SRVTargetError is the "SRV target must be in the partner domain" check
// refusing a federation SRV record that points outside the domain it was
// looked up for: the classic DNS redirection of federation traffic.
type SRVTargetError struct {
	// Record is the SRV name, "_sipfederationtls._tcp.fabrikam.com".
	Record string
	// Target is the host it pointed to, "sip.evil.com".
	Target string
	// Domain is the partner domain, "fabrikam.com".
	Domain string
}

func (e *SRVTargetError) Error() string {
	return "SRV target " + e.Target + " of " + e.Record + " is outside the partner domain " + e.Domain
}

// RoutingError is a server refusing a request it cannot route: an unknown
// recipient, no Edge for federation, a loop. Status is the SIP status the
// server answered with.
type RoutingError struct {
	Status  int
	Problem string
}

func (e *RoutingError) Error() string { return e.Problem }

// ConfigError reports an unusable FrontEndConfig, EdgeConfig or
// ClientConfig: which field and what would be right.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "sip: " + e.Field + ": " + e.Problem }

// ErrServerClosed is returned by Start and Serve on a server already
// closed. It is also the cause of a closed server's internal context.
var ErrServerClosed = errors.New("sip: server closed")

package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	miekg "github.com/miekg/dns"
)

// ErrNoSuchHost is the cause in a *LookupError when the name does not exist
// (NXDOMAIN) or has no record of the type asked for (NODATA), as package net
// reports both.
var ErrNoSuchHost = errors.New("no such host")

// Causes of a *ValidationError; test them with errors.Is. Messages may add
// detail after the sentinel's text (": signed by key tag 4711, ...").
var (
	// ErrNoRRSIG: an RRset of an anchored zone came without a signature by
	// the zone (what an attacker who forges an unsigned answer produces).
	ErrNoRRSIG = errors.New("no RRSIG")
	// ErrBadSignature: the RRset has signatures, but none verifies with a
	// trusted DNSKEY (the data was altered, or signed by a key the resolver
	// does not trust).
	ErrBadSignature = errors.New("RRSIG does not verify")
	// ErrSignatureTime: a signature verifies but the resolver's clock is
	// outside its inception..expiration window.
	ErrSignatureTime = errors.New("RRSIG is outside its validity period")
	// ErrNoTrustedKey: the zone's DNSKEY set could not be tied to a trust
	// anchor (missing, not matching the anchor, or not signed by it).
	ErrNoTrustedKey = errors.New("no trusted DNSKEY")
	// ErrNoDenial: a negative answer (NXDOMAIN or NODATA) for an anchored
	// zone carries no signed NSEC record proving it.
	ErrNoDenial = errors.New("no NSEC proof of nonexistence")
)

// LookupError is the error of a failed lookup or exchange that was not a
// DNSSEC failure: the name asked for and the cause, e.g.
//
//	dns: lookup pool01.contoso.com: no such host
//	dns: lookup pool01.contoso.com: i/o timeout after 3 tries
//	dns: lookup pool01.contoso.com: server answered REFUSED
//	dns: lookup pool01.contoso.com: context canceled
//
// The cause is ErrNoSuchHost, a *TimeoutError, an *RcodeError, the context's
// error, or a transport error from the Network; errors.Is and errors.As see
// through it.
type LookupError struct {
	// Name is the name looked up as the caller wrote it (for SRV lookups,
	// the full "_service._proto.name").
	Name string
	// Err is the cause, never nil.
	Err error
}

func (e *LookupError) Error() string { return "dns: lookup " + e.Name + ": " + e.Err.Error() }

func (e *LookupError) Unwrap() error { return e.Err }

// Timeout reports whether the lookup failed because every try timed out or
// the context's deadline expired.
func (e *LookupError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout() || errors.Is(e.Err, context.DeadlineExceeded)
}

// Temporary is false: it exists only to satisfy net.Error.
//
// Deprecated: as for net.Error.
func (e *LookupError) Temporary() bool { return false }

// NotFound reports whether the name or the record type does not exist; it
// matches net.DNSError.IsNotFound.
func (e *LookupError) NotFound() bool { return errors.Is(e.Err, ErrNoSuchHost) }

var _ net.Error = (*LookupError)(nil)

// TimeoutError is the cause of a lookup in which no server answered any try.
// It is a net.Error with Timeout() true and matches os.ErrDeadlineExceeded.
type TimeoutError struct {
	// Tries is how many queries were sent (retries included, over all
	// servers).
	Tries int
}

func (e *TimeoutError) Error() string {
	if e.Tries == 1 {
		return "i/o timeout after 1 try"
	}
	return fmt.Sprintf("i/o timeout after %d tries", e.Tries)
}

// Timeout is true.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary is true, as for os.ErrDeadlineExceeded.
//
// Deprecated: as for net.Error.
func (e *TimeoutError) Temporary() bool { return true }

// Is makes errors.Is(err, os.ErrDeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// RcodeError is the cause of a lookup the server answered with an error
// code other than NXDOMAIN ("server answered REFUSED", "server answered
// SERVFAIL").
type RcodeError struct {
	// Rcode is the response code, e.g. miekg/dns.RcodeRefused.
	Rcode int
}

func (e *RcodeError) Error() string { return "server answered " + rcodeString(e.Rcode) }

func rcodeString(rcode int) string {
	if s, ok := miekg.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// ValidationError reports an answer that DNSSEC validation rejected: which
// RRset (or, for a negative answer, which name and type) and why, e.g.
//
//	dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG
//	dns: DNSSEC validation failed for pool01.contoso.com A: RRSIG does not verify
//
// Err wraps one of ErrNoRRSIG, ErrBadSignature, ErrSignatureTime,
// ErrNoTrustedKey or ErrNoDenial. (When the DNSKEY set cannot be fetched at
// all, the lookup fails with that *LookupError instead.)
type ValidationError struct {
	// Name is the RRset's owner without the trailing dot.
	Name string
	// Type is the RRset's type, e.g. miekg/dns.TypeA.
	Type uint16
	// Err is the reason, never nil.
	Err error
}

func (e *ValidationError) Error() string {
	return "dns: DNSSEC validation failed for " + e.Name + " " + miekg.Type(e.Type).String() + ": " + e.Err.Error()
}

func (e *ValidationError) Unwrap() error { return e.Err }

// ZoneError reports a zone that cannot be built: bad zone-file text, a
// record outside the zone, conflicting records, or a signing failure.
type ZoneError struct {
	// Origin is the zone's origin without the trailing dot.
	Origin string
	// Err is the cause, e.g. a *miekg/dns.ParseError.
	Err error
}

func (e *ZoneError) Error() string {
	// miekg/dns errors carry their own "dns: " prefix; say it once.
	return "dns: zone " + e.Origin + ": " + strings.TrimPrefix(e.Err.Error(), "dns: ")
}

func (e *ZoneError) Unwrap() error { return e.Err }

// ConfigError reports a Server or Resolver configuration that cannot work.
type ConfigError struct {
	// What is the component, e.g. "resolver" or "server".
	What string
	// Problem says what is wrong and what would be right.
	Problem string
}

func (e *ConfigError) Error() string { return "dns: " + e.What + ": " + e.Problem }

// trimDot returns name without its trailing dot, for messages.
func trimDot(name string) string {
	if len(name) > 1 {
		return strings.TrimSuffix(name, ".")
	}
	return name
}

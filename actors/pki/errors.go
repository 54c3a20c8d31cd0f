package pki

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// RevokedError is returned by Checker when a valid, fresh OCSP response or
// CRL says a certificate of the peer's chain is revoked. Its message names
// the certificate, its serial, when and why it was revoked, and the source:
//
//	pki: certificate "pool01.contoso.com" (serial 0x3f) revoked at 2026-11-26T10:00:00Z, reason keyCompromise (OCSP http://pki.contoso.com/ocsp)
type RevokedError struct {
	// Certificate is the revoked certificate: the leaf or an issuing CA.
	Certificate *x509.Certificate
	RevokedAt   time.Time
	Reason      RevocationReason
	// Method and URL are where the answer came from.
	Method Method
	URL    string
}

func (e *RevokedError) Error() string {
	var serial *big.Int
	if e.Certificate != nil {
		serial = e.Certificate.SerialNumber
	}
	return fmt.Sprintf("pki: certificate %q (serial %s) revoked at %s, reason %s (%s %s)",
		certName(e.Certificate), formatSerial(serial), formatTime(e.RevokedAt), e.Reason, e.Method, e.URL)
}

// RevocationUnavailableError is returned by a hard-fail Checker when no
// query gave a usable answer about a certificate of the peer's chain (and
// is the Err of a soft-fail conclusion Observation). Its message lists each
// failed query in order:
//
//	pki: revocation status of "pool01.contoso.com" unavailable: OCSP http://pki.contoso.com/ocsp: dial tcp 10.0.0.80:80: i/o timeout; CRL http://pki.contoso.com/crl/contoso-issuing.crl: dial tcp 10.0.0.80:80: i/o timeout
//
// or, for a certificate that names nowhere to ask,
//
//	pki: revocation status of "pool01.contoso.com" unavailable: certificate names no OCSP responder or CRL distribution point
type RevocationUnavailableError struct {
	// Certificate is the certificate whose status is unknown.
	Certificate *x509.Certificate
	// Failures are the queries that gave no usable answer, in order (their
	// Status is StatusUnavailable or StatusUnknown). Empty when the
	// certificate names no responder or distribution point.
	Failures []Observation
}

func (e *RevocationUnavailableError) Error() string {
	return fmt.Sprintf("pki: revocation status of %q unavailable: %s", certName(e.Certificate), e.causes())
}

// causes is the part of the message after "unavailable: ".
func (e *RevocationUnavailableError) causes() string {
	if len(e.Failures) == 0 {
		return "certificate names no OCSP responder or CRL distribution point"
	}
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.Method.String() + " " + f.URL + ": " + f.Status.String()
		if f.Err != nil {
			parts[i] = f.Method.String() + " " + f.URL + ": " + f.Err.Error()
		}
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the failures' errors, so errors.Is finds e.g.
// os.ErrDeadlineExceeded or syscall.ECONNREFUSED.
func (e *RevocationUnavailableError) Unwrap() []error {
	errs := make([]error, 0, len(e.Failures))
	for _, f := range e.Failures {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

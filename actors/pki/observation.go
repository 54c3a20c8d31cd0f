package pki

import (
	"crypto/x509"
	"math/big"
	"strconv"
	"sync"
	"time"
)

// Method is how a Checker sought a certificate's revocation status.
type Method int

const (
	// MethodNone marks an Observation that is the Checker's conclusion
	// about a certificate rather than one query.
	MethodNone Method = iota
	// MethodOCSP is an RFC 6960 OCSP request to the responder the
	// certificate names (authority information access).
	MethodOCSP
	// MethodCRL is a download of the RFC 5280 CRL at the distribution point
	// the certificate names.
	MethodCRL
)

// String returns "OCSP", "CRL" or "" for MethodNone.
func (m Method) String() string {
	switch m {
	case MethodNone:
		return ""
	case MethodOCSP:
		return "OCSP"
	case MethodCRL:
		return "CRL"
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// Status is what a query (or the Checker, in a conclusion) learned about a
// certificate.
type Status int

const (
	// StatusUnavailable: no usable answer (unreachable, HTTP error,
	// unparsable, badly signed, stale, or no place to ask).
	StatusUnavailable Status = iota
	// StatusGood: a valid, fresh answer says the certificate is not revoked.
	StatusGood
	// StatusRevoked: a valid, fresh answer says it is revoked.
	StatusRevoked
	// StatusUnknown: a valid OCSP answer says the responder does not know
	// the certificate (RFC 6960 "unknown"); the Checker moves on to the CRL.
	StatusUnknown
)

// String returns "unavailable", "good", "revoked" or "unknown".
func (s Status) String() string {
	switch s {
	case StatusUnavailable:
		return "unavailable"
	case StatusGood:
		return "good"
	case StatusRevoked:
		return "revoked"
	case StatusUnknown:
		return "unknown"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Observation is one thing a Checker saw: the result of one OCSP or CRL
// query (Method set), or its conclusion about a certificate whose status it
// could not obtain (MethodNone, with the Mode that decided what to do). Its
// String is the line scenarios put in evidence.
type Observation struct {
	// Subject names the certificate as messages do: its common name, else
	// its first DNS or IP name.
	Subject string
	// Serial is the certificate's serial number.
	Serial *big.Int
	// Method and URL say where the status was sought; MethodNone and ""
	// for a conclusion.
	Method Method
	URL    string
	// Status is the answer.
	Status Status
	// RevokedAt and Reason are set when Status is StatusRevoked.
	RevokedAt time.Time
	Reason    RevocationReason
	// Err says why Status is StatusUnavailable or StatusUnknown. For a
	// conclusion it is the *RevocationUnavailableError.
	Err error
	// Mode is set on conclusions: soft-fail accepted the certificate,
	// hard-fail rejected it.
	Mode RevocationMode
}

// String renders the observation for people, e.g.
//
//	revocation: OCSP http://pki.contoso.com/ocsp: "pool01.contoso.com" (serial 0x3f) good
//	revocation: "pool01.contoso.com" (serial 0x3f) unavailable, soft-fail accepted: OCSP http://pki.contoso.com/ocsp: dial tcp 10.0.0.80:80: i/o timeout
func (o Observation) String() string {
	who := strconv.Quote(o.Subject) + " (serial " + formatSerial(o.Serial) + ")"
	if o.Method == MethodNone {
		s := "revocation: " + who + " " + o.Status.String()
		switch o.Mode {
		case RevocationSoftFail:
			s += ", soft-fail accepted"
		case RevocationHardFail:
			s += ", hard-fail rejected"
		}
		if ue, ok := o.Err.(*RevocationUnavailableError); ok {
			return s + ": " + ue.causes()
		}
		if o.Err != nil {
			s += ": " + o.Err.Error()
		}
		return s
	}
	s := "revocation: " + o.Method.String() + " " + o.URL + ": " + who + " " + o.Status.String()
	if o.Status == StatusRevoked {
		s += " at " + formatTime(o.RevokedAt) + ", reason " + o.Reason.String()
	}
	if o.Err != nil {
		s += ": " + o.Err.Error()
	}
	return s
}

// ObservationLog collects Observations; its Observe method fits
// Checker.Observe. It is safe for concurrent use; the zero value is empty
// and ready.
type ObservationLog struct {
	mu  sync.Mutex
	obs []Observation
}

// Observe appends o.
func (l *ObservationLog) Observe(o Observation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.obs = append(l.obs, o)
}

// Observations returns a copy of what was observed so far, in order.
func (l *ObservationLog) Observations() []Observation {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Observation(nil), l.obs...)
}

// Strings returns the String of each observation so far, in order.
func (l *ObservationLog) Strings() []string {
	obs := l.Observations()
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = o.String()
	}
	return out
}

// certName names a certificate in messages: its common name, else its first
// DNS name or IP address, else its whole subject.
func certName(c *x509.Certificate) string {
	switch {
	case c == nil:
		return "<nil>"
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	}
	return c.Subject.String()
}

// formatTime renders times in messages: RFC 3339 in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

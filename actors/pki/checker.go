package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RevocationMode is how a Checker treats a certificate whose revocation
// status it cannot obtain. It is ordered by strictness.
type RevocationMode int

const (
	// RevocationOff checks nothing (the zero value).
	RevocationOff RevocationMode = iota
	// RevocationSoftFail rejects certificates known to be revoked and
	// accepts those whose status is unavailable, as most browsers and
	// Windows clients do by default.
	RevocationSoftFail
	// RevocationHardFail also rejects certificates whose status is
	// unavailable.
	RevocationHardFail
)

// String returns "off", "soft-fail" or "hard-fail".
func (m RevocationMode) String() string {
	switch m {
	case RevocationOff:
		return "off"
	case RevocationSoftFail:
		return "soft-fail"
	case RevocationHardFail:
		return "hard-fail"
	}
	return "RevocationMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseRevocationMode is the inverse of RevocationMode.String.
func ParseRevocationMode(s string) (RevocationMode, error) {
	for _, m := range []RevocationMode{RevocationOff, RevocationSoftFail, RevocationHardFail} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("pki: revocation mode %q: want off, soft-fail or hard-fail", s)
}

// DefaultFetchTimeout bounds one OCSP request or CRL download when
// Checker.Timeout is zero.
const DefaultFetchTimeout = 5 * time.Second

// maxCRLSize bounds a CRL download.
const maxCRLSize = 16 << 20

// Checker checks the revocation status of a verified TLS peer chain, as
// crypto/tls does not: use its VerifyConnection method as
// tls.Config.VerifyConnection, on clients and on MTLS servers.
//
// For every certificate of the chain but the root it asks, in order, each
// OCSP responder the certificate names, then each CRL distribution point,
// until one gives a usable answer: an OCSP response or CRL signed by the
// certificate's issuer (or, for OCSP, by a responder certificate the issuer
// issued with id-kp-OCSPSigning, valid at Now), fresh at Now
// (thisUpdate <= Now <= nextUpdate), and for OCSP about this serial with
// status good or revoked. A revoked certificate is rejected with
// *RevokedError in every mode but off. A certificate without a usable
// answer is accepted under soft-fail and rejected under hard-fail with
// *RevocationUnavailableError. Each query and each such conclusion is
// reported as an Observation.
//
// The fields are read, never written, by the checks; a Checker may be
// shared by concurrent handshakes once set up. A nil *Checker checks
// nothing.
type Checker struct {
	// Mode is what to do when a status is unavailable; the zero value,
	// RevocationOff, makes the Checker do nothing at all.
	Mode RevocationMode
	// Dial opens the connection for one query, with network "tcp" and the
	// address "host:port" of the URL (port 80 when the URL has none). It
	// resolves the name (through the DNS actor, or a fixed map) and dials
	// inside the simulation, e.g. with netsim Host.DialContext. The Checker
	// speaks HTTP/1.1 over it, one connection per query, and closes it. Dial
	// errors are reported unchanged ("dial tcp 10.0.0.80:80: i/o timeout").
	// Used when Client is nil.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Client, when non-nil, performs the queries instead of Dial; its
	// errors are reported without the *url.Error prefix. With neither
	// Client nor Dial every query fails: the Checker never opens real
	// sockets on its own.
	Client *http.Client
	// Now is the clock freshness and validity are judged against, like
	// tls.Config.Time: normally the World's clock, possibly set by the
	// scenario. Nil means time.Now.
	Now func() time.Time
	// Timeout bounds each query, dial included; zero means
	// DefaultFetchTimeout. It runs on package time (the netsim World's
	// SystemClock, virtual inside a testing/synctest bubble), not on Now.
	Timeout time.Duration
	// Observe, when non-nil, receives each Observation VerifyConnection
	// makes, in order, on the handshake's goroutine. It must be safe for
	// concurrent use if the Checker is shared by concurrent handshakes.
	Observe func(Observation)
}

// VerifyConnection checks cs.VerifiedChains[0] as described on Checker. It
// has the signature of tls.Config.VerifyConnection; crypto/tls aborts the
// handshake with a bad_certificate alert when it returns an error, and the
// local Handshake returns that error unchanged. Without verified chains
// (InsecureSkipVerify, or a server that got no client certificate) there is
// nothing to check and it returns nil.
func (c *Checker) VerifyConnection(cs tls.ConnectionState) error {
	if c == nil || c.Mode == RevocationOff || len(cs.VerifiedChains) == 0 {
		return nil
	}
	obs, err := c.Check(context.Background(), cs.VerifiedChains[0])
	if c.Observe != nil {
		for _, o := range obs {
			c.Observe(o)
		}
	}
	return err
}

// Check checks chain, ordered leaf first and ending with the trust anchor
// (as in tls.ConnectionState.VerifiedChains), and returns what it observed.
// The error is a *RevokedError (the first revoked certificate, checking
// leaf first), a *RevocationUnavailableError (hard-fail only: the first
// certificate without a usable answer), or an error for an invalid Mode.
// ctx bounds all queries together; Timeout bounds each.
func (c *Checker) Check(ctx context.Context, chain []*x509.Certificate) ([]Observation, error) {
	if c == nil || c.Mode == RevocationOff {
		return nil, nil
	}
	if c.Mode != RevocationSoftFail && c.Mode != RevocationHardFail {
		return nil, fmt.Errorf("pki: Checker.Mode is %v; want RevocationOff, RevocationSoftFail or RevocationHardFail", c.Mode)
	}
	var obs []Observation
	var unavailable error
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		err := c.checkCert(ctx, cert, issuer, &obs)
		if err == nil {
			continue
		}
		ue, ok := err.(*RevocationUnavailableError)
		if !ok {
			return obs, err // revoked
		}
		obs = append(obs, Observation{
			Subject: certName(cert), Serial: cert.SerialNumber,
			Status: StatusUnavailable, Err: ue, Mode: c.Mode,
		})
		if c.Mode == RevocationHardFail && unavailable == nil {
			unavailable = ue
		}
	}
	return obs, unavailable
}

// checkCert asks cert's responders, then its distribution points, until one
// answers good (nil) or revoked (*RevokedError). Otherwise it returns a
// *RevocationUnavailableError listing the failures.
func (c *Checker) checkCert(ctx context.Context, cert, issuer *x509.Certificate, obs *[]Observation) error {
	ue := &RevocationUnavailableError{Certificate: cert}
	// settle records o and reports whether it decides the status.
	settle := func(o Observation) (decided bool, err error) {
		*obs = append(*obs, o)
		switch o.Status {
		case StatusGood:
			return true, nil
		case StatusRevoked:
			return true, &RevokedError{Certificate: cert, RevokedAt: o.RevokedAt, Reason: o.Reason, Method: o.Method, URL: o.URL}
		}
		ue.Failures = append(ue.Failures, o)
		return false, nil
	}
	for _, u := range cert.OCSPServer {
		if decided, err := settle(c.queryOCSP(ctx, u, cert, issuer)); decided {
			return err
		}
	}
	for _, u := range cert.CRLDistributionPoints {
		if decided, err := settle(c.queryCRL(ctx, u, cert, issuer)); decided {
			return err
		}
	}
	return ue
}

// now is the Checker's clock.
func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultFetchTimeout
}

// observation starts an Observation about cert from a query.
func observation(cert *x509.Certificate, m Method, u string) Observation {
	return Observation{Subject: certName(cert), Serial: cert.SerialNumber, Method: m, URL: u}
}

// checkFresh checks thisUpdate <= now <= nextUpdate; a zero nextUpdate
// means newer information is always available (RFC 6960 section 4.2.2.1).
func checkFresh(what string, thisUpdate, nextUpdate, now time.Time) error {
	if now.Before(thisUpdate) {
		return fmt.Errorf("%s not yet valid: thisUpdate %s is after now %s", what, formatTime(thisUpdate), formatTime(now))
	}
	if !nextUpdate.IsZero() && now.After(nextUpdate) {
		return fmt.Errorf("%s expired: nextUpdate %s is before now %s", what, formatTime(nextUpdate), formatTime(now))
	}
	return nil
}

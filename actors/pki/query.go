package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"
)

// errUnknownCert is the Err of an OCSP "unknown" answer.
var errUnknownCert = errors.New("responder does not know the certificate")

// queryOCSP asks the responder at u about cert, whose issuer is issuer.
func (c *Checker) queryOCSP(ctx context.Context, u string, cert, issuer *x509.Certificate) Observation {
	o := observation(cert, MethodOCSP, u)
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		o.Err = fmt.Errorf("build request: %w", err)
		return o
	}
	body, err := c.fetch(ctx, http.MethodPost, u, ContentTypeOCSPRequest, req, maxOCSPRequest)
	if err != nil {
		o.Err = err
		return o
	}
	// Parsing without the issuer checks only an embedded responder
	// certificate's signature on the response; the issuer's part follows.
	resp, err := ocsp.ParseResponseForCert(body, cert, nil)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			o.Err = &causeError{"responder answered " + re.Status.String(), err}
		} else {
			o.Err = fmt.Errorf("invalid response: %w", err)
		}
		return o
	}
	now := c.now()
	if o.Err = checkOCSPSigner(resp, issuer, now); o.Err != nil {
		return o
	}
	if o.Err = checkFresh("response", resp.ThisUpdate, resp.NextUpdate, now); o.Err != nil {
		return o
	}
	switch resp.Status {
	case ocsp.Good:
		o.Status = StatusGood
	case ocsp.Revoked:
		o.Status, o.RevokedAt, o.Reason = StatusRevoked, resp.RevokedAt.UTC(), RevocationReason(resp.RevocationReason)
	default:
		o.Status, o.Err = StatusUnknown, errUnknownCert
	}
	return o
}

// checkOCSPSigner checks that resp was signed by issuer itself, or by a
// delegated responder whose certificate issuer issued for OCSP signing and
// which is valid at now (RFC 6960 section 4.2.2.2). Without the EKU check
// any certificate of the same CA (a stolen server key) could vouch for its
// siblings.
func checkOCSPSigner(resp *ocsp.Response, issuer *x509.Certificate, now time.Time) error {
	rc := resp.Certificate
	if rc == nil {
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return &causeError{fmt.Sprintf("response not signed by %q: %v", certName(issuer), err), err}
		}
		return nil
	}
	if err := rc.CheckSignatureFrom(issuer); err != nil {
		return &causeError{fmt.Sprintf("responder certificate %q not issued by %q: %v", certName(rc), certName(issuer), err), err}
	}
	if !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("responder certificate %q (serial %s) lacks extended key usage OCSPSigning", certName(rc), formatSerial(rc.SerialNumber))
	}
	if now.Before(rc.NotBefore) || now.After(rc.NotAfter) {
		return fmt.Errorf("responder certificate %q is not valid at %s (valid %s to %s)", certName(rc), formatTime(now), formatTime(rc.NotBefore), formatTime(rc.NotAfter))
	}
	return nil
}

// queryCRL downloads the CRL at u and looks cert up in it.
func (c *Checker) queryCRL(ctx context.Context, u string, cert, issuer *x509.Certificate) Observation {
	o := observation(cert, MethodCRL, u)
	body, err := c.fetch(ctx, http.MethodGet, u, "", nil, maxCRLSize)
	if err != nil {
		o.Err = err
		return o
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		o.Err = fmt.Errorf("invalid CRL: %w", err)
		return o
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		o.Err = fmt.Errorf("CRL issued by %q, not by %q", crl.Issuer.String(), issuer.Subject.String())
		return o
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		o.Err = &causeError{fmt.Sprintf("CRL not signed by %q: %v", certName(issuer), err), err}
		return o
	}
	if o.Err = checkFresh("CRL", crl.ThisUpdate, crl.NextUpdate, c.now()); o.Err != nil {
		return o
	}
	if e, ok := findEntry(crl, cert.SerialNumber); ok {
		o.Status, o.RevokedAt, o.Reason = StatusRevoked, e.RevocationTime.UTC(), RevocationReason(e.ReasonCode)
		return o
	}
	o.Status = StatusGood
	return o
}

func findEntry(crl *x509.RevocationList, serial *big.Int) (x509.RevocationListEntry, bool) {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return e, true
		}
	}
	return x509.RevocationListEntry{}, false
}

// causeError is an error with its own message that still unwraps to the
// error it describes.
type causeError struct {
	msg   string
	cause error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.cause }

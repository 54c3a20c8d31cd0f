package pki

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// RevocationReason is an RFC 5280 CRLReason code; the values match the
// codes on the wire (and golang.org/x/crypto/ocsp's constants).
type RevocationReason int

const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonCACompromise         RevocationReason = 2
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonCertificateHold      RevocationReason = 6
	// 7 is not used.
	ReasonRemoveFromCRL      RevocationReason = 8
	ReasonPrivilegeWithdrawn RevocationReason = 9
	ReasonAACompromise       RevocationReason = 10
)

var reasonNames = map[RevocationReason]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// String returns the RFC 5280 name, e.g. "keyCompromise".
func (r RevocationReason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return "RevocationReason(" + strconv.Itoa(int(r)) + ")"
}

// Revocation is a CA's record that it revoked a certificate.
type Revocation struct {
	Serial *big.Int
	// At is the revocation time, in UTC and whole seconds (the precision of
	// CRLs and OCSP).
	At     time.Time
	Reason RevocationReason
}

// Revoke records that the certificate ca issued with the given serial
// number (an end-entity certificate or an issuing CA) is revoked since at,
// for reason. Zero at means the CA's Now; at is truncated to whole seconds.
// The next CRL the CA signs lists it and its OCSP responses call it revoked
// from then on. Revoking again replaces the time and reason (e.g. a
// certificateHold that turns into keyCompromise).
//
// Revoke fails for a serial the CA did not issue and for
// ReasonRemoveFromCRL, which only delta CRLs use.
func (ca *CA) Revoke(serial *big.Int, reason RevocationReason, at time.Time) error {
	if serial == nil {
		return errors.New("pki: Revoke: serial is nil")
	}
	if _, ok := reasonNames[reason]; !ok || reason == ReasonRemoveFromCRL {
		return fmt.Errorf("pki: Revoke %s: reason %v cannot be used; want e.g. ReasonKeyCompromise", formatSerial(serial), reason)
	}
	if at.IsZero() {
		at = ca.clock()
	}
	at = at.UTC().Truncate(time.Second)
	k := serialKey(serial)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if _, ok := ca.issued[k]; !ok {
		return fmt.Errorf("pki: Revoke: %s did not issue serial %s", ca.name, formatSerial(serial))
	}
	if _, again := ca.revoked[k]; !again {
		ca.order = append(ca.order, k)
	}
	ca.revoked[k] = Revocation{Serial: new(big.Int).Set(serial), At: at, Reason: reason}
	ca.crl = nil // the next CRL call signs a new one
	return nil
}

// Revoked reports whether ca has revoked the certificate with the given
// serial, and how.
func (ca *CA) Revoked(serial *big.Int) (Revocation, bool) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	r, ok := ca.revoked[serialKey(serial)]
	return r, ok
}

// status is what the CA knows about a serial number.
type certStatus int

const (
	statusGood certStatus = iota
	statusRevoked
	statusUnknown // not issued by this CA
)

func (ca *CA) status(serial *big.Int) (certStatus, Revocation) {
	k := serialKey(serial)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if r, ok := ca.revoked[k]; ok {
		return statusRevoked, r
	}
	if _, ok := ca.issued[k]; ok {
		return statusGood, Revocation{}
	}
	return statusUnknown, Revocation{}
}

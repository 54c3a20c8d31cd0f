package pki

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// publishedCRL is the last CRL a CA signed.
type publishedCRL struct {
	der        []byte
	nextUpdate time.Time
}

// CRL returns the CA's current certificate revocation list, DER-encoded and
// signed by the CA, listing every certificate it revoked with time and
// reason.
//
// Like a real CA it publishes periodically rather than per request: a new
// CRL, with the next CRL number (1, 2, ...), thisUpdate at the CA's Now and
// nextUpdate CRLValidity later, is signed only when there is none yet, when
// a certificate was revoked since the last one, or when the CA's clock has
// reached the last one's nextUpdate. Otherwise the last CRL is returned
// again, so a CA whose clock stands still (an offline CA) keeps serving a
// CRL that expires for peers whose clock moves on.
func (ca *CA) CRL() ([]byte, error) {
	now := ca.clock()
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.crl != nil && now.Before(ca.crl.nextUpdate) {
		return ca.crl.der, nil
	}
	entries := make([]x509.RevocationListEntry, 0, len(ca.order))
	for _, k := range ca.order {
		r := ca.revoked[k]
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber:   r.Serial,
			RevocationTime: r.At,
			ReasonCode:     int(r.Reason),
		})
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(ca.crlNumber + 1),
		ThisUpdate:                now,
		NextUpdate:                now.Add(ca.crlValidity),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign CRL of %s: %w", ca.name, err)
	}
	ca.crlNumber++
	ca.crl = &publishedCRL{der: der, nextUpdate: tmpl.NextUpdate}
	return der, nil
}

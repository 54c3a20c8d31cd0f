package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/ocsp"
)

// ocspResponse returns a successful OCSP response about serial, signed by
// the CA itself (no delegated responder): good for a certificate it issued
// and did not revoke, revoked with time and reason, or unknown for a serial
// it never issued. thisUpdate is the CA's Now and nextUpdate OCSPValidity
// later. hash is the hash the request named the issuer with.
//
// producedAt comes from golang.org/x/crypto/ocsp, which reads package time
// (virtual inside a testing/synctest bubble); checkers do not rely on it.
func (ca *CA) ocspResponse(serial *big.Int, hash crypto.Hash) ([]byte, error) {
	now := ca.clock()
	tmpl := ocsp.Response{
		SerialNumber: serial,
		ThisUpdate:   now,
		NextUpdate:   now.Add(ca.ocspValidity),
		IssuerHash:   hash,
	}
	switch st, r := ca.status(serial); st {
	case statusGood:
		tmpl.Status = ocsp.Good
	case statusRevoked:
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = r.At
		tmpl.RevocationReason = int(r.Reason)
	default:
		tmpl.Status = ocsp.Unknown
	}
	der, err := ocsp.CreateResponse(ca.cert, ca.cert, tmpl, ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign OCSP response of %s for %s: %w", ca.name, formatSerial(serial), err)
	}
	return der, nil
}

// isIssuerOf reports whether req's CertID names ca as the issuer (RFC 6960
// section 4.1.1: hashes of the issuer's name and public key).
func (ca *CA) isIssuerOf(req *ocsp.Request) bool {
	nameHash, keyHash, err := issuerHashes(ca.cert, req.HashAlgorithm)
	return err == nil && bytes.Equal(nameHash, req.IssuerNameHash) && bytes.Equal(keyHash, req.IssuerKeyHash)
}

// issuerHashes computes an OCSP CertID's issuerNameHash and issuerKeyHash.
func issuerHashes(issuer *x509.Certificate, h crypto.Hash) (nameHash, keyHash []byte, err error) {
	if !h.Available() {
		return nil, nil, fmt.Errorf("hash %v not available", h)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	hh := h.New()
	hh.Write(issuer.RawSubject)
	nameHash = hh.Sum(nil)
	hh.Reset()
	hh.Write(spki.PublicKey.RightAlign())
	return nameHash, hh.Sum(nil), nil
}

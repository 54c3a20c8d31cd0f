package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strconv"
)

// KeyType is the algorithm and size of an issued certificate's key.
type KeyType int

const (
	// KeyECDSAP256 is ECDSA on NIST P-256 (the zero value).
	KeyECDSAP256 KeyType = iota
	// KeyRSA2048 is a 2048-bit RSA key, for scenarios that need RSA key
	// transport (static-RSA key exchange).
	KeyRSA2048
	// KeyECDSAP384 and KeyECDSAP521 are ECDSA on NIST P-384 and P-521.
	KeyECDSAP384
	KeyECDSAP521
	// KeyEd25519 is an Ed25519 key (RFC 8410).
	KeyEd25519
	// KeyRSA1024 to KeyRSA8192 are RSA keys of that many bits. 1024 is
	// the smallest crypto/rsa generates or crypto/tls accepts (Go 1.24
	// and later); 8192 takes seconds to generate.
	KeyRSA1024
	KeyRSA3072
	KeyRSA4096
	KeyRSA8192
)

// KeyTypes lists every key type, in the order of the constants.
func KeyTypes() []KeyType {
	return []KeyType{KeyECDSAP256, KeyRSA2048, KeyECDSAP384, KeyECDSAP521, KeyEd25519, KeyRSA1024, KeyRSA3072, KeyRSA4096, KeyRSA8192}
}

// RSABits returns the size of an RSA key type, 0 for the others.
func (k KeyType) RSABits() int {
	switch k {
	case KeyRSA1024:
		return 1024
	case KeyRSA2048:
		return 2048
	case KeyRSA3072:
		return 3072
	case KeyRSA4096:
		return 4096
	case KeyRSA8192:
		return 8192
	}
	return 0
}

// curve returns an ECDSA key type's curve, nil for the others.
func (k KeyType) curve() elliptic.Curve {
	switch k {
	case KeyECDSAP256:
		return elliptic.P256()
	case KeyECDSAP384:
		return elliptic.P384()
	case KeyECDSAP521:
		return elliptic.P521()
	}
	return nil
}

// String returns "ECDSA P-256", "RSA 2048", "Ed25519" and so on.
func (k KeyType) String() string {
	if c := k.curve(); c != nil {
		return "ECDSA " + c.Params().Name
	}
	if b := k.RSABits(); b != 0 {
		return "RSA " + strconv.Itoa(b)
	}
	if k == KeyEd25519 {
		return "Ed25519"
	}
	return "KeyType(" + strconv.Itoa(int(k)) + ")"
}

// usage is the key usage a certificate for a key of type k gets by
// default: DigitalSignature, plus KeyEncipherment for RSA (key transport).
func (k KeyType) usage() x509.KeyUsage {
	if k.RSABits() != 0 {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

// GenerateKey makes a new key of type t.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	if c := t.curve(); c != nil {
		return ecdsa.GenerateKey(c, rand.Reader)
	}
	if b := t.RSABits(); b != 0 {
		return rsa.GenerateKey(rand.Reader, b)
	}
	if t == KeyEd25519 {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("pki: KeyType is %v; want one of KeyTypes", t)
}

// requestKey returns req.Key, checked against req.KeyType, or a new key of
// that type, with the key usage its certificate gets.
func requestKey(req CertRequest, cn string) (crypto.Signer, x509.KeyUsage, error) {
	if !slices.Contains(KeyTypes(), req.KeyType) {
		return nil, 0, fmt.Errorf("pki: CertRequest for %q: KeyType is %v; want one of KeyTypes", cn, req.KeyType)
	}
	if req.Key == nil {
		key, err := GenerateKey(req.KeyType)
		if err != nil {
			return nil, 0, fmt.Errorf("pki: generate key for %q: %w", cn, err)
		}
		return key, req.KeyType.usage(), nil
	}
	ok := false
	switch k := req.Key.(type) {
	case *ecdsa.PrivateKey:
		ok = k.Curve == req.KeyType.curve()
	case *rsa.PrivateKey:
		ok = k.N.BitLen() == req.KeyType.RSABits()
	case ed25519.PrivateKey:
		ok = req.KeyType == KeyEd25519
	}
	if !ok {
		return nil, 0, fmt.Errorf("pki: CertRequest for %q: Key is a %T, not a %v key", cn, req.Key, req.KeyType)
	}
	return req.Key, req.KeyType.usage(), nil
}

// SubjectLayout says where an issued certificate carries its names.
type SubjectLayout int

const (
	// SubjectCNAndSAN: the subject's common name is CommonName (or the
	// first name) and every name is a subject alternative name, as the
	// CA/Browser Forum requires (the zero value).
	SubjectCNAndSAN SubjectLayout = iota
	// SubjectNoCN: the names are in the SAN only; the subject keeps the
	// organisation, if any.
	SubjectNoCN
	// SubjectCNOnly: the common name only, no SAN extension, as
	// certificates from before RFC 2818 was enforced did. crypto/x509
	// refuses it for a host name ("x509: certificate relies on legacy
	// Common Name field, use SANs instead").
	SubjectCNOnly
	// SubjectEmpty: an empty subject, the names in a critical SAN
	// extension (RFC 5280 4.2.1.6).
	SubjectEmpty
)

// String returns "cn-and-san", "no-cn", "cn-only" or "empty".
func (l SubjectLayout) String() string {
	switch l {
	case SubjectCNAndSAN:
		return "cn-and-san"
	case SubjectNoCN:
		return "no-cn"
	case SubjectCNOnly:
		return "cn-only"
	case SubjectEmpty:
		return "empty"
	}
	return "SubjectLayout(" + strconv.Itoa(int(l)) + ")"
}

func (l SubjectLayout) subject(cn, org string) pkix.Name {
	var n pkix.Name
	if l == SubjectEmpty {
		return n
	}
	if l != SubjectNoCN {
		n.CommonName = cn
	}
	if org != "" {
		n.Organization = []string{org}
	}
	return n
}

// BasicConstraints is an issued certificate's basic constraints
// extension.
type BasicConstraints int

const (
	// BasicEndEntity: cA FALSE, as for every end-entity certificate (the
	// zero value).
	BasicEndEntity BasicConstraints = iota
	// BasicCA: cA TRUE on an end-entity certificate, a leaf that claims
	// to be a CA. crypto/x509 does not refuse it as a server certificate.
	BasicCA
	// BasicOmitted: no basic constraints extension at all.
	BasicOmitted
)

// String returns "end-entity", "ca" or "none".
func (b BasicConstraints) String() string {
	switch b {
	case BasicEndEntity:
		return "end-entity"
	case BasicCA:
		return "ca"
	case BasicOmitted:
		return "none"
	}
	return "BasicConstraints(" + strconv.Itoa(int(b)) + ")"
}

func (b BasicConstraints) apply(tmpl *x509.Certificate) {
	switch b {
	case BasicEndEntity:
		tmpl.BasicConstraintsValid = true
	case BasicCA:
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	}
}

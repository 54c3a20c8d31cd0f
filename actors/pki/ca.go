package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"
)

// DefaultRootValidity is the lifetime of a root certificate when
// RootConfig.Validity is zero.
const DefaultRootValidity = 10 * 365 * 24 * time.Hour

// RootConfig declares a self-signed root certification authority.
type RootConfig struct {
	// CommonName is the subject (and issuer) common name. Required.
	CommonName string
	// Organization is the subject organisation; empty leaves it out.
	Organization string
	// Now is the CA's notion of the current time: the root is valid from Now
	// to Now+Validity, and it is the default start of every certificate the
	// CA issues. Required; a CA never reads the wall clock.
	Now time.Time
	// Validity is the root's lifetime; zero means DefaultRootValidity.
	Validity time.Duration
	// Rand is the source of serial numbers; nil means crypto/rand.Reader.
	// Reads from it are serialised by the CA, so it need not be safe for
	// concurrent use. See the package doc for key generation.
	Rand io.Reader
}

// CA is a certification authority holding its certificate and private key.
// Its methods are safe for concurrent use. The certificate it returns is
// shared: callers must not modify it.
type CA struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
	now  time.Time

	randMu sync.Mutex // guards rand
	rand   io.Reader
}

// NewRootCA generates a P-256 key and a self-signed root certificate as
// declared by cfg.
func NewRootCA(cfg RootConfig) (*CA, error) {
	if cfg.CommonName == "" {
		return nil, errors.New("pki: RootConfig.CommonName is empty; name the CA, e.g. \"Contoso Root CA\"")
	}
	if cfg.Now.IsZero() {
		return nil, errors.New("pki: RootConfig.Now is zero; set it from the simulation clock")
	}
	validity := cfg.Validity
	if validity == 0 {
		validity = DefaultRootValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("pki: RootConfig.Validity is %v; want a positive duration", validity)
	}
	ca := &CA{now: cfg.Now, rand: cfg.Rand}
	if ca.rand == nil {
		ca.rand = rand.Reader
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate root key: %w", err)
	}
	serial, err := ca.serial()
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: cfg.CommonName}
	if cfg.Organization != "" {
		subject.Organization = []string{cfg.Organization}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             cfg.Now,
		NotAfter:              cfg.Now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create root certificate %q: %w", cfg.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse root certificate %q: %w", cfg.CommonName, err)
	}
	ca.cert, ca.der, ca.key = cert, der, key
	return ca, nil
}

// Certificate returns the CA's own certificate. It is shared; do not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool returns a new pool holding only this CA's certificate, suitable for
// tls.Config.RootCAs or ClientCAs. Each call returns a fresh pool, so the
// caller may add other CAs to it.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// Now returns the time the CA was configured with (RootConfig.Now).
func (ca *CA) Now() time.Time { return ca.now }

// serial returns a random positive 128-bit serial number.
func (ca *CA) serial() (*big.Int, error) {
	var b [16]byte
	ca.randMu.Lock()
	_, err := io.ReadFull(ca.rand, b[:])
	ca.randMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("pki: read serial number: %w", err)
	}
	b[0] &= 0x7f // keep it positive and at most 16 DER bytes
	n := new(big.Int).SetBytes(b[:])
	if n.Sign() == 0 {
		n.SetInt64(1)
	}
	return n, nil
}

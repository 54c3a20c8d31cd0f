package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// DefaultServerValidity is the lifetime of an issued server certificate when
// ServerRequest.NotAfter is zero.
const DefaultServerValidity = 365 * 24 * time.Hour

// ServerRequest declares a TLS server certificate to issue.
type ServerRequest struct {
	// DNSNames are the subject alternative names the certificate is valid
	// for; the first is also the subject common name. At least one DNS name
	// or IP address is required.
	DNSNames []string
	// IPAddresses are IP subject alternative names; optional.
	IPAddresses []netip.Addr
	// Organization is the subject organisation; empty leaves it out.
	Organization string
	// NotBefore is the start of validity; zero means the CA's Now.
	NotBefore time.Time
	// NotAfter is the end of validity; zero means NotBefore plus
	// DefaultServerValidity. It is not clamped to the CA's own validity.
	NotAfter time.Time
}

// IssueServer generates a P-256 key and a certificate for it signed by ca,
// with key usage DigitalSignature and extended key usage serverAuth.
//
// The result carries the chain leaf-then-CA in Certificate, the private key,
// and Leaf set to the parsed leaf, ready for tls.Config.Certificates. The
// request is not retained.
func (ca *CA) IssueServer(req ServerRequest) (tls.Certificate, error) {
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return tls.Certificate{}, errors.New("pki: ServerRequest has no DNSNames or IPAddresses; a server certificate needs at least one name")
	}
	notBefore := req.NotBefore
	if notBefore.IsZero() {
		notBefore = ca.now
	}
	notAfter := req.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(DefaultServerValidity)
	}
	if !notAfter.After(notBefore) {
		return tls.Certificate{}, fmt.Errorf("pki: ServerRequest NotAfter %v is not after NotBefore %v", notAfter, notBefore)
	}

	subject := pkix.Name{}
	if len(req.DNSNames) > 0 {
		subject.CommonName = req.DNSNames[0]
	} else {
		subject.CommonName = req.IPAddresses[0].String()
	}
	if req.Organization != "" {
		subject.Organization = []string{req.Organization}
	}
	ips := make([]net.IP, 0, len(req.IPAddresses))
	for _, a := range req.IPAddresses {
		if !a.IsValid() {
			return tls.Certificate{}, errors.New("pki: ServerRequest.IPAddresses holds an invalid (zero) address")
		}
		ips = append(ips, net.IP(a.Unmap().AsSlice()))
	}
	serial, err := ca.serial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		DNSNames:              append([]string(nil), req.DNSNames...),
		IPAddresses:           ips,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	return ca.issue(tmpl)
}

// issue generates a key for tmpl, signs it with the CA key and returns the
// chain leaf-then-CA.
func (ca *CA) issue(tmpl *x509.Certificate) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: generate key for %q: %w", tmpl.Subject.CommonName, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: parse issued %q: %w", tmpl.Subject.CommonName, err)
	}
	return tls.Certificate{
		Certificate: [][]byte{der, ca.der},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

package attacker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// CertSource chooses the certificate a man in the middle presents to a
// victim whose ClientHello it answers. Implementations must be safe for
// concurrent use.
type CertSource interface {
	// Certificate returns the certificate (chain and private key) to
	// present for hello, as tls.Config.GetCertificate.
	Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error)
	// String describes the source for reports, e.g. "self-signed
	// certificate per SNI".
	String() string
}

// fixed is a CertSource that always presents one certificate.
type fixed struct {
	desc string
	cert tls.Certificate
}

func (f *fixed) Certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &f.cert, nil }
func (f *fixed) String() string                                             { return f.desc }

// FixedCertificate presents cert to every victim; desc is what reports say
// about it. cert must hold its private key.
func FixedCertificate(desc string, cert tls.Certificate) CertSource {
	return &fixed{desc: desc, cert: cert}
}

// OwnCertificate presents a valid certificate the attacker legitimately
// holds for a name of its own (mallory.contoso.com from the enterprise CA):
// it chains to a root the victim trusts but names the wrong host.
func OwnCertificate(cred pki.Credential) CertSource {
	return FixedCertificate(fmt.Sprintf("valid certificate for the attacker's own name %s issued by %s", names(cred), cred.Leaf.Issuer.CommonName), cred.TLS)
}

// StolenCertificate presents the victim server's own certificate with its
// private key, stolen from the server.
func StolenCertificate(cred pki.Credential) CertSource {
	return FixedCertificate(fmt.Sprintf("stolen certificate and key of %s issued by %s", names(cred), cred.Leaf.Issuer.CommonName), cred.TLS)
}

// MisIssuedCertificate has ca, a CA the victim trusts, issue a server
// certificate for names it should never have issued to the attacker (the
// victim server's names), and presents it.
func MisIssuedCertificate(ca *pki.CA, names ...string) (CertSource, error) {
	cred, err := ca.Issue(pki.CertRequest{DNSNames: names})
	if err != nil {
		return nil, fmt.Errorf("attacker: mis-issuing a certificate for %v: %w", names, err)
	}
	return FixedCertificate(fmt.Sprintf("certificate for %s mis-issued by %s", strings.Join(names, ", "), ca.Name()), cred.TLS), nil
}

// ExpiredCertificate has ca issue a certificate for names whose validity
// ended before now (it ran from now-2y to now-1y), and presents it: a
// certificate once legitimately held, long since expired.
func ExpiredCertificate(ca *pki.CA, now time.Time, names ...string) (CertSource, error) {
	return windowed(ca, "expired", now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0), names)
}

// NotYetValidCertificate has ca issue a certificate for names valid only
// from a year after now, and presents it.
func NotYetValidCertificate(ca *pki.CA, now time.Time, names ...string) (CertSource, error) {
	return windowed(ca, "not yet valid", now.AddDate(1, 0, 0), now.AddDate(2, 0, 0), names)
}

func windowed(ca *pki.CA, what string, nb, na time.Time, names []string) (CertSource, error) {
	cred, err := ca.Issue(pki.CertRequest{DNSNames: names, NotBefore: nb, NotAfter: na})
	if err != nil {
		return nil, fmt.Errorf("attacker: issuing an %s certificate for %v: %w", what, names, err)
	}
	return FixedCertificate(fmt.Sprintf("%s certificate for %s issued by %s (valid %s to %s)", what, strings.Join(names, ", "), ca.Name(),
		nb.UTC().Format(time.RFC3339), na.UTC().Format(time.RFC3339)), cred.TLS), nil
}

// WrongEKUCertificate has ca issue a certificate for names with the
// extended key usages ekus instead of serverAuth (nil means clientAuth
// only), and presents it.
func WrongEKUCertificate(ca *pki.CA, ekus []x509.ExtKeyUsage, names ...string) (CertSource, error) {
	if ekus == nil {
		ekus = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	cred, err := ca.Issue(pki.CertRequest{DNSNames: names, ExtKeyUsages: ekus})
	if err != nil {
		return nil, fmt.Errorf("attacker: issuing a wrong-EKU certificate for %v: %w", names, err)
	}
	var usages []string
	for _, u := range ekus {
		usages = append(usages, ekuName(u))
	}
	return FixedCertificate(fmt.Sprintf("certificate for %s issued by %s with extended key usage %s, not serverAuth",
		strings.Join(names, ", "), ca.Name(), strings.Join(usages, ",")), cred.TLS), nil
}

func names(cred pki.Credential) string {
	if len(cred.Leaf.DNSNames) > 0 {
		return strings.Join(cred.Leaf.DNSNames, ", ")
	}
	return cred.Leaf.Subject.CommonName
}

// perName forges one certificate per requested name and caches it.
type perName struct {
	desc     string
	fallback string
	mint     func(name string) (tls.Certificate, error)

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

func (p *perName) String() string { return p.desc }

func (p *perName) Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	if name == "" {
		name = p.fallback
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.cache[name]; c != nil {
		return c, nil
	}
	c, err := p.mint(name)
	if err != nil {
		return nil, fmt.Errorf("attacker: forging a certificate for %s: %w", name, err)
	}
	p.cache[name] = &c
	return &c, nil
}

// ForgedByCA forges, for each server name a victim asks for (its SNI;
// fallback when it sends none), a leaf certificate issued by ca, the
// attacker's own CA, as TLS interception proxies do. The victim accepts it
// only if it trusts ca.
func ForgedByCA(ca *pki.CA, fallback string) CertSource {
	return &perName{
		desc: "certificate forged per SNI by the attacker's CA " + ca.Name(), fallback: fallback, cache: map[string]*tls.Certificate{},
		mint: func(name string) (tls.Certificate, error) {
			cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{name}})
			return cred.TLS, err
		},
	}
}

// SelfSigned forges, for each server name a victim asks for (its SNI;
// fallback when it sends none), a self-signed certificate valid from an
// hour before now() to a year after: the naive man in the middle. now is
// the World's clock.
func SelfSigned(now func() time.Time, fallback string) CertSource {
	var serial int64
	return &perName{
		desc: "self-signed certificate per SNI", fallback: fallback, cache: map[string]*tls.Certificate{},
		mint: func(name string) (tls.Certificate, error) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return tls.Certificate{}, err
			}
			serial++ // under perName.mu
			t := now()
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(serial),
				Subject:      pkix.Name{CommonName: name},
				DNSNames:     []string{name},
				NotBefore:    t.Add(-time.Hour),
				NotAfter:     t.AddDate(1, 0, 0),
				KeyUsage:     x509.KeyUsageDigitalSignature,
				ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				return tls.Certificate{}, err
			}
			leaf, err := x509.ParseCertificate(der)
			if err != nil {
				return tls.Certificate{}, err
			}
			return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
		},
	}
}

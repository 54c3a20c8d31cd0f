package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// DefaultCertValidity is the lifetime of an issued end-entity certificate
// when the request's NotAfter is zero.
const DefaultCertValidity = 365 * 24 * time.Hour

// DefaultServerValidity is DefaultCertValidity, under the name IssueServer's
// callers know it by.
const DefaultServerValidity = DefaultCertValidity

// Purpose selects the extended key usages of an issued certificate, named
// after the RFC 5280 key purposes.
type Purpose int

const (
	// PurposeServer is id-kp-serverAuth: a TLS server (the zero value).
	PurposeServer Purpose = iota
	// PurposeClient is id-kp-clientAuth: a TLS client.
	PurposeClient
	// PurposeServerClient is both, as MTLS peers (Front End, Edge) need.
	PurposeServerClient
)

// String returns "server", "client" or "server+client".
func (p Purpose) String() string {
	switch p {
	case PurposeServer:
		return "server"
	case PurposeClient:
		return "client"
	case PurposeServerClient:
		return "server+client"
	}
	return "Purpose(" + strconv.Itoa(int(p)) + ")"
}

func (p Purpose) extKeyUsages() ([]x509.ExtKeyUsage, error) {
	switch p {
	case PurposeServer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, nil
	case PurposeClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil
	case PurposeServerClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, nil
	}
	return nil, fmt.Errorf("pki: CertRequest.Purpose is %v; want PurposeServer, PurposeClient or PurposeServerClient", p)
}

// CertRequest declares an end-entity certificate to issue.
type CertRequest struct {
	// CommonName is the subject common name; empty means the first DNS
	// name, else the first IP address.
	CommonName string
	// DNSNames are DNS subject alternative names: host FQDNs, pool names,
	// SIP domains. At least one of CommonName, DNSNames and IPAddresses is
	// required.
	DNSNames []string
	// IPAddresses are IP subject alternative names.
	IPAddresses []netip.Addr
	// Organization is the subject organisation; empty leaves it out.
	Organization string
	// Purpose selects the extended key usages; the zero value is
	// PurposeServer.
	Purpose Purpose
	// ExtKeyUsages, when non-nil, replaces the usages Purpose implies,
	// exactly as given: a scenario mints a "wrong EKU" certificate with
	// {x509.ExtKeyUsageCodeSigning}. An empty non-nil slice issues a
	// certificate with no extended key usage extension, which crypto/x509
	// accepts for any purpose.
	ExtKeyUsages []x509.ExtKeyUsage
	// KeyType is the key to generate; the zero value is KeyECDSAP256. Key
	// usage is DigitalSignature, plus KeyEncipherment for RSA, unless
	// KeyUsage replaces it.
	KeyType KeyType
	// Key, when not nil, is the key to certify instead of a new one (a key
	// its holder already has, as a certificate signing request carries
	// it), of KeyType: an *ecdsa.PrivateKey on its curve, an
	// *rsa.PrivateKey of its size or an ed25519.PrivateKey.
	Key crypto.Signer
	// SignatureAlgorithm is the algorithm the CA signs with; zero lets
	// crypto/x509 choose (ECDSA with SHA-256 for the lab's P-256 CAs).
	// crypto/x509 signs with SHA-1 when asked (x509.ECDSAWithSHA1) but
	// refuses to verify such a signature ("x509: cannot verify
	// signature: insecure algorithm ECDSA-SHA1"); an algorithm that does
	// not match the CA's key is Go's error from Issue.
	SignatureAlgorithm x509.SignatureAlgorithm
	// Subject is how the names go into the certificate; the zero value
	// is SubjectCNAndSAN.
	Subject SubjectLayout
	// KeyUsage, when SetKeyUsage, replaces the key usage the key type
	// implies, exactly as given; zero leaves the extension out.
	KeyUsage    x509.KeyUsage
	SetKeyUsage bool
	// BasicConstraints is the basic constraints extension; the zero value
	// is BasicEndEntity (cA FALSE).
	BasicConstraints BasicConstraints
	// NotBefore is the start of validity; zero means the CA's Now.
	NotBefore time.Time
	// NotAfter is the end of validity; zero means NotBefore plus
	// DefaultCertValidity. Windows in the past (expired) or the future (not
	// yet valid) are allowed; it is not clamped to the CA's own validity.
	NotAfter time.Time
	// OmitCRLDistributionPoint and OmitOCSPServer leave out the CA's CRL
	// distribution point or OCSP responder, so the certificate names fewer
	// (or no) places to check its revocation.
	OmitCRLDistributionPoint bool
	OmitOCSPServer           bool
}

// Credential is an issued certificate with its private key: what a server or
// client loads, and what an attacker steals.
type Credential struct {
	// TLS is ready for tls.Config.Certificates: Certificate holds the chain
	// from the leaf up to the issuing CA, excluding the root (a certificate
	// issued by a root holds the leaf alone); PrivateKey and Leaf are set.
	TLS tls.Certificate
	// Leaf is the parsed certificate (the same as TLS.Leaf).
	Leaf *x509.Certificate
	// Key is the private key: *ecdsa.PrivateKey or *rsa.PrivateKey.
	Key crypto.Signer
}

// Issue generates a key and a certificate for it signed by ca, as declared
// by req, and records it so the CA's OCSP responses call it good until it is
// revoked. The certificate carries the CA's CRL distribution point and OCSP
// responder unless the request omits them. The request is not retained.
func (ca *CA) Issue(req CertRequest) (Credential, error) {
	ips := make([]net.IP, 0, len(req.IPAddresses))
	for _, a := range req.IPAddresses {
		if !a.IsValid() {
			return Credential{}, errors.New("pki: CertRequest.IPAddresses holds an invalid (zero) address")
		}
		ips = append(ips, net.IP(a.Unmap().AsSlice()))
	}
	cn := req.CommonName
	switch {
	case cn != "":
	case len(req.DNSNames) > 0:
		cn = req.DNSNames[0]
	case len(req.IPAddresses) > 0:
		cn = req.IPAddresses[0].Unmap().String()
	default:
		return Credential{}, errors.New("pki: CertRequest has no CommonName, DNSNames or IPAddresses; a certificate needs at least one name")
	}
	if (req.Subject == SubjectNoCN || req.Subject == SubjectEmpty) && len(req.DNSNames)+len(ips) == 0 {
		return Credential{}, fmt.Errorf("pki: CertRequest for %q: subject layout %v needs DNSNames or IPAddresses", cn, req.Subject)
	}
	notBefore := req.NotBefore
	if notBefore.IsZero() {
		notBefore = ca.clock()
	}
	notAfter := req.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(DefaultCertValidity)
	}
	if !notAfter.After(notBefore) {
		return Credential{}, fmt.Errorf("pki: CertRequest for %q: NotAfter %s is not after NotBefore %s", cn, formatTime(notAfter), formatTime(notBefore))
	}
	ekus := slices.Clone(req.ExtKeyUsages)
	if req.ExtKeyUsages == nil {
		var err error
		if ekus, err = req.Purpose.extKeyUsages(); err != nil {
			return Credential{}, err
		}
	}
	key, usage, err := requestKey(req, cn)
	if err != nil {
		return Credential{}, err
	}
	if req.SetKeyUsage {
		usage = req.KeyUsage
	}
	serial, err := ca.serials.next()
	if err != nil {
		return Credential{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            req.Subject.subject(cn, req.Organization),
		DNSNames:           slices.Clone(req.DNSNames),
		IPAddresses:        ips,
		NotBefore:          notBefore,
		NotAfter:           notAfter,
		KeyUsage:           usage,
		ExtKeyUsage:        ekus,
		SignatureAlgorithm: req.SignatureAlgorithm,
	}
	if req.Subject == SubjectCNOnly {
		tmpl.DNSNames, tmpl.IPAddresses = nil, nil
	}
	req.BasicConstraints.apply(tmpl)
	ca.addRevocationInfo(tmpl, req.OmitCRLDistributionPoint, req.OmitOCSPServer)
	leaf, der, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return Credential{}, err
	}
	return Credential{
		TLS: tls.Certificate{
			Certificate: append([][]byte{der}, ca.chain...),
			PrivateKey:  key,
			Leaf:        leaf,
		},
		Leaf: leaf,
		Key:  key,
	}, nil
}

// ServerRequest declares a TLS server certificate for IssueServer.
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

// IssueServer is Issue for an ECDSA P-256 certificate with extended key
// usage serverAuth, returning only the tls.Certificate (chain, key and Leaf).
func (ca *CA) IssueServer(req ServerRequest) (tls.Certificate, error) {
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return tls.Certificate{}, errors.New("pki: ServerRequest has no DNSNames or IPAddresses; a server certificate needs at least one name")
	}
	cred, err := ca.Issue(CertRequest{
		DNSNames:     req.DNSNames,
		IPAddresses:  req.IPAddresses,
		Organization: req.Organization,
		NotBefore:    req.NotBefore,
		NotAfter:     req.NotAfter,
	})
	return cred.TLS, err
}

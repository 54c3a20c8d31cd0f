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
	"net/url"
	"slices"
	"sync"
	"time"
)

// Default lifetimes used when a config leaves the corresponding field zero.
const (
	// DefaultRootValidity is the lifetime of a root certificate.
	DefaultRootValidity = 10 * 365 * 24 * time.Hour
	// DefaultIntermediateValidity is the lifetime of an issuing CA's
	// certificate.
	DefaultIntermediateValidity = 5 * 365 * 24 * time.Hour
	// DefaultCRLValidity is the span from a CRL's thisUpdate to its
	// nextUpdate.
	DefaultCRLValidity = 7 * 24 * time.Hour
	// DefaultOCSPValidity is the span from an OCSP response's thisUpdate to
	// its nextUpdate.
	DefaultOCSPValidity = 24 * time.Hour
)

// RootConfig declares a self-signed root certification authority.
type RootConfig struct {
	// CommonName is the subject (and issuer) common name, which is also the
	// CA's Name. Required.
	CommonName string
	// Organization is the subject organisation; empty leaves it out.
	Organization string
	// Now is the start of the root's validity. Zero means Clock(); one of
	// Now and Clock is required, since a CA never reads the wall clock.
	Now time.Time
	// Clock is the CA's time source: the default NotBefore of what it
	// issues, the default revocation time, and thisUpdate of its CRLs and
	// OCSP responses. Typically World.Now. Nil means a clock frozen at Now.
	// It must be safe for concurrent use.
	Clock func() time.Time
	// Validity is the root's lifetime; zero means DefaultRootValidity.
	Validity time.Duration
	// Rand is the source of serial numbers; nil means crypto/rand.Reader.
	// Reads from it are serialised by the CA (and shared with the issuing
	// CAs below it that have no Rand of their own), so it need not be safe
	// for concurrent use. See the package doc for key generation.
	Rand io.Reader
	// CRLURL is the CRL distribution point written into every certificate
	// this CA issues, e.g. "http://pki.contoso.com/crl/contoso-root.crl";
	// a RevocationServer serves the CA's CRL at its path. Empty means the
	// certificates name no distribution point. Must be an absolute http URL.
	CRLURL string
	// OCSPURL is the OCSP responder written into every certificate this CA
	// issues (authority information access), e.g.
	// "http://pki.contoso.com/ocsp". Empty means none. Must be an absolute
	// http URL.
	OCSPURL string
	// CRLValidity is the span thisUpdate..nextUpdate of the CA's CRLs;
	// zero means DefaultCRLValidity.
	CRLValidity time.Duration
	// OCSPValidity is the span thisUpdate..nextUpdate of the CA's OCSP
	// responses; zero means DefaultOCSPValidity.
	OCSPValidity time.Duration
}

// IntermediateConfig declares an issuing (intermediate) CA, signed by its
// parent CA. Zero fields inherit from the parent where noted.
type IntermediateConfig struct {
	// CommonName is the subject common name and the CA's Name. Required.
	CommonName string
	// Organization is the subject organisation; empty leaves it out.
	Organization string
	// NotBefore is the start of validity; zero means the new CA's Now.
	NotBefore time.Time
	// Validity is the CA certificate's lifetime; zero means
	// DefaultIntermediateValidity. It is not clamped to the parent's.
	Validity time.Duration
	// Clock is the CA's time source (see RootConfig.Clock); nil means the
	// parent's clock.
	Clock func() time.Time
	// Rand is the source of serial numbers; nil means the parent's source.
	Rand io.Reader
	// CRLURL, OCSPURL, CRLValidity and OCSPValidity are as in RootConfig,
	// for what this CA issues. They are not inherited: the parent's URLs
	// go into this CA's own certificate, not into what it issues.
	CRLURL       string
	OCSPURL      string
	CRLValidity  time.Duration
	OCSPValidity time.Duration
	// PermittedDNSDomains and ExcludedDNSDomains, when either is set, put
	// a critical name constraints extension into the CA's certificate
	// (RFC 5280 4.2.1.10): what it issues may only name hosts inside a
	// permitted domain, and none inside an excluded one.
	PermittedDNSDomains []string
	ExcludedDNSDomains  []string
}

// CA is a certification authority, root or issuing: it holds its
// certificate and private key, issues certificates, records what it issued
// and revoked, and signs CRLs and OCSP responses about them. Its methods are
// safe for concurrent use. The certificates it returns are shared: callers
// must not modify them.
type CA struct {
	name   string
	cert   *x509.Certificate
	der    []byte
	key    *ecdsa.PrivateKey
	parent *CA      // nil for a root
	chain  [][]byte // DER of this CA and its ancestors, excluding the root

	clock        func() time.Time
	serials      *serialSource
	crlURL       string
	ocspURL      string
	crlValidity  time.Duration
	ocspValidity time.Duration

	mu        sync.Mutex
	issued    map[string]*x509.Certificate // by serialKey
	revoked   map[string]Revocation        // by serialKey
	order     []string                     // revoked serials in revocation order
	crlNumber int64
	crl       *publishedCRL // nil until the first CRL call
}

// serialSource serialises reads of one random source shared by a hierarchy.
type serialSource struct {
	mu sync.Mutex
	r  io.Reader
}

// caParams is what both constructors settle before minting a key.
type caParams struct {
	name                   string
	clock                  func() time.Time
	serials                *serialSource
	crlURL, ocspURL        string
	crlValidity, ocspValid time.Duration
}

func newCAState(p caParams) (*CA, error) {
	for _, u := range []struct{ field, value string }{{"CRLURL", p.crlURL}, {"OCSPURL", p.ocspURL}} {
		if err := checkHTTPURL(u.value); err != nil {
			return nil, fmt.Errorf("pki: %s of %q: %w", u.field, p.name, err)
		}
	}
	if p.crlValidity < 0 || p.ocspValid < 0 {
		return nil, fmt.Errorf("pki: CRLValidity %v / OCSPValidity %v of %q: want positive durations (zero for the defaults)", p.crlValidity, p.ocspValid, p.name)
	}
	if p.crlValidity == 0 {
		p.crlValidity = DefaultCRLValidity
	}
	if p.ocspValid == 0 {
		p.ocspValid = DefaultOCSPValidity
	}
	return &CA{
		name:         p.name,
		clock:        p.clock,
		serials:      p.serials,
		crlURL:       p.crlURL,
		ocspURL:      p.ocspURL,
		crlValidity:  p.crlValidity,
		ocspValidity: p.ocspValid,
		issued:       make(map[string]*x509.Certificate),
		revoked:      make(map[string]Revocation),
	}, nil
}

// checkHTTPURL accepts "" and absolute http URLs with a host.
func checkHTTPURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http URL; want e.g. \"http://pki.contoso.com/ocsp\"", s)
	}
	return nil
}

// NewRootCA generates a P-256 key and a self-signed root certificate as
// declared by cfg.
func NewRootCA(cfg RootConfig) (*CA, error) {
	if cfg.CommonName == "" {
		return nil, errors.New("pki: RootConfig.CommonName is empty; name the CA, e.g. \"Contoso Root CA\"")
	}
	if cfg.Now.IsZero() && cfg.Clock == nil {
		return nil, errors.New("pki: RootConfig.Now is zero and Clock is nil; set one from the simulation clock")
	}
	validity := cfg.Validity
	if validity == 0 {
		validity = DefaultRootValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("pki: RootConfig.Validity is %v; want a positive duration", validity)
	}
	now, clock := cfg.Now, cfg.Clock
	if clock == nil {
		clock = func() time.Time { return now }
	}
	if now.IsZero() {
		now = clock()
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	ca, err := newCAState(caParams{
		name: cfg.CommonName, clock: clock, serials: &serialSource{r: r},
		crlURL: cfg.CRLURL, ocspURL: cfg.OCSPURL, crlValidity: cfg.CRLValidity, ocspValid: cfg.OCSPValidity,
	})
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate root key: %w", err)
	}
	serial, err := ca.serials.next()
	if err != nil {
		return nil, err
	}
	tmpl := caTemplate(serial, cfg.CommonName, cfg.Organization, now, now.Add(validity))
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

// NewIntermediate generates a P-256 key and a CA certificate for it signed
// by ca, as declared by cfg. The new CA's certificate carries ca's CRL
// distribution point and OCSP responder, so ca can revoke it (see Revoke);
// what the new CA issues carries cfg's.
func (ca *CA) NewIntermediate(cfg IntermediateConfig) (*CA, error) {
	if cfg.CommonName == "" {
		return nil, errors.New("pki: IntermediateConfig.CommonName is empty; name the CA, e.g. \"Contoso Issuing CA\"")
	}
	validity := cfg.Validity
	if validity == 0 {
		validity = DefaultIntermediateValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("pki: IntermediateConfig.Validity of %q is %v; want a positive duration", cfg.CommonName, validity)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = ca.clock
	}
	serials := ca.serials
	if cfg.Rand != nil {
		serials = &serialSource{r: cfg.Rand}
	}
	sub, err := newCAState(caParams{
		name: cfg.CommonName, clock: clock, serials: serials,
		crlURL: cfg.CRLURL, ocspURL: cfg.OCSPURL, crlValidity: cfg.CRLValidity, ocspValid: cfg.OCSPValidity,
	})
	if err != nil {
		return nil, err
	}
	notBefore := cfg.NotBefore
	if notBefore.IsZero() {
		notBefore = clock()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key for %q: %w", cfg.CommonName, err)
	}
	serial, err := ca.serials.next()
	if err != nil {
		return nil, err
	}
	tmpl := caTemplate(serial, cfg.CommonName, cfg.Organization, notBefore, notBefore.Add(validity))
	if len(cfg.PermittedDNSDomains)+len(cfg.ExcludedDNSDomains) > 0 {
		tmpl.PermittedDNSDomainsCritical = true
		tmpl.PermittedDNSDomains = slices.Clone(cfg.PermittedDNSDomains)
		tmpl.ExcludedDNSDomains = slices.Clone(cfg.ExcludedDNSDomains)
	}
	ca.addRevocationInfo(tmpl, false, false)
	cert, der, err := ca.sign(tmpl, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	sub.cert, sub.der, sub.key, sub.parent = cert, der, key, ca
	sub.chain = append([][]byte{der}, ca.chain...)
	return sub, nil
}

// caTemplate is the certificate template of a CA.
func caTemplate(serial *big.Int, cn, org string, notBefore, notAfter time.Time) *x509.Certificate {
	subject := pkix.Name{CommonName: cn}
	if org != "" {
		subject.Organization = []string{org}
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// addRevocationInfo writes the CA's distribution point and responder into a
// template it is about to sign, unless omitted.
func (ca *CA) addRevocationInfo(tmpl *x509.Certificate, omitCRL, omitOCSP bool) {
	if ca.crlURL != "" && !omitCRL {
		tmpl.CRLDistributionPoints = []string{ca.crlURL}
	}
	if ca.ocspURL != "" && !omitOCSP {
		tmpl.OCSPServer = []string{ca.ocspURL}
	}
}

// sign signs tmpl for pub with the CA key, parses the result and records it
// as issued. A serial number the CA already used is an error.
func (ca *CA) sign(tmpl *x509.Certificate, pub any) (*x509.Certificate, []byte, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: parse issued %q: %w", tmpl.Subject.CommonName, err)
	}
	k := serialKey(cert.SerialNumber)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if _, dup := ca.issued[k]; dup {
		return nil, nil, fmt.Errorf("pki: %s already issued serial %s; its Rand repeats itself", ca.name, formatSerial(cert.SerialNumber))
	}
	ca.issued[k] = cert
	return cert, der, nil
}

// Name returns the CA's name, its certificate's common name.
func (ca *CA) Name() string { return ca.name }

// Certificate returns the CA's own certificate. It is shared; do not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Parent returns the CA that signed this one, or nil for a root.
func (ca *CA) Parent() *CA { return ca.parent }

// Root returns the root at the top of this CA's hierarchy (ca itself for a
// root).
func (ca *CA) Root() *CA {
	for ca.parent != nil {
		ca = ca.parent
	}
	return ca
}

// Pool returns a new pool holding only this CA's certificate, suitable for
// tls.Config.RootCAs or ClientCAs. Each call returns a fresh pool, so the
// caller may add other CAs to it. For an issuing CA that makes the issuing
// CA itself a trust anchor; to trust the hierarchy, use Root().Pool().
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// Now returns the current time on the CA's clock (RootConfig.Now when no
// Clock was configured).
func (ca *CA) Now() time.Time { return ca.clock() }

// CRLURL returns the distribution point the CA writes into what it issues,
// or "".
func (ca *CA) CRLURL() string { return ca.crlURL }

// OCSPURL returns the OCSP responder the CA writes into what it issues, or
// "".
func (ca *CA) OCSPURL() string { return ca.ocspURL }

// next returns a random positive serial number of at most 127 bits.
func (s *serialSource) next() (*big.Int, error) {
	var b [16]byte
	s.mu.Lock()
	_, err := io.ReadFull(s.r, b[:])
	s.mu.Unlock()
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

// serialKey is a map key for a serial number.
func serialKey(n *big.Int) string { return n.Text(16) }

// formatSerial renders a serial number as people read it in messages:
// "0x3f".
func formatSerial(n *big.Int) string {
	if n == nil {
		return "<nil>"
	}
	return "0x" + n.Text(16)
}

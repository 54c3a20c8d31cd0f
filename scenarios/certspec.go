package scenarios

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// certSource is where the certificate mallory presents comes from.
type certSource int

const (
	// certSelfSigned: a certificate signed with its own key.
	certSelfSigned certSource = iota
	// certForged: a certificate for the victim server's names issued by
	// certSpec.issuer: her own CA forging it, or a trusted CA mis-issuing
	// it to her.
	certForged
	// certOwn: a valid certificate for her own name (mallory.contoso.com),
	// legitimately issued to her by certSpec.issuer.
	certOwn
	// certStolen: a certificate the topology issued to certSpec.holder,
	// with its private key.
	certStolen
)

// certSources names the sources as scenario files spell them.
var certSources = []string{"self-signed", "forged", "own", "stolen"}

func (s certSource) String() string {
	if int(s) < len(certSources) {
		return certSources[s]
	}
	return fmt.Sprintf("certSource(%d)", int(s))
}

// issuerMallory is the key of Mallory Root CA, the attacker's own root,
// which she creates for the run (with an OCSP responder on her machine).
const issuerMallory = "mallory-root"

// issuers lists the CAs a certSpec may name, by key (Contoso.CA's keys,
// plus mallory's), with the names they sign as.
var issuers = []struct{ key, name string }{
	{"contoso-issuing", "Contoso Issuing CA 01"},
	{"contoso-root", "Contoso Enterprise Root CA"},
	{"fabrikam-issuing", "Fabrikam Issuing CA"},
	{"fabrikam-root", "Fabrikam Root CA"},
	{"public-issuing", "Public Trust TLS CA"},
	{"public-root", "Public Trust Root CA"},
	{issuerMallory, "Mallory Root CA"},
}

func issuerKeys() []string {
	out := make([]string, len(issuers))
	for i, is := range issuers {
		out[i] = is.key
	}
	return out
}

func issuerName(key string) string {
	for _, is := range issuers {
		if is.key == key {
			return is.name
		}
	}
	return key
}

// certHolders are the topology's credentials a certSpec may steal
// (Contoso.Credential's keys for the contoso preset without insiders).
var certHolders = []string{"fe01", "fe02", "edge01", "edge01-external", "fabrikam-fe01", "fabrikam-edge01", "fabrikam-edge01-external"}

// keyTypes names pki's key types as scenario files spell them.
var keyTypes = []struct {
	name string
	key  pki.KeyType
}{
	{"ecdsa-p256", pki.KeyECDSAP256}, {"ecdsa-p384", pki.KeyECDSAP384}, {"ecdsa-p521", pki.KeyECDSAP521}, {"ed25519", pki.KeyEd25519},
	{"rsa-1024", pki.KeyRSA1024}, {"rsa-2048", pki.KeyRSA2048}, {"rsa-3072", pki.KeyRSA3072}, {"rsa-4096", pki.KeyRSA4096}, {"rsa-8192", pki.KeyRSA8192},
}

// ekuNames names the extended key usages as scenario files (and
// attacker's reports) spell them.
var ekuNames = []struct {
	name string
	eku  x509.ExtKeyUsage
}{
	{"serverAuth", x509.ExtKeyUsageServerAuth},
	{"clientAuth", x509.ExtKeyUsageClientAuth},
	{"codeSigning", x509.ExtKeyUsageCodeSigning},
	{"emailProtection", x509.ExtKeyUsageEmailProtection},
	{"timeStamping", x509.ExtKeyUsageTimeStamping},
	{"OCSPSigning", x509.ExtKeyUsageOCSPSigning},
	{"any", x509.ExtKeyUsageAny},
}

func ekuName(u x509.ExtKeyUsage) string {
	for _, e := range ekuNames {
		if e.eku == u {
			return e.name
		}
	}
	return fmt.Sprintf("EKU(%d)", int(u))
}

// certSpec declares the certificate mallory presents, as data: the MITM
// catalog and scenario files both declare one, and build turns it into an
// attacker.CertSource on the running world. The zero value is a
// self-signed certificate per SNI.
type certSpec struct {
	source certSource
	// issuer is the issuing CA's key (see issuers) for certForged and
	// certOwn; "" means contoso-issuing for certOwn.
	issuer string
	// names are the DNS names; nil means: per SNI (the name the victim
	// asks for, the server's name without SNI) for a plain self-signed
	// certificate or one forged by mallory-root, the server's name for
	// other forged ones, mallory.contoso.com for certOwn.
	names []string
	// holder is whose credential certStolen steals (see certHolders).
	holder string
	// dated makes the validity explicit: from validFrom after the
	// World's clock at issue time, for validFor (zero:
	// pki.DefaultCertValidity). Otherwise it starts at the clock.
	dated     bool
	validFrom time.Duration
	validFor  time.Duration
	// ekus replaces the extended key usages when non-nil (serverAuth by
	// default); an empty non-nil slice leaves the extension out.
	ekus []x509.ExtKeyUsage
	// key is the key type to generate (not for certStolen).
	key pki.KeyType
	// revoked has the issuer revoke the certificate (keyCompromise)
	// before the victim connects; for certStolen, the topology revokes
	// the holder's certificate at build time.
	revoked bool
	// opts are signature, subject layout, extensions and chain layout
	// (not for certStolen).
	opts certOptions
}

// plain reports whether the spec changes none of the issued certificate's
// defaults (validity, usages, key).
func (s certSpec) plain() bool {
	return !s.dated && s.ekus == nil && s.key == pki.KeyECDSAP256 && s.opts.isZero()
}

// perSNI reports whether build forges one certificate per name asked for.
func (s certSpec) perSNI() bool {
	return s.names == nil && s.plain() && (s.source == certSelfSigned || s.source == certForged && s.issuer == issuerMallory)
}

// usesMalloryCA reports whether the certificate comes from Mallory Root CA.
func (s certSpec) usesMalloryCA() bool {
	return (s.source == certForged || s.source == certOwn) && s.issuer == issuerMallory
}

func (s certSpec) issuerKey() string {
	if s.issuer == "" && s.source == certOwn {
		return "contoso-issuing"
	}
	return s.issuer
}

func (s certSpec) dnsNames(server string) []string {
	switch {
	case s.names != nil:
		return slices.Clone(s.names)
	case s.source == certOwn:
		return []string{"mallory.contoso.com"}
	}
	return []string{server}
}

// certWorld is what build needs of the running world.
type certWorld struct {
	env     *lab.Env
	c       *contoso.Deployment
	server  string  // the name the victim dials, for defaults
	mallory *pki.CA // Mallory Root CA, when she runs one
}

func (w certWorld) ca(key string) (*pki.CA, error) {
	var ca *pki.CA
	if key == issuerMallory {
		ca = w.mallory
	} else {
		ca = w.c.CA(key)
	}
	if ca == nil {
		return nil, fmt.Errorf("scenarios: the run has no CA %q", key)
	}
	return ca, nil
}

// build makes the certificate source the spec declares, and returns the
// CA that issued it (nil for a self-signed one), which revokes it when
// the spec says so.
func (s certSpec) build(w certWorld) (attacker.CertSource, *pki.CA, error) {
	now := w.env.World.Now
	switch s.source {
	case certSelfSigned:
		if s.perSNI() {
			return attacker.SelfSigned(now, w.server), nil, nil
		}
		src, err := s.selfSigned(now(), w.server)
		return src, nil, err
	case certStolen:
		cred, ok := w.c.Credential(s.holder)
		if !ok {
			return nil, nil, fmt.Errorf("scenarios: the topology has no certificate for %s", s.holder)
		}
		return attacker.StolenCertificate(cred), nil, nil
	case certForged, certOwn:
	default:
		return nil, nil, fmt.Errorf("scenarios: unknown certificate source %v", s.source)
	}
	ca, err := w.ca(s.issuerKey())
	if err != nil {
		return nil, nil, err
	}
	if s.perSNI() {
		return attacker.ForgedByCA(ca, w.server), ca, nil
	}
	if ca, err = s.opts.issuingCA(ca); err != nil {
		return nil, nil, err
	}
	req := s.request(now(), w.server)
	if s.source == certOwn {
		req.Organization = contosoOrg
	}
	s.opts.apply(&req, ca.Certificate().PublicKey)
	cred, err := ca.Issue(req)
	if err != nil {
		return nil, nil, fmt.Errorf("scenarios: issuing the certificate mallory presents: %w", err)
	}
	if cred.TLS.Certificate, err = s.opts.arrange(cred.TLS.Certificate, ca.Root()); err != nil {
		return nil, nil, err
	}
	if s.source == certOwn && s.opts.isZero() {
		return attacker.OwnCertificate(cred), ca, nil
	}
	return attacker.FixedCertificate(s.describeIssued(ca.Name(), cred.Leaf, now()), cred.TLS), ca, nil
}

// request is the pki request for the spec's certificate at now.
func (s certSpec) request(now time.Time, server string) pki.CertRequest {
	req := pki.CertRequest{DNSNames: s.dnsNames(server), KeyType: s.key}
	if s.ekus != nil {
		req.ExtKeyUsages = slices.Clone(s.ekus)
	}
	if s.dated {
		req.NotBefore = now.Add(s.validFrom)
		validFor := s.validFor
		if validFor == 0 {
			validFor = pki.DefaultCertValidity
		}
		req.NotAfter = req.NotBefore.Add(validFor)
	}
	return req
}

// describeIssued says what an issued certificate is, for mallory's
// reports: "certificate for pool01.contoso.com mis-issued by Contoso
// Issuing CA 01", "expired certificate for ... issued by ... (valid A to
// B)".
func (s certSpec) describeIssued(caName string, leaf *x509.Certificate, now time.Time) string {
	var b strings.Builder
	window := ""
	switch {
	case now.After(leaf.NotAfter):
		window = "expired "
	case now.Before(leaf.NotBefore):
		window = "not yet valid "
	}
	wrongEKU := s.ekus != nil && !slices.Contains(s.ekus, x509.ExtKeyUsageServerAuth) && !slices.Contains(s.ekus, x509.ExtKeyUsageAny)
	names := leaf.DNSNames
	if len(names) == 0 {
		names = []string{leaf.Subject.CommonName} // subject cn-only
	}
	fmt.Fprintf(&b, "%scertificate for %s ", window, strings.Join(names, ", "))
	switch {
	case window != "" || wrongEKU || s.source == certOwn:
		b.WriteString("issued by ")
	case s.issuer == issuerMallory:
		b.WriteString("forged by the attacker's CA ")
	default:
		b.WriteString("mis-issued by ")
	}
	b.WriteString(caName)
	s.describeOptions(&b, leaf)
	return b.String()
}

// describeOptions appends what the spec changed: usages, key, validity.
func (s certSpec) describeOptions(b *strings.Builder, leaf *x509.Certificate) {
	if s.ekus != nil && len(s.ekus) == 0 {
		b.WriteString(" without an extended key usage extension")
	} else if s.ekus != nil {
		usages := make([]string, len(s.ekus))
		for i, u := range s.ekus {
			usages[i] = ekuName(u)
		}
		fmt.Fprintf(b, " with extended key usage %s", strings.Join(usages, ","))
		if !slices.Contains(s.ekus, x509.ExtKeyUsageServerAuth) && !slices.Contains(s.ekus, x509.ExtKeyUsageAny) {
			b.WriteString(", not serverAuth")
		}
	}
	if s.key != pki.KeyECDSAP256 {
		fmt.Fprintf(b, ", %s key", s.key)
	}
	for _, o := range s.opts.describe() {
		fmt.Fprintf(b, ", %s", o)
	}
	if s.dated {
		fmt.Fprintf(b, " (valid %s to %s)", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

// selfSigned makes one self-signed certificate for the spec's names with
// its options, at now.
func (s certSpec) selfSigned(now time.Time, server string) (attacker.CertSource, error) {
	names := s.dnsNames(server)
	nb, na := now.Add(-time.Hour), now.AddDate(1, 0, 0)
	if s.dated {
		nb = now.Add(s.validFrom)
		na = nb.Add(s.validForOrDefault())
	}
	ekus := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if s.ekus != nil {
		ekus = slices.Clone(s.ekus)
	}
	// The same request pki would issue, signed by its own key.
	req := pki.CertRequest{DNSNames: names, KeyType: s.key}
	s.opts.apply(&req, nil)
	cn := names[0]
	if req.CommonName != "" {
		cn = req.CommonName
	}
	usage := x509.KeyUsageDigitalSignature
	if s.key.RSABits() != 0 {
		usage |= x509.KeyUsageKeyEncipherment
	}
	if req.SetKeyUsage {
		usage = req.KeyUsage
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: nb, NotAfter: na, KeyUsage: usage, ExtKeyUsage: ekus,
	}
	switch s.opts.subject {
	case pki.SubjectNoCN, pki.SubjectEmpty:
		tmpl.Subject = pkix.Name{}
	case pki.SubjectCNOnly:
		tmpl.DNSNames = nil
	}
	switch s.opts.basic {
	case pki.BasicEndEntity:
		tmpl.BasicConstraintsValid = true
	case pki.BasicCA:
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	}
	cert, err := s.opts.selfSignedCert(tmpl, s.key)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "self-signed certificate for %s", strings.Join(names, ", "))
	s.describeOptions(&b, cert.Leaf)
	return attacker.FixedCertificate(b.String(), cert), nil
}

// text describes the certificate for handouts (Scenario.Attacker),
// before anything runs: "a self-signed certificate for pool01.contoso.com".
func (s certSpec) text(server string) string {
	var b strings.Builder
	switch s.source {
	case certSelfSigned:
		b.WriteString("a self-signed certificate for ")
		if s.perSNI() {
			b.WriteString("the name alice asks for (" + server + ")")
		} else {
			b.WriteString(strings.Join(s.dnsNames(server), ", "))
		}
	case certForged:
		if s.perSNI() {
			fmt.Fprintf(&b, "a certificate for the name alice asks for (%s) forged by her own %s", server, issuerName(issuerMallory))
		} else if s.issuer == issuerMallory {
			fmt.Fprintf(&b, "a certificate for %s forged by her own %s", strings.Join(s.dnsNames(server), ", "), issuerName(s.issuer))
		} else {
			fmt.Fprintf(&b, "a certificate for %s that %s issued to her", strings.Join(s.dnsNames(server), ", "), issuerName(s.issuer))
		}
	case certOwn:
		fmt.Fprintf(&b, "her own valid certificate for %s from %s", strings.Join(s.dnsNames(server), ", "), issuerName(s.issuerKey()))
	case certStolen:
		fmt.Fprintf(&b, "%s's certificate and private key, stolen from it", s.holder)
	}
	var opts []string
	if s.dated {
		switch {
		case s.validFrom+s.validForOrDefault() <= 0:
			opts = append(opts, "expired")
		case s.validFrom > 0:
			opts = append(opts, "not yet valid")
		}
		opts = append(opts, fmt.Sprintf("valid from %s for %s", relative(s.validFrom), formatDuration(s.validForOrDefault())))
	}
	if s.ekus != nil {
		usages := make([]string, len(s.ekus))
		for i, u := range s.ekus {
			usages[i] = ekuName(u)
		}
		if len(usages) == 0 {
			usages = []string{"none"}
		}
		opts = append(opts, "extended key usage "+strings.Join(usages, ","))
	}
	if s.key != pki.KeyECDSAP256 {
		opts = append(opts, s.key.String()+" key")
	}
	opts = append(opts, s.opts.describe()...)
	if s.revoked {
		opts = append(opts, "revoked")
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(opts, ", "))
	}
	return b.String()
}

func (s certSpec) validForOrDefault() time.Duration {
	if s.validFor == 0 {
		return pki.DefaultCertValidity
	}
	return s.validFor
}

// relative says "now", "1h ago" or "in 8760h".
func relative(d time.Duration) string {
	switch {
	case d == 0:
		return "now"
	case d < 0:
		return formatDuration(-d) + " ago"
	}
	return "in " + formatDuration(d)
}

// formatDuration prints whole days as "365d", whole hours as "2h", other
// durations as Go does.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d != 0 && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d != 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// revokeCert has ca revoke the certificate certs presents for server
// (reason keyCompromise) and records it.
func revokeCert(env *lab.Env, ca *pki.CA, certs attacker.CertSource, server string) error {
	if ca == nil {
		return errors.New("scenarios: a self-signed certificate has no CA to revoke it")
	}
	cert, err := certs.Certificate(&tls.ClientHelloInfo{ServerName: server})
	if err != nil {
		return err
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return err
		}
	}
	if err := ca.Revoke(leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{}); err != nil {
		return fmt.Errorf("scenarios: revoking the certificate mallory presents: %w", err)
	}
	env.Evidence.Notef("", "%s revoked %s (serial %#x), reason keyCompromise", ca.Name(), leaf.Subject, leaf.SerialNumber)
	return nil
}

// revoke returns s with revoked set.
func (s certSpec) revoke() certSpec {
	s.revoked = true
	return s
}

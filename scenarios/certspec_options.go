package scenarios

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// chainLayout is the chain mallory's certificate is presented with.
type chainLayout int

const (
	chainAsIssued            chainLayout = iota // leaf, then its intermediates up to the root, excluded
	chainLeafOnly                               // the leaf alone: the intermediate missing
	chainWithRoot                               // as issued, and the root too
	chainMissingIntermediate                    // the leaf and the root, without the intermediate
	chainReversed                               // as issued, in reverse order: the leaf last
	chainExtraUnrelated                         // as issued, then two certificates of an unrelated CA
)

// chainLayouts names the layouts as scenario files spell them.
var chainLayouts = []string{"as-issued", "leaf-only", "with-root", "missing-intermediate", "reversed", "extra-unrelated"}

func (c chainLayout) String() string {
	if int(c) < len(chainLayouts) {
		return chainLayouts[c]
	}
	return fmt.Sprintf("chainLayout(%d)", int(c))
}

// describe says what the layout presents, for texts ("" as issued).
func (c chainLayout) describe() string {
	return map[chainLayout]string{
		chainLeafOnly:            "presented without its intermediate",
		chainWithRoot:            "presented with its root",
		chainMissingIntermediate: "presented with its root but not its intermediate",
		chainReversed:            "chain presented in reverse order, leaf last",
		chainExtraUnrelated:      "chain presented with two unrelated certificates appended",
	}[c]
}

// needsIntermediate reports whether the layout changes only what lies
// between the leaf and the root.
func (c chainLayout) needsIntermediate() bool {
	return c == chainLeafOnly || c == chainMissingIntermediate || c == chainReversed
}

// signatureHashes names the signature algorithms as scenario files spell
// them: the hash the issuer (or a self-signed key) signs with.
var signatureHashes = []string{"sha1", "sha256", "sha384", "sha512"}

// keyUsageNames names the key usage bits as scenario files spell them
// (RFC 5280 names).
var keyUsageNames = []struct {
	name  string
	usage x509.KeyUsage
}{
	{"digitalSignature", x509.KeyUsageDigitalSignature},
	{"contentCommitment", x509.KeyUsageContentCommitment},
	{"keyEncipherment", x509.KeyUsageKeyEncipherment},
	{"dataEncipherment", x509.KeyUsageDataEncipherment},
	{"keyAgreement", x509.KeyUsageKeyAgreement},
	{"keyCertSign", x509.KeyUsageCertSign},
	{"cRLSign", x509.KeyUsageCRLSign},
}

func keyUsageText(u x509.KeyUsage) string {
	var out []string
	for _, k := range keyUsageNames {
		if u&k.usage != 0 {
			out = append(out, k.name)
		}
	}
	return orNone(strings.Join(out, ","))
}

// nameConstraints are the constraints of the sub-CA that issues mallory's
// certificate.
type nameConstraints struct {
	permitted, excluded []string
}

func (n nameConstraints) text() string {
	var parts []string
	if len(n.permitted) > 0 {
		parts = append(parts, "permitted "+strings.Join(n.permitted, ","))
	}
	if len(n.excluded) > 0 {
		parts = append(parts, "excluded "+strings.Join(n.excluded, ","))
	}
	return strings.Join(parts, "; ")
}

// certOptions are the parts of a certSpec beyond source, names, validity,
// usages and key: how the certificate is signed, laid out and presented.
// The zero value changes nothing.
type certOptions struct {
	// signature is the hash of the issuer's signature (signatureHashes);
	// "" lets crypto/x509 choose (SHA-256 for the lab's P-256 CAs).
	signature string
	// subject is where the names go; commonName replaces the first name
	// as the subject's CN.
	subject    pki.SubjectLayout
	commonName string
	// chain is how the chain is presented.
	chain chainLayout
	// basic is the leaf's basic constraints; keyUsage, when not nil,
	// replaces its key usage.
	basic    pki.BasicConstraints
	keyUsage *x509.KeyUsage
	// constraints, when not nil, has the certificate issued by a new
	// sub-CA of the issuer carrying these name constraints.
	constraints *nameConstraints
}

func (o certOptions) isZero() bool {
	return o.signature == "" && o.subject == pki.SubjectCNAndSAN && o.commonName == "" && o.chain == chainAsIssued &&
		o.basic == pki.BasicEndEntity && o.keyUsage == nil && o.constraints == nil
}

// signatureAlgorithm is the x509 algorithm for the hash with signer's key.
func (o certOptions) signatureAlgorithm(signer crypto.PublicKey) x509.SignatureAlgorithm {
	if o.signature == "" {
		return x509.UnknownSignatureAlgorithm
	}
	i := slices.Index(signatureHashes, o.signature)
	switch signer.(type) {
	case *ecdsa.PublicKey:
		return []x509.SignatureAlgorithm{x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512}[i]
	case *rsa.PublicKey:
		return []x509.SignatureAlgorithm{x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA}[i]
	case ed25519.PublicKey:
		return x509.PureEd25519
	}
	return x509.UnknownSignatureAlgorithm
}

// apply writes the options into a pki request signed by a key like
// signer's.
func (o certOptions) apply(req *pki.CertRequest, signer crypto.PublicKey) {
	req.SignatureAlgorithm = o.signatureAlgorithm(signer)
	req.Subject = o.subject
	req.CommonName = o.commonName
	req.BasicConstraints = o.basic
	if o.keyUsage != nil {
		req.KeyUsage, req.SetKeyUsage = *o.keyUsage, true
	}
}

// issuingCA is the CA that signs: the issuer, or a new name-constrained
// sub-CA of it.
func (o certOptions) issuingCA(issuer *pki.CA) (*pki.CA, error) {
	if o.constraints == nil {
		return issuer, nil
	}
	sub, err := issuer.NewIntermediate(pki.IntermediateConfig{
		CommonName: constrainedCAName(issuer.Name()), Organization: "Contoso",
		PermittedDNSDomains: o.constraints.permitted, ExcludedDNSDomains: o.constraints.excluded,
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: the name-constrained sub-CA: %w", err)
	}
	return sub, nil
}

func constrainedCAName(issuer string) string { return "Constrained Sub-CA of " + issuer }

// arrange lays out an issued chain (leaf first, intermediates, no root)
// as presented; root is the issuer's root.
func (o certOptions) arrange(chain [][]byte, root *pki.CA) ([][]byte, error) {
	leaf, inter := chain[0], chain[1:]
	switch o.chain {
	case chainLeafOnly:
		return [][]byte{leaf}, nil
	case chainWithRoot:
		return append(slices.Clone(chain), root.Certificate().Raw), nil
	case chainMissingIntermediate:
		return [][]byte{leaf, root.Certificate().Raw}, nil
	case chainReversed:
		out := slices.Clone(chain)
		slices.Reverse(out)
		return out, nil
	case chainExtraUnrelated:
		extra, err := unrelatedCertificates(root.Now)
		if err != nil {
			return nil, err
		}
		return append(append([][]byte{leaf}, inter...), extra...), nil
	}
	return chain, nil
}

// unrelatedCertificates makes two certificates that have nothing to do
// with the run's: a root "Unrelated Root CA" and a leaf it issued for
// unrelated.example.
func unrelatedCertificates(now func() time.Time) ([][]byte, error) {
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Unrelated Root CA", Organization: "Unrelated", Clock: now})
	if err != nil {
		return nil, err
	}
	cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"unrelated.example"}})
	if err != nil {
		return nil, err
	}
	return [][]byte{cred.TLS.Certificate[0], ca.Certificate().Raw}, nil
}

// describe lists what the options change, for reports and handouts.
func (o certOptions) describe() []string {
	var out []string
	if o.signature != "" {
		out = append(out, "signed with "+strings.ToUpper(o.signature[:3])+"-"+o.signature[3:])
	}
	switch o.subject {
	case pki.SubjectNoCN:
		out = append(out, "no common name, names in the SAN only")
	case pki.SubjectCNOnly:
		out = append(out, "common name only, no SAN")
	case pki.SubjectEmpty:
		out = append(out, "empty subject, names in a critical SAN")
	}
	if o.commonName != "" {
		out = append(out, "common name "+o.commonName)
	}
	switch o.basic {
	case pki.BasicCA:
		out = append(out, "basic constraints cA TRUE")
	case pki.BasicOmitted:
		out = append(out, "no basic constraints")
	}
	if o.keyUsage != nil {
		out = append(out, "key usage "+keyUsageText(*o.keyUsage))
	}
	if o.constraints != nil {
		out = append(out, "issued by a sub-CA with name constraints "+o.constraints.text())
	}
	if d := o.chain.describe(); d != "" {
		out = append(out, d)
	}
	return out
}

// selfSignedCert makes a self-signed tls.Certificate for tmpl with a new
// key of type kt and the options' signature.
func (o certOptions) selfSignedCert(tmpl *x509.Certificate, kt pki.KeyType) (tls.Certificate, error) {
	key, err := pki.GenerateKey(kt)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("scenarios: self-signed key: %w", err)
	}
	tmpl.SignatureAlgorithm = o.signatureAlgorithm(key.Public())
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("scenarios: self-signing a certificate for %v: %w", tmpl.DNSNames, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{der}
	if o.chain == chainExtraUnrelated {
		extra, err := unrelatedCertificates(func() time.Time { return tmpl.NotBefore.Add(time.Hour) })
		if err != nil {
			return tls.Certificate{}, err
		}
		chain = append(chain, extra...)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

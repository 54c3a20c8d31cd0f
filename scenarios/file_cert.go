package scenarios

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"

	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/tlslab/tlslab/actors/pki"
)

// fileCertOptionKeys are the keys of attacker.certificate that file_cert.go
// reads: how the certificate is signed, laid out and presented.
var fileCertOptionKeys = []string{"signature", "subject", "common_name", "chain", "basic_constraints", "key_usage", "name_constraints"}

// basicConstraintValues names pki's basic constraints as files spell them.
var basicConstraintValues = []string{pki.BasicEndEntity.String(), pki.BasicCA.String(), pki.BasicOmitted.String()}

// subjectLayouts names pki's subject layouts as files spell them.
var subjectLayouts = []string{pki.SubjectCNAndSAN.String(), pki.SubjectNoCN.String(), pki.SubjectCNOnly.String(), pki.SubjectEmpty.String()}

// certNames reads attacker.certificate.names: DNS names, wildcards
// ("*.contoso.com"), and internationalised names, which go into the
// certificate as their A-labels ("bücher.contoso.com" as
// "xn--bcher-kva.contoso.com"), since crypto/x509 refuses to encode a
// U-label in a SAN ("x509: ... cannot be encoded as an IA5String").
func (d *fileDecoder) certNames(m *mapping) ([]string, *FileError) {
	path := fieldPath(m.path, "names")
	names, nodes, err := d.list(m, "names", "[pool01.contoso.com]")
	if err != nil || names == nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, d.errAt(m.values["names"], path, "empty list; list the DNS names the certificate holds, or leave names out")
	}
	out := make([]string, 0, len(names))
	for i, nm := range names {
		ascii, perr := idnToASCII(nm)
		if perr != "" {
			return nil, d.errAt(nodes[i], path, "%q is not an internationalised DNS name: %s", nm, perr)
		}
		if !fileDNSName.MatchString(ascii) {
			return nil, d.errAt(nodes[i], path, "%q is not a DNS name such as pool01.contoso.com (lowercase letters, digits, '-', dots)", nm)
		}
		if slices.Contains(out, ascii) {
			return nil, d.errAt(nodes[i], path, "%q is listed twice", nm)
		}
		out = append(out, ascii)
	}
	return out, nil
}

// idnToASCII returns name with its Unicode labels as A-labels (IDNA 2008
// registration profile of x/net/idna); an ASCII name is returned as it is. A wildcard label is
// kept.
func idnToASCII(name string) (string, string) {
	if isASCII(name) {
		return name, ""
	}
	wild := ""
	rest := name
	if strings.HasPrefix(name, "*.") {
		wild, rest = "*.", name[2:]
	}
	ascii, err := idna.Registration.ToASCII(rest)
	if err != nil {
		return "", strings.TrimPrefix(err.Error(), "idna: ")
	}
	return wild + ascii, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// keyTypeNames are the key types as files spell them.
func keyTypeNames() []string {
	out := make([]string, len(keyTypes))
	for i, k := range keyTypes {
		out[i] = k.name
	}
	return out
}

// certKey reads attacker.certificate.key. An RSA size Go will not
// generate is refused with crypto/rsa's own reason.
func (d *fileDecoder) certKey(m *mapping, s *certSpec) *FileError {
	path := fieldPath(m.path, "key")
	v, vn, err := d.str(m, "key", false, orList(keyTypeNames()))
	if err != nil || vn == nil {
		return err
	}
	names := keyTypeNames()
	if i := slices.Index(names, v); i >= 0 {
		s.key = keyTypes[i].key
		return nil
	}
	if bits, ok := strings.CutPrefix(v, "rsa-"); ok {
		if n, perr := strconv.Atoi(bits); perr == nil && n > 0 && n < 1024 {
			_, gerr := rsa.GenerateKey(rand.Reader, n) // refused at once, before any work
			return d.errAt(vn, path, "Go refuses RSA keys under 1024 bits: %v; use rsa-1024 or larger", gerr)
		}
	}
	return d.errAt(vn, path, "unknown key type %q; valid: %s%s", v, joinComma(names), didYouMean(v, names))
}

// certOptions reads the keys of certOptions into s.opts, after source,
// issuer, names and key.
func (d *fileDecoder) certOptions(m *mapping, s *certSpec) *FileError {
	path := m.path
	if s.source == certStolen {
		for _, key := range m.order {
			if slices.Contains(fileCertOptionKeys, key) {
				return d.errAt(m.keys[key], fieldPath(path, key), "not allowed with source stolen: a stolen certificate is the holder's as issued; only from and revoked apply")
			}
		}
		return nil
	}
	o := &s.opts
	sig, sn, err := d.oneOf(m, "signature", false, "signature hash", signatureHashes)
	if err != nil {
		return err
	}
	if sig != "" && s.source == certSelfSigned && s.key == pki.KeyEd25519 {
		return d.errAt(sn, fieldPath(path, "signature"), "an Ed25519 key signs with Ed25519 itself (PureEd25519), and crypto/x509 refuses any other algorithm for it (\"x509: requested SignatureAlgorithm does not match private key type\"); leave signature out")
	}
	o.signature = sig
	subject, _, err := d.oneOf(m, "subject", false, "subject layout", subjectLayouts)
	if err != nil {
		return err
	}
	if subject != "" {
		o.subject = pki.SubjectLayout(slices.Index(subjectLayouts, subject))
	}
	cn, cnn, err := d.str(m, "common_name", false, "the subject common name, e.g. pool01.contoso.com")
	if err != nil {
		return err
	}
	if cnn != nil {
		switch {
		case strings.TrimSpace(cn) == "" || strings.ContainsAny(cn, "\r\n"):
			return d.errAt(cnn, fieldPath(path, "common_name"), "must be one non-empty line; leave it out for the first name, or use subject no-cn for none")
		case o.subject == pki.SubjectNoCN || o.subject == pki.SubjectEmpty:
			return d.errAt(cnn, fieldPath(path, "common_name"), "subject %s has no common name; use subject cn-and-san or cn-only", o.subject)
		}
		o.commonName = cn
	}
	chain, chn, err := d.oneOf(m, "chain", false, "chain layout", chainLayouts)
	if err != nil {
		return err
	}
	if chn != nil {
		o.chain = chainLayout(slices.Index(chainLayouts, chain))
		switch {
		case s.source == certSelfSigned && o.chain != chainAsIssued && o.chain != chainExtraUnrelated:
			return d.errAt(chn, fieldPath(path, "chain"), "a self-signed certificate has no issuer chain; with source self-signed use as-issued or extra-unrelated")
		case o.chain.needsIntermediate() && strings.HasSuffix(s.issuerKey(), "-root") && !m.has("name_constraints"):
			return d.errAt(chn, fieldPath(path, "chain"), "issuer %s is a root: there is no intermediate to leave out or reorder; use an issuing CA (contoso-issuing, fabrikam-issuing, public-issuing)", s.issuerKey())
		}
	}
	bc, bcn, err := d.oneOf(m, "basic_constraints", false, "basic constraints", basicConstraintValues)
	if err != nil {
		return err
	}
	if bcn != nil {
		o.basic = pki.BasicConstraints(slices.Index(basicConstraintValues, bc))
	}
	if err := d.keyUsage(m, o); err != nil {
		return err
	}
	return d.nameConstraints(m, s)
}

// keyUsage reads key_usage: the key usage bits, replacing the key type's.
func (d *fileDecoder) keyUsage(m *mapping, o *certOptions) *FileError {
	path := fieldPath(m.path, "key_usage")
	names, nodes, err := d.list(m, "key_usage", "[digitalSignature, keyEncipherment]")
	if err != nil || names == nil {
		return err
	}
	valid := make([]string, len(keyUsageNames))
	for i, k := range keyUsageNames {
		valid[i] = k.name
	}
	var u x509.KeyUsage
	for i, n := range names {
		j := slices.Index(valid, n)
		if j < 0 {
			return d.errAt(nodes[i], path, "unknown key usage %q; valid: %s (an empty list leaves the extension out)%s", n, joinComma(valid), didYouMean(n, valid))
		}
		u |= keyUsageNames[j].usage
	}
	o.keyUsage = &u
	return nil
}

// nameConstraints reads name_constraints: {permitted: [...], excluded:
// [...]}, the constraints of a sub-CA of the issuer that issues the
// certificate.
func (d *fileDecoder) nameConstraints(m *mapping, s *certSpec) *FileError {
	if !m.has("name_constraints") {
		return nil
	}
	path := fieldPath(m.path, "name_constraints")
	if s.source == certSelfSigned {
		return d.errAt(m.keys["name_constraints"], path, "not allowed with source self-signed: a self-signed certificate has no issuer to constrain")
	}
	nm, err := d.mapping(m.values["name_constraints"], path, []string{"permitted", "excluded"})
	if err != nil {
		return err
	}
	var nc nameConstraints
	for _, k := range []struct {
		key  string
		into *[]string
	}{{"permitted", &nc.permitted}, {"excluded", &nc.excluded}} {
		domains, nodes, err := d.list(nm, k.key, "[fabrikam.com]")
		if err != nil {
			return err
		}
		for i, dom := range domains {
			if !fileDNSName.MatchString(strings.TrimPrefix(dom, ".")) || strings.HasPrefix(dom, "*") {
				return d.errAt(nodes[i], fieldPath(path, k.key), "%q is not a DNS domain such as fabrikam.com", dom)
			}
		}
		*k.into = domains
	}
	if len(nc.permitted)+len(nc.excluded) == 0 {
		return d.errAt(nm.node, path, "no constraint; list permitted or excluded DNS domains, e.g. {permitted: [fabrikam.com]}")
	}
	s.opts.constraints = &nc
	return nil
}

package scenarios

import (
	"crypto/tls"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// fileOfferKeys are the keys of attacker.offer.
var fileOfferKeys = []string{"versions", "cipher_suites"}

// offer reads attacker.offer: the versions and cipher suites mallory's
// proxy offers alice, checked against what crypto/tls can speak and the
// certificate she presents.
func (d *fileDecoder) offer(n *yaml.Node, cert certSpec) (*tlsOffer, *FileError) {
	const path = "attacker.offer"
	m, err := d.mapping(n, path, fileOfferKeys)
	if err != nil {
		return nil, err
	}
	versionNames := make([]string, len(offerVersions))
	for i, v := range offerVersions {
		versionNames[i] = v.name
	}
	names, nodes, err := d.list(m, "versions", "[TLS 1.0, TLS 1.1]")
	if err != nil {
		return nil, err
	}
	if names == nil {
		return nil, d.errAt(m.node, path, "missing key %q; want the TLS versions mallory offers, e.g. [TLS 1.0, TLS 1.1]", "versions")
	}
	if len(names) == 0 {
		return nil, d.errAt(m.values["versions"], fieldPath(path, "versions"), "empty list; list the TLS versions mallory offers, e.g. [TLS 1.0, TLS 1.1]")
	}
	o := &tlsOffer{}
	last := -1
	for i, nm := range names {
		j := slices.Index(versionNames, nm)
		switch {
		case j < 0:
			return nil, d.errAt(nodes[i], fieldPath(path, "versions"), "unknown TLS version %q; valid: %s%s", nm, joinComma(versionNames), didYouMean(nm, versionNames))
		case last >= 0 && j != last+1:
			return nil, d.errAt(nodes[i], fieldPath(path, "versions"), "%q does not follow %s: crypto/tls offers a range of versions; list consecutive ones in order, e.g. [TLS 1.0, TLS 1.1, TLS 1.2]", nm, versionNames[last])
		}
		o.versions = append(o.versions, offerVersions[j].v)
		last = j
	}
	suites, snodes, err := d.list(m, "cipher_suites", "[TLS_RSA_WITH_AES_128_CBC_SHA]")
	if err != nil {
		return nil, err
	}
	if suites != nil && len(suites) == 0 {
		return nil, d.errAt(m.values["cipher_suites"], fieldPath(path, "cipher_suites"), "empty list; list IANA suite names, or leave cipher_suites out for crypto/tls's defaults")
	}
	known := offerSuites()
	knownNames := make([]string, len(known))
	for i, s := range known {
		knownNames[i] = s.Name
	}
	fits := false
	for i, nm := range suites {
		j := slices.Index(knownNames, nm)
		if j < 0 {
			if s := isTLS13Suite(nm); s {
				return nil, d.errAt(snodes[i], fieldPath(path, "cipher_suites"), "%s is a TLS 1.3 suite, which Go's crypto/tls does not let a config choose: it negotiates one of the three itself at TLS 1.3; list TLS 1.0-1.2 suites only", nm)
			}
			return nil, d.errAt(snodes[i], fieldPath(path, "cipher_suites"), "unknown cipher suite %q: Go's crypto/tls speaks, for TLS 1.0-1.2: %s%s", nm, joinComma(knownNames), didYouMean(nm, knownNames))
		}
		s := known[j]
		if !slices.ContainsFunc(s.SupportedVersions, func(v uint16) bool { return slices.Contains(o.versions, v) }) {
			vs := make([]string, len(s.SupportedVersions))
			for k, v := range s.SupportedVersions {
				vs[k] = tls.VersionName(v)
			}
			return nil, d.errAt(snodes[i], fieldPath(path, "cipher_suites"), "%s is defined for %s only, none of which versions offers", nm, strings.Join(vs, ", "))
		}
		if slices.Contains(o.suites, s.ID) {
			return nil, d.errAt(snodes[i], fieldPath(path, "cipher_suites"), "%s is listed twice", nm)
		}
		o.suites = append(o.suites, s.ID)
		fits = fits || cert.source == certStolen || suiteFitsKey(nm, cert.key)
	}
	if len(suites) > 0 && !fits {
		return nil, d.errAt(m.values["cipher_suites"], fieldPath(path, "cipher_suites"), "no suite fits the certificate's %s key: TLS_RSA_* and TLS_ECDHE_RSA_* suites need an RSA key (key: rsa-2048), TLS_ECDHE_ECDSA_* an ECDSA or Ed25519 one", cert.key)
	}
	return o, nil
}

// isTLS13Suite reports whether name is one of the TLS 1.3 suites.
func isTLS13Suite(name string) bool {
	for _, s := range tls.CipherSuites() {
		if s.Name == name && slices.Equal(s.SupportedVersions, []uint16{tls.VersionTLS13}) {
			return true
		}
	}
	return false
}

// attackOffer reads attacker.offer when set, for mode terminate only.
func (d *fileDecoder) attackOffer(m *mapping, pos, mode string, cert certSpec) (*tlsOffer, *FileError) {
	if !m.has("offer") {
		return nil, nil
	}
	if mode != "terminate" {
		return nil, d.errAt(m.keys["offer"], "attacker.offer", "mode %s does not take it (downgrade offers only TLS 1.0); use mode terminate with offer {versions: [TLS 1.0]}", mode)
	}
	return d.offer(m.values["offer"], cert)
}

package contoso

import (
	"crypto/x509"
	"fmt"
	"slices"
)

// TrustedRoots returns the root certificates in the named host's trust
// store (Roots as a list), for a real program playing that host: its CA
// file.
func (c *Deployment) TrustedRoots(host string) ([]*x509.Certificate, error) {
	key, err := c.trustKey(host)
	if err != nil {
		return nil, err
	}
	for _, tp := range c.plan.trust {
		if tp.key != key {
			continue
		}
		out := make([]*x509.Certificate, len(tp.roots))
		for i, k := range tp.roots {
			out[i] = c.cas[k].Certificate()
		}
		return out, nil
	}
	return nil, fmt.Errorf("lab: contoso: host %s %w", host, errNoTrust)
}

// CRLs returns the current CRL of each CA in the named host's CA file
// (CAFile), the issuing CAs' first, for a real program that checks
// revocation from files.
func (c *Deployment) CRLs(host string) ([][]byte, error) {
	cas, err := c.CAFile(host)
	if err != nil {
		return nil, err
	}
	var issuing, roots [][]byte
	for _, cp := range c.plan.cas {
		ca := c.cas[cp.key]
		if !slices.ContainsFunc(cas, func(x *x509.Certificate) bool { return x.Equal(ca.Certificate()) }) {
			continue
		}
		crl, err := ca.CRL()
		if err != nil {
			return nil, fmt.Errorf("lab: contoso: CRL of %s: %w", cp.key, err)
		}
		if cp.parent != "" {
			issuing = append(issuing, crl)
		} else {
			roots = append(roots, crl)
		}
	}
	return append(issuing, roots...), nil
}

// CAFile returns the CA certificates a real program playing the named
// host is given as its CA file: the roots of its trust store
// (TrustedRoots), then the intermediate CAs issued under them, as a
// Windows machine holds them in its intermediate store. Programs that
// load CRLs check each CRL's signature against this file when they load
// it (GnuTLS does), so an issuing CA's CRL needs its certificate here.
// OpenSSL still builds every chain up to a root.
func (c *Deployment) CAFile(host string) ([]*x509.Certificate, error) {
	roots, err := c.TrustedRoots(host)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(roots)
	for _, cp := range c.plan.cas {
		if cp.parent == "" {
			continue
		}
		parent := c.cas[cp.parent].Certificate()
		if slices.ContainsFunc(roots, func(r *x509.Certificate) bool { return r.Equal(parent) }) {
			out = append(out, c.cas[cp.key].Certificate())
		}
	}
	return out, nil
}

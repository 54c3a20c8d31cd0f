package contoso

import (
	"crypto/x509"
	"fmt"
)

// TrustedRoots returns the root certificates in the named host's trust
// store (Roots as a list), for a real program playing that host: its CA
// file.
func (c *Deployment) TrustedRoots(host string) ([]*x509.Certificate, error) {
	_, hp, err := c.hostOf(host)
	if err != nil {
		return nil, err
	}
	key := hp.trust
	if key == trustContosoEdge {
		key = trustContosoMembers
	} else if key == trustFabrikamEdge {
		key = trustFabrikamMembers
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

// CRLs returns the current CRL of every CA of the topology, the issuing
// CAs' first, for a real program that checks revocation from files.
func (c *Deployment) CRLs() ([][]byte, error) {
	var issuing, roots [][]byte
	for _, cp := range c.plan.cas {
		crl, err := c.cas[cp.key].CRL()
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

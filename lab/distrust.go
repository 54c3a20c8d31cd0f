package lab

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
)

// DistrustList is the enterprise's list of distrusted certificates, as
// Windows' "Untrusted Certificates" (disallowed) store holds them: a root
// on it is refused even where a machine has it installed as trusted. One
// list belongs to one run (Env.Distrusted); scenarios add to it when they
// build the world, possibly after the topology (an attacker's root is
// created during the run), and every config of the run's TLSPolicy sees
// the additions. Its methods are safe for concurrent use; the zero value
// is an empty list.
type DistrustList struct {
	mu    sync.RWMutex
	certs []*x509.Certificate
}

// Add puts certs on the list.
func (l *DistrustList) Add(certs ...*x509.Certificate) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range certs {
		if !slices.ContainsFunc(l.certs, func(d *x509.Certificate) bool { return d.Equal(c) }) {
			l.certs = append(l.certs, c)
		}
	}
}

// Certificates returns the distrusted certificates, in the order added.
func (l *DistrustList) Certificates() []*x509.Certificate {
	if l == nil {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.certs)
}

// distrusted returns the certificate on the list that chain (leaf first)
// holds, or whose key signed one of chain's certificates, or nil. Keys are
// compared, not bytes: a CA re-issued with the same key stays distrusted.
func (l *DistrustList) distrusted(chain []*x509.Certificate) *x509.Certificate {
	for _, d := range l.Certificates() {
		for _, c := range chain {
			if sameKey(c, d) || bytes.Equal(c.RawIssuer, d.RawSubject) && c.CheckSignatureFrom(d) == nil {
				return d
			}
		}
	}
	return nil
}

func sameKey(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo)
}

// DistrustedError is the distrust list's refusal: the chain the peer's
// certificate was verified by (or, with chain validation off, the chain it
// sent) involves a certificate on the list.
type DistrustedError struct {
	// Cert is the distrusted certificate.
	Cert *x509.Certificate
}

func (e *DistrustedError) Error() string {
	return fmt.Sprintf("lab: certificate chains to %q, which is on the enterprise distrust list (disallowed store)", e.Cert.Subject.String())
}

// checkDistrust returns the chains of cs that avoid every distrusted
// certificate (all of them with the distrust list off or empty), or a
// *DistrustedError when none does.
func (p TLSPolicy) checkDistrust(chains [][]*x509.Certificate) ([][]*x509.Certificate, error) {
	if !p.Defenses.DistrustList || p.Distrusted == nil {
		return chains, nil
	}
	var clean [][]*x509.Certificate
	var found *x509.Certificate
	for _, ch := range chains {
		if d := p.Distrusted.distrusted(ch); d != nil {
			found = d
			continue
		}
		clean = append(clean, ch)
	}
	if len(clean) == 0 && found != nil {
		return nil, &DistrustedError{Cert: found}
	}
	return clean, nil
}

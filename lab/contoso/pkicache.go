package contoso

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// organizations are the subject organisations of each party's CAs and
// certificates.
var organizations = map[string]string{
	orgContoso:  "Contoso",
	orgFabrikam: "Fabrikam",
	orgInternet: "Public Trust",
}

// builtPKI is a plan's CAs and the certificates they issued at build
// time, with revocations applied. Runs never use its CAs directly: each
// forks them onto its own World's clock (pki.CA.Fork), so what one run
// issues or revokes no other run sees. Credentials are shared read-only.
type builtPKI struct {
	cas   map[string]*pki.CA
	creds map[string]pki.Credential
}

// pkiReuseWindow bounds how long a built PKI serves later runs: certificates
// are valid from the time they were built, so a run whose clock reads
// earlier (a virtual clock) or much later gets one of its own.
const pkiReuseWindow = time.Hour

// pkiCache holds one built PKI per distinct plan, for the process. Keys
// and signatures are most of what building a topology costs; a matrix
// builds the same few PKIs hundreds of times otherwise.
var pkiCache = struct {
	mu      sync.Mutex
	entries map[string]*pkiEntry
}{entries: map[string]*pkiEntry{}}

type pkiEntry struct {
	at  time.Time // the clock reading the PKI is built at
	get func() (*builtPKI, error)
}

// sharedPKI returns the PKI p declares, built on first use at the clock
// reading now and reused while now stays within pkiReuseWindow after it.
// Concurrent callers for one plan wait for a single build; a build that
// failed is not kept.
func sharedPKI(p *contosoPlan, now time.Time) (*builtPKI, error) {
	key := p.pkiKey()
	pkiCache.mu.Lock()
	e := pkiCache.entries[key]
	if e == nil || now.Before(e.at) || now.Sub(e.at) > pkiReuseWindow {
		e = &pkiEntry{at: now, get: sync.OnceValues(func() (*builtPKI, error) { return buildPKI(p, now) })}
		pkiCache.entries[key] = e
	}
	pkiCache.mu.Unlock()
	b, err := e.get()
	if err != nil { // let the next run try again
		pkiCache.mu.Lock()
		if pkiCache.entries[key] == e {
			delete(pkiCache.entries, key)
		}
		pkiCache.mu.Unlock()
	}
	return b, err
}

// buildPKI creates p's CAs with the time fixed at now, issues the
// certificates and revokes those the plan revokes.
func buildPKI(p *contosoPlan, now time.Time) (*builtPKI, error) {
	b := &builtPKI{cas: map[string]*pki.CA{}, creds: map[string]pki.Credential{}}
	clock := func() time.Time { return now }
	for _, cp := range p.cas {
		var ca *pki.CA
		var err error
		if cp.parent == "" {
			ca, err = pki.NewRootCA(pki.RootConfig{
				CommonName: cp.name, Organization: cp.organization(), Clock: clock, CRLURL: cp.crl, OCSPURL: cp.ocsp,
			})
		} else {
			ca, err = b.cas[cp.parent].NewIntermediate(pki.IntermediateConfig{
				CommonName: cp.name, Organization: cp.organization(), CRLURL: cp.crl, OCSPURL: cp.ocsp,
			})
		}
		if err != nil {
			return nil, fmt.Errorf("lab: contoso: creating %s: %w", cp.name, err)
		}
		b.cas[cp.key] = ca
	}
	for _, cp := range p.certs {
		ca := b.cas[cp.ca]
		cred, err := ca.Issue(pki.CertRequest{
			DNSNames: cp.names, Purpose: cp.purpose, Organization: organizations[p.host(cp.host).org], KeyType: cp.keyType,
		})
		if err != nil {
			return nil, fmt.Errorf("lab: contoso: issuing %s's certificate: %w", cp.key, err)
		}
		if cp.revoked != nil {
			if err := ca.Revoke(cred.Leaf.SerialNumber, *cp.revoked, time.Time{}); err != nil {
				return nil, fmt.Errorf("lab: contoso: revoking %s's certificate: %w", cp.key, err)
			}
		}
		b.creds[cp.key] = cred
	}
	return b, nil
}

// organization is the subject organisation of the CA's certificate.
func (cp caPlan) organization() string {
	if cp.key == caAttacker {
		return "Mallory"
	}
	return organizations[cp.org]
}

// pkiKey names everything buildPKI reads from p: two plans with one key
// build the same PKI.
func (p *contosoPlan) pkiKey() string {
	var b strings.Builder
	for _, cp := range p.cas {
		fmt.Fprintf(&b, "ca %q %q %q %q %q %q\n", cp.key, cp.name, cp.parent, cp.organization(), cp.crl, cp.ocsp)
	}
	for _, cp := range p.certs {
		revoked := "-"
		if cp.revoked != nil {
			revoked = fmt.Sprint(int(*cp.revoked))
		}
		fmt.Fprintf(&b, "cert %q %q %q %d %q %s %q %d\n", cp.key, cp.host, cp.names, cp.purpose, cp.ca, revoked, organizations[p.host(cp.host).org], cp.keyType)
	}
	return b.String()
}

package contoso

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// buildPKI forks the plan's CAs (built once per process, see sharedPKI)
// onto the World's clock, takes their certificates, fills the trust stores
// and starts the revocation servers.
func (c *Deployment) buildPKI() error {
	base, err := sharedPKI(c.plan, c.env.World.Now())
	if err != nil {
		return err
	}
	for _, cp := range c.plan.cas {
		var parent *pki.CA
		if cp.parent != "" {
			parent = c.cas[cp.parent]
		}
		ca, err := base.cas[cp.key].Fork(c.env.World.Now, parent)
		if err != nil {
			return fmt.Errorf("lab: contoso: %w", err)
		}
		c.cas[cp.key] = ca
	}
	maps.Copy(c.creds, base.creds)
	for _, tp := range c.plan.trust {
		pool := x509.NewCertPool()
		for _, k := range tp.roots {
			pool.AddCert(c.cas[k].Certificate())
		}
		c.pools[tp.key] = pool
	}
	for _, hp := range c.plan.hosts {
		if len(hp.publishes) == 0 {
			continue
		}
		if err := c.serveRevocation(hp); err != nil {
			return err
		}
	}
	return nil
}

// serveRevocation runs a pki.RevocationServer for hp's CAs on hp's port 80.
func (c *Deployment) serveRevocation(hp hostPlan) error {
	var cas []*pki.CA
	for _, k := range hp.publishes {
		cas = append(cas, c.cas[k])
	}
	rs, err := pki.NewRevocationServer(cas...)
	if err != nil {
		return fmt.Errorf("lab: contoso: %s: %w", hp.name, err)
	}
	ln, err := c.hosts[hp.name].Listen("tcp", ":80")
	if err != nil {
		return fmt.Errorf("lab: contoso: %s listening on :80: %w", hp.name, err)
	}
	srv := &http.Server{
		Handler:           rs,
		ReadHeaderTimeout: c.timeout,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns at Close, or when the World closes the listener
	}()
	c.onClose(func() {
		srv.Close()
		<-done
	})
	return nil
}

// checker returns the revocation checker of a host that verifies
// certificates: the mode of the defenses (or the host's own, from
// Config.RevocationModes), queries dialled from the host
// through its resolver, the World's clock, observations into the
// topology's log under the host's name.
func (c *Deployment) checker(name string) *pki.Checker {
	if ch, ok := c.checkers[name]; ok {
		return ch
	}
	h := c.hosts[name]
	mode, ok := c.revModes[name]
	if !ok {
		mode = c.d.Revocation
	}
	ch := &pki.Checker{
		Mode:    mode,
		Dial:    c.dialer(h, c.resolvers[name]),
		Now:     c.env.World.Now,
		Timeout: c.revTimeout,
		Observe: func(o pki.Observation) { c.revs.add(name, o) },
	}
	c.checkers[name] = ch
	return ch
}

// dialer dials "name:port" from h, resolving name with r (IP literals are
// used as they are).
func (c *Deployment) dialer(h *netsim.Host, r *dns.Resolver) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			if r == nil {
				return nil, fmt.Errorf("lookup %s: the host has no resolver", host)
			}
			addrs, err := r.LookupNetIP(ctx, "ip4", host)
			if err != nil {
				return nil, err
			}
			ip = addrs[0]
		}
		return h.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
	}
}

// CA returns a certification authority by role: "contoso-root",
// "contoso-issuing", "fabrikam-root", "fabrikam-issuing", "public-root",
// "public-issuing", or "attacker" (the attacker's own root, trusted by
// nobody). Nil for another name.
func (c *Deployment) CA(key string) *pki.CA { return c.cas[key] }

// Credential returns a certificate issued at build time with its key, by
// holder: "fe01", "fe02", "edge01", "edge01-external", "fabrikam-fe01",
// "fabrikam-edge01", "fabrikam-edge01-external", or an insider's name.
func (c *Deployment) Credential(holder string) (pki.Credential, bool) {
	cred, ok := c.creds[holder]
	return cred, ok
}

// Roots returns the trust store the named host verifies peers with (the
// federation store for the Edges' external side is FederationRoots).
func (c *Deployment) Roots(host string) (*x509.CertPool, error) {
	key, err := c.trustKey(host)
	if err != nil {
		return nil, err
	}
	return c.pools[key], nil
}

// trustKey is the key of the trust store the named host verifies peers
// with (an Edge's internal side uses its organisation's members' store).
func (c *Deployment) trustKey(host string) (string, error) {
	_, hp, err := c.hostOf(host)
	if err != nil {
		return "", err
	}
	key := hp.trust
	if key == trustContosoEdge {
		key = trustContosoMembers
	} else if key == trustFabrikamEdge {
		key = trustFabrikamMembers
	}
	if key == "" {
		return "", fmt.Errorf("lab: contoso: host %s %w", host, errNoTrust)
	}
	return key, nil
}

// MTLSConfig returns the MTLS config (both roles, see TLSPolicy.MTLS) of
// the server holding the named credential, on the host it was issued for:
// its certificate, its host's trust store and revocation checker. Scenarios
// use it to run an insider's server as the topology would configure it.
func (c *Deployment) MTLSConfig(holder string) (*tls.Config, error) {
	cp := c.plan.cert(holder)
	if cp == nil {
		return nil, fmt.Errorf("lab: contoso: no certificate held by %q", holder)
	}
	roots, err := c.Roots(cp.host)
	if err != nil {
		return nil, err
	}
	if holder == certEdge01External || holder == certFabrikamEdgeExt {
		roots = c.pools[c.plan.host(cp.host).trust]
	}
	return c.tls.MTLS(c.creds[holder].TLS, roots, c.checker(cp.host)), nil
}

// ServerTLS returns the client-facing server config (no client
// certificate) presenting the named credential.
func (c *Deployment) ServerTLS(holder string) (*tls.Config, error) {
	cred, ok := c.creds[holder]
	if !ok {
		return nil, fmt.Errorf("lab: contoso: no certificate held by %q", holder)
	}
	return c.tls.Server(cred.TLS), nil
}

// RevocationRecord is one revocation check a host made: an OCSP or CRL
// query, or the Checker's conclusion.
type RevocationRecord struct {
	Host string
	pki.Observation
}

// String reads like the evidence line, "alice: revocation: OCSP
// http://pki.contoso.com/ocsp: "fe01.contoso.com" (serial 0x3f) good".
func (r RevocationRecord) String() string { return r.Host + ": " + r.Observation.String() }

// Revocations returns every revocation check made so far, in the order
// they were made.
func (c *Deployment) Revocations() []RevocationRecord { return c.revs.records() }

// NoteRevocations records, for each of hosts in the order given, the
// revocation checks it made so far as evidence lines ("alice: revocation:
// ..."). Grouping by host keeps the lines in a stable order when servers
// check concurrently.
func (c *Deployment) NoteRevocations(ev *lab.Evidence, hosts ...string) {
	recs := c.revs.records()
	for _, h := range hosts {
		for _, r := range recs {
			if r.Host == h {
				ev.Notef(h, "%s", r.Observation)
			}
		}
	}
}

// revocationLog collects what every host's Checker observed.
type revocationLog struct {
	mu   sync.Mutex
	recs []RevocationRecord
}

func (l *revocationLog) add(host string, o pki.Observation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, RevocationRecord{Host: host, Observation: o})
}

func (l *revocationLog) records() []RevocationRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RevocationRecord(nil), l.recs...)
}

// FederationRoots returns the trust store an Edge ("edge01",
// "fabrikam-edge01") verifies federated partners with.
func (c *Deployment) FederationRoots(edge string) (*x509.CertPool, error) {
	_, hp, err := c.hostOf(edge)
	if err != nil {
		return nil, err
	}
	if hp.trust != trustContosoEdge && hp.trust != trustFabrikamEdge {
		return nil, fmt.Errorf("lab: contoso: host %s is not an Edge", edge)
	}
	return c.pools[hp.trust], nil
}

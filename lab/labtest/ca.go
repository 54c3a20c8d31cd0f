package labtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
)

// CA is a root certification authority of the World, on the World's
// clock. Its certificates name a CRL and an OCSP responder served in the
// World (http://pki.<first LAN>/), so a revocation checker finds them.
type CA struct {
	w  *World
	ca *pki.CA
}

// Cert is a certificate with its key, ready for a tls.Config
// (Certificate) or for an attacker to present (it is an
// attacker.CertSource).
type Cert struct {
	// TLS is the chain and key, for tls.Config.Certificates.
	TLS  tls.Certificate
	desc string
}

// Certificate implements attacker.CertSource: it presents c to everyone.
func (c Cert) Certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert := c.TLS
	return &cert, nil
}

// String describes the certificate for reports.
func (c Cert) String() string { return c.desc }

// CA creates a root CA named name. When the World has a LAN, its CRL and
// OCSP responder are served by the host "pki" there.
func (w *World) CA(name string) *CA {
	w.t.Helper()
	cfg := pki.RootConfig{CommonName: name, Clock: w.net.Now, Rand: randReader{w}}
	pkiHost := w.pkiHost()
	if pkiHost != nil {
		slug := strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(name))
		base := "http://" + pkiHost.FQDN()
		cfg.CRLURL, cfg.OCSPURL = base+"/crl/"+slug+".crl", base+pki.DefaultOCSPPath
	}
	ca, err := pki.NewRootCA(cfg)
	if err != nil {
		w.t.Fatalf("labtest: CA %q: %v", name, err)
	}
	c := &CA{w: w, ca: ca}
	if pkiHost != nil {
		w.mu.Lock()
		w.cas = append(w.cas, ca)
		cas := append([]*pki.CA(nil), w.cas...)
		w.mu.Unlock()
		rs, err := pki.NewRevocationServer(cas...)
		if err != nil {
			w.t.Fatalf("labtest: revocation server: %v", err)
		}
		w.revocation.Store(rs)
	}
	return c
}

// PKI is the CA's actors/pki authority, for what labtest does not wrap.
func (c *CA) PKI() *pki.CA { return c.ca }

// Pool returns a pool holding the CA's root, for RootCAs or ClientCAs.
func (c *CA) Pool() *x509.CertPool { return c.ca.Pool() }

func (c *CA) issue(desc string, req pki.CertRequest) Cert {
	c.w.t.Helper()
	cred, err := c.ca.Issue(req)
	if err != nil {
		c.w.t.Fatalf("labtest: %s: %v", desc, err)
	}
	return Cert{TLS: cred.TLS, desc: desc}
}

// ServerCert issues a server certificate for names (DNS names).
func (c *CA) ServerCert(names ...string) tls.Certificate {
	c.w.t.Helper()
	return c.issue("server certificate", pki.CertRequest{DNSNames: names}).TLS
}

// ServerConfig returns a server tls.Config presenting a ServerCert for
// names.
func (c *CA) ServerConfig(names ...string) *tls.Config {
	c.w.t.Helper()
	return &tls.Config{Certificates: []tls.Certificate{c.ServerCert(names...)}}
}

// ClientCert issues a client certificate for name (common name and DNS
// name).
func (c *CA) ClientCert(name string) tls.Certificate {
	c.w.t.Helper()
	return c.issue("client certificate", pki.CertRequest{CommonName: name, DNSNames: []string{name}, Purpose: pki.PurposeClient}).TLS
}

// OtherName issues a valid certificate for names the victim did not ask
// for: what an attacker with a certificate of her own from a trusted CA
// presents. The hostname check refuses it.
func (c *CA) OtherName(names ...string) Cert {
	c.w.t.Helper()
	return c.Forge(names...)
}

// Forge issues a valid certificate for names as an attacker presents it:
// from a CA of the attacker's, a forgery chain validation refuses; from a
// CA the victim trusts, a mis-issued certificate that nothing in the
// handshake can tell from the real one.
func (c *CA) Forge(names ...string) Cert {
	c.w.t.Helper()
	return c.issue(fmt.Sprintf("certificate for %s issued by %s", strings.Join(names, ", "), c.ca.Name()),
		pki.CertRequest{DNSNames: names, Purpose: pki.PurposeServerClient})
}

// Expired issues a certificate for names that expired a day ago.
func (c *CA) Expired(names ...string) Cert {
	c.w.t.Helper()
	now := c.w.net.Now()
	return c.issue(fmt.Sprintf("expired certificate for %s issued by %s", strings.Join(names, ", "), c.ca.Name()),
		pki.CertRequest{DNSNames: names, Purpose: pki.PurposeServerClient, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
}

// NotYetValid issues a certificate for names valid from tomorrow.
func (c *CA) NotYetValid(names ...string) Cert {
	c.w.t.Helper()
	now := c.w.net.Now()
	return c.issue(fmt.Sprintf("not yet valid certificate for %s issued by %s", strings.Join(names, ", "), c.ca.Name()),
		pki.CertRequest{DNSNames: names, Purpose: pki.PurposeServerClient, NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)})
}

// WrongEKU issues a certificate for names usable only for code signing.
func (c *CA) WrongEKU(names ...string) Cert {
	c.w.t.Helper()
	return c.issue(fmt.Sprintf("code-signing certificate for %s issued by %s", strings.Join(names, ", "), c.ca.Name()),
		pki.CertRequest{DNSNames: names, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
}

// Revoked issues a certificate for names and revokes it at once; the
// World's CRL and OCSP responder say so.
func (c *CA) Revoked(names ...string) Cert {
	c.w.t.Helper()
	cert := c.issue(fmt.Sprintf("revoked certificate for %s issued by %s", strings.Join(names, ", "), c.ca.Name()),
		pki.CertRequest{DNSNames: names, Purpose: pki.PurposeServerClient})
	if err := c.ca.Revoke(cert.TLS.Leaf.SerialNumber, pki.ReasonKeyCompromise, c.w.net.Now()); err != nil {
		c.w.t.Fatalf("labtest: revoking: %v", err)
	}
	return cert
}

// SelfSigned returns a certificate for names signed by its own key, which
// no one trusts: the naive man in the middle's.
func (c *CA) SelfSigned(names ...string) Cert { return c.w.SelfSigned(names...) }

// SelfSigned returns a certificate for names signed by its own key (a
// server and client certificate, valid from an hour ago for a year on the
// World's clock), which no one trusts.
func (w *World) SelfSigned(names ...string) Cert {
	w.t.Helper()
	if len(names) == 0 {
		w.t.Fatalf("labtest: SelfSigned needs a name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		w.t.Fatalf("labtest: self-signed %v: %v", names, err)
	}
	serial := new(big.Int).SetBytes(readN(randReader{w}, 8))
	now := w.net.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		w.t.Fatalf("labtest: self-signed %v: %v", names, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		w.t.Fatalf("labtest: self-signed %v: %v", names, err)
	}
	return Cert{TLS: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		desc: "self-signed certificate for " + strings.Join(names, ", ")}
}

// readN reads n bytes from r, which never fails.
func readN(r io.Reader, n int) []byte {
	b := make([]byte, n)
	_, _ = io.ReadFull(r, b)
	return b
}

// RevocationChecker returns a checker for host's TLS configs
// (VerifyConnection: checker.VerifyConnection) that fetches CRLs and OCSP
// responses inside the World.
func (h *Host) RevocationChecker(mode pki.RevocationMode) *pki.Checker {
	return &pki.Checker{Mode: mode, Dial: h.DialContext, Now: h.w.net.Now, Timeout: 5 * time.Second}
}

// pkiHost returns the host "pki" on the first LAN, serving the World's
// revocation server, started on first use; nil without a LAN.
func (w *World) pkiHost() *Host {
	w.mu.Lock()
	h := w.hosts["pki"]
	var first *LAN
	if len(w.lans) > 0 {
		first = w.lans[0]
	}
	w.mu.Unlock()
	if h != nil || first == nil {
		return h
	}
	h = first.Host("pki")
	h.ServeHTTP(80, nil, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if rs := w.revocation.Load(); rs != nil {
			rs.ServeHTTP(rw, r)
			return
		}
		http.NotFound(rw, r)
	}))
	return h
}

// randReader reads the World's seeded randomness (serial numbers).
type randReader struct{ w *World }

func (r randReader) Read(p []byte) (int, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	for i := range p {
		p[i] = byte(r.w.rand.Uint32())
	}
	return len(p), nil
}

var (
	_ attacker.CertSource = Cert{}
	_ io.Reader           = randReader{}
)

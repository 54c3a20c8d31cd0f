package pki_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// TestCheckerDoesNothing: off, a nil Checker, and a connection without
// verified chains never touch the network.
func TestCheckerDoesNothing(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	leaf := h.issue(t, pki.CertRequest{})
	chain := []*x509.Certificate{leaf.Leaf, h.issuing.Certificate(), h.root.Certificate()}
	noDial := func(context.Context, string, string) (net.Conn, error) {
		t.Error("the checker dialled")
		return nil, errors.New("no")
	}
	observe := func(o pki.Observation) { t.Errorf("observed %v", o) }
	off := &pki.Checker{Dial: noDial, Observe: observe}
	if err := off.VerifyConnection(tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{chain}}); err != nil {
		t.Errorf("off: %v", err)
	}
	if obs, err := off.Check(t.Context(), chain); obs != nil || err != nil {
		t.Errorf("off Check: %v, %v", obs, err)
	}
	var nilChecker *pki.Checker
	if err := nilChecker.VerifyConnection(tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{chain}}); err != nil {
		t.Errorf("nil checker: %v", err)
	}
	hard := &pki.Checker{Mode: pki.RevocationHardFail, Dial: noDial, Observe: observe}
	if err := hard.VerifyConnection(tls.ConnectionState{PeerCertificates: chain[:1]}); err != nil {
		t.Errorf("no verified chains: %v", err)
	}
	if obs, err := hard.Check(t.Context(), chain[2:]); obs != nil || err != nil {
		t.Errorf("root alone: %v, %v", obs, err)
	}
	bad := &pki.Checker{Mode: 7, Dial: noDial}
	if _, err := bad.Check(t.Context(), chain); err == nil || err.Error() != "pki: Checker.Mode is RevocationMode(7); want RevocationOff, RevocationSoftFail or RevocationHardFail" {
		t.Errorf("invalid mode: %v", err)
	}
}

// checkCase is one direct Check of pool01's chain under hard-fail.
type checkCase struct {
	name string
	hcfg hierarchyConfig
	req  pki.CertRequest
	// arrange serves what it wants and may return a different chain or
	// checker; nil results keep the defaults.
	arrange func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate
	err     string
	obs     []string
}

func TestCheck(t *testing.T) {
	notFound := "HTTP 404 Not Found"
	tests := []checkCase{
		{
			name: "OCSP unknown, CRL decides",
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.serve(t)
				// A certificate the CA never issued, as far as its records go.
				fake := *e.leaf.Leaf
				fake.SerialNumber = big.NewInt(0x3f)
				return []*x509.Certificate{&fake, e.h.issuing.Certificate(), e.h.root.Certificate()}
			},
			obs: []string{
				`revocation: OCSP ` + ocspURL + `: "pool01.contoso.com" (serial 0x3f) unknown: responder does not know the certificate`,
				`revocation: CRL ` + issuingCRL + `: "pool01.contoso.com" (serial 0x3f) good`,
				caOCSP + " good",
			},
		},
		{
			name: "OCSP unknown and nothing else",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.serve(t)
				fake := *e.leaf.Leaf
				fake.SerialNumber = big.NewInt(0x3f)
				return []*x509.Certificate{&fake, e.h.issuing.Certificate(), e.h.root.Certificate()}
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: responder does not know the certificate`,
			obs: []string{
				`revocation: OCSP ` + ocspURL + `: "pool01.contoso.com" (serial 0x3f) unknown: responder does not know the certificate`,
				`revocation: "pool01.contoso.com" (serial 0x3f) unavailable, hard-fail rejected: OCSP ` + ocspURL + `: responder does not know the certificate`,
				caOCSP + " good",
			},
		},
		{
			name: "responder that does not serve the issuer, and no CRL published",
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				rs, err := pki.NewRevocationServer(e.h.root)
				if err != nil {
					t.Fatal(err)
				}
				e.n.serveHTTP(t, rs)
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: responder answered unauthorized; CRL ` + issuingCRL + ": " + notFound,
			obs: []string{
				leafOCSP + " unavailable: responder answered unauthorized",
				leafCRL + " unavailable: " + notFound,
				"revocation: " + leafWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": responder answered unauthorized; CRL " + issuingCRL + ": " + notFound,
				caOCSP + " good",
			},
		},
		{
			name: "garbage instead of a CRL",
			hcfg: hierarchyConfig{issuingNoOCSP: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.n.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/crl/contoso-issuing.crl" {
						w.Write([]byte("garbage"))
						return
					}
					e.rs.ServeHTTP(w, r)
				}))
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + ": invalid CRL: x509: malformed crl",
			obs: []string{
				leafCRL + " unavailable: invalid CRL: x509: malformed crl",
				"revocation: " + leafWho + " unavailable, hard-fail rejected: CRL " + issuingCRL + ": invalid CRL: x509: malformed crl",
				caOCSP + " good",
			},
		},
		{
			name: "the root's CRL at the issuing CA's distribution point",
			hcfg: hierarchyConfig{issuingNoOCSP: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.n.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/crl/contoso-issuing.crl" {
						r.URL.Path = "/crl/contoso-root.crl"
					}
					e.rs.ServeHTTP(w, r)
				}))
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + `: CRL issued by "CN=Contoso Root CA,O=Contoso", not by "CN=Contoso Issuing CA,O=Contoso"`,
			obs: []string{
				leafCRL + ` unavailable: CRL issued by "CN=Contoso Root CA,O=Contoso", not by "CN=Contoso Issuing CA,O=Contoso"`,
				"revocation: " + leafWho + ` unavailable, hard-fail rejected: CRL ` + issuingCRL + `: CRL issued by "CN=Contoso Root CA,O=Contoso", not by "CN=Contoso Issuing CA,O=Contoso"`,
				caOCSP + " good",
			},
		},
		{
			name: "a CRL signed by an impostor with the issuing CA's name",
			hcfg: hierarchyConfig{issuingNoOCSP: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.revokeLeaf(t)
				impostor, err := pki.NewRootCA(pki.RootConfig{CommonName: issuingName, Organization: "Contoso", Now: day1})
				if err != nil {
					t.Fatal(err)
				}
				forged, err := impostor.CRL() // lists nothing: "pool01 is fine"
				if err != nil {
					t.Fatal(err)
				}
				e.n.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/crl/contoso-issuing.crl" {
						w.Write(forged)
						return
					}
					e.rs.ServeHTTP(w, r)
				}))
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + `: CRL not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
			obs: []string{
				leafCRL + ` unavailable: CRL not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
				"revocation: " + leafWho + ` unavailable, hard-fail rejected: CRL ` + issuingCRL + `: CRL not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
				caOCSP + " good",
			},
		},
		{
			name: "delegated responder whose certificate expired",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				responder := e.h.issue(t, pki.CertRequest{
					DNSNames:     []string{"ocsp.contoso.com"},
					ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
					NotBefore:    epoch, NotAfter: epoch.Add(time.Hour),
				})
				e.n.serveHTTP(t, forgeOCSP(t, e, responder, true))
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: responder certificate "ocsp.contoso.com" is not valid at 2026-03-02T12:00:00Z (valid 2026-03-01T12:00:00Z to 2026-03-01T13:00:00Z)`,
			obs: []string{
				leafOCSP + ` unavailable: responder certificate "ocsp.contoso.com" is not valid at 2026-03-02T12:00:00Z (valid 2026-03-01T12:00:00Z to 2026-03-01T13:00:00Z)`,
				"revocation: " + leafWho + ` unavailable, hard-fail rejected: OCSP ` + ocspURL + `: responder certificate "ocsp.contoso.com" is not valid at 2026-03-02T12:00:00Z (valid 2026-03-01T12:00:00Z to 2026-03-01T13:00:00Z)`,
				caOCSP + " good",
			},
		},
		{
			name: "delegated responder certificate from another CA",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				mallory := newCA(t, "Mallory Root CA")
				responder, err := mallory.Issue(pki.CertRequest{DNSNames: []string{"ocsp.mallory.example"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
				if err != nil {
					t.Fatal(err)
				}
				e.n.serveHTTP(t, forgeOCSP(t, e, responder, true))
				return nil
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: responder certificate "ocsp.mallory.example" not issued by "Contoso Issuing CA": x509: ECDSA verification failure`,
			obs: []string{
				leafOCSP + ` unavailable: responder certificate "ocsp.mallory.example" not issued by "Contoso Issuing CA": x509: ECDSA verification failure`,
				"revocation: " + leafWho + ` unavailable, hard-fail rejected: OCSP ` + ocspURL + `: responder certificate "ocsp.mallory.example" not issued by "Contoso Issuing CA": x509: ECDSA verification failure`,
				caOCSP + " good",
			},
		},
		{
			name: "first responder unknown to DNS, second answers",
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.serve(t)
				fake := *e.leaf.Leaf
				fake.OCSPServer = []string{"http://nowhere.contoso.com/ocsp", "ldap://dc01.contoso.com/ocsp", ocspURL}
				return []*x509.Certificate{&fake, e.h.issuing.Certificate(), e.h.root.Certificate()}
			},
			obs: []string{
				`revocation: OCSP http://nowhere.contoso.com/ocsp: ` + leafWho + ` unavailable: lookup nowhere.contoso.com: no such host`,
				`revocation: OCSP ldap://dc01.contoso.com/ocsp: ` + leafWho + ` unavailable: unsupported URL "ldap://dc01.contoso.com/ocsp": only absolute http URLs are fetched`,
				leafOCSP + " good",
				caOCSP + " good",
			},
		},
		{
			name: "server that never answers",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.n.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					// Once the body is read, net/http watches the connection
					// and cancels the context when the client gives up.
					io.Copy(io.Discard, r.Body)
					<-r.Context().Done()
				}))
				// Serial 0x3's query comes from a seeded ephemeral port.
				return e.chain()[:2]
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: read tcp 10.0.0.10:` + "PORT" + `->10.0.0.80:80: i/o timeout`,
		},
		{
			name: "a Checker with an http.Client",
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				e.serve(t)
				tr := &http.Transport{DialContext: e.n.dialer(e.n.alice)}
				t.Cleanup(tr.CloseIdleConnections)
				c.Dial, c.Client = nil, &http.Client{Transport: tr}
				return nil
			},
			obs: []string{leafOCSP + " good", caOCSP + " good"},
		},
		{
			name: "a Checker with an http.Client, refused",
			req:  pki.CertRequest{OmitOCSPServer: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				tr := &http.Transport{DialContext: e.n.dialer(e.n.alice)}
				c.Dial, c.Client = nil, &http.Client{Transport: tr}
				return e.chain()[:2]
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + ": " + refused,
			obs: []string{
				leafCRL + " unavailable: " + refused,
				"revocation: " + leafWho + " unavailable, hard-fail rejected: CRL " + issuingCRL + ": " + refused,
			},
		},
		{
			name: "a Checker with no way to reach anything",
			req:  pki.CertRequest{OmitOCSPServer: true},
			arrange: func(t *testing.T, e *env, c *pki.Checker) []*x509.Certificate {
				c.Dial = nil
				return e.chain()[:2]
			},
			err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + ": pki: Checker has neither Client nor Dial; it cannot reach anything",
			obs: []string{
				leafCRL + " unavailable: pki: Checker has neither Client nor Dial; it cannot reach anything",
				"revocation: " + leafWho + " unavailable, hard-fail rejected: CRL " + issuingCRL + ": pki: Checker has neither Client nor Dial; it cannot reach anything",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, tt.hcfg, tt.req)
				c := &pki.Checker{Mode: pki.RevocationHardFail, Dial: e.n.dialer(e.n.alice), Now: e.now.Now, Timeout: fetchTimeout}
				chain := e.chain()
				if tt.arrange != nil {
					if ch := tt.arrange(t, e, c); ch != nil {
						chain = ch
					}
				}
				obs, err := c.Check(t.Context(), chain)
				got := ""
				if err != nil {
					got = err.Error()
				}
				want := tt.err
				if i := strings.Index(want, "PORT"); i >= 0 && len(got) > i {
					// Mask the ephemeral port, and check the cause's type.
					if j := strings.Index(got[i:], "->"); j > 0 {
						got = got[:i] + "PORT" + got[i+j:]
					}
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("errors.Is(%v, os.ErrDeadlineExceeded) = false", err)
					}
				}
				if got != want {
					t.Errorf("Check error:\n got %s\nwant %s", got, want)
				}
				if tt.obs == nil {
					return
				}
				var lines []string
				for _, o := range obs {
					lines = append(lines, o.String())
				}
				if !slices.Equal(lines, tt.obs) {
					t.Errorf("observations:\n got %s\nwant %s", strings.Join(lines, "\n     "), strings.Join(tt.obs, "\n     "))
				}
			})
		})
	}
}

// TestCheckerConcurrent shares one Checker and one ObservationLog between
// handshakes running at once.
func TestCheckerConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, hierarchyConfig{}, pki.CertRequest{})
		e.serve(t)
		var log pki.ObservationLog
		c := &pki.Checker{Mode: pki.RevocationHardFail, Dial: e.n.dialer(e.n.alice), Now: e.now.Now, Timeout: fetchTimeout, Observe: log.Observe}
		cs := tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{e.chain()}}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := c.VerifyConnection(cs); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := len(log.Observations()); got != 16 {
			t.Errorf("%d observations, want 2 per check", got)
		}
	})
}

// TestObservationFields: the structured side of what String renders.
func TestObservationFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, hierarchyConfig{}, pki.CertRequest{OmitCRLDistributionPoint: true})
		e.revokeLeaf(t)
		e.serve(t)
		c := &pki.Checker{Mode: pki.RevocationSoftFail, Dial: e.n.dialer(e.n.alice), Now: e.now.Now, Timeout: fetchTimeout}
		obs, err := c.Check(t.Context(), e.chain())
		var re *pki.RevokedError
		if !errors.As(err, &re) || re.Certificate != e.leaf.Leaf || re.Reason != pki.ReasonKeyCompromise || re.Method != pki.MethodOCSP || re.URL != ocspURL || !re.RevokedAt.Equal(day1) {
			t.Errorf("err = %#v", err)
		}
		if len(obs) != 1 {
			t.Fatalf("observations %v", obs)
		}
		o := obs[0]
		if o.Subject != poolName || o.Serial.Int64() != 3 || o.Method != pki.MethodOCSP || o.URL != ocspURL || o.Status != pki.StatusRevoked ||
			!o.RevokedAt.Equal(day1) || o.Reason != pki.ReasonKeyCompromise || o.Err != nil || o.Mode != pki.RevocationOff {
			t.Errorf("observation %#v", o)
		}
	})
}

package pki_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlslab/tlslab/actors/pki"
)

// day1 is when the tests' certificates are checked: a day after issuance.
var day1 = epoch.Add(24 * time.Hour)

// env is one handshake test's world: Contoso's PKI, the LAN, and pool01's
// credential (serial 0x3).
type env struct {
	h    *hierarchy
	n    *network
	leaf pki.Credential
	// now is the checker's and the TLS client's clock; h.clock is the CAs'.
	// Both start at day1.
	now *testClock
	rs  *pki.RevocationServer
}

// serve runs the real RevocationServer for both CAs on the PKI host.
func (e *env) serve(t *testing.T) { e.n.serveHTTP(t, e.rs) }

// serveReal is an arrange function that only serves.
func serveReal(t *testing.T, e *env) { e.serve(t) }

// revokeLeaf revokes pool01's certificate for keyCompromise, now.
func (e *env) revokeLeaf(t *testing.T) {
	t.Helper()
	if err := e.h.issuing.Revoke(e.leaf.Leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// outcome is what one mode must produce: the exact error the client's
// Handshake returns ("" for success) and the exact observations.
type outcome struct {
	err string
	obs []string
}

// Observation lines the tests expect, by what they say.
const (
	leafWho    = `"pool01.contoso.com" (serial 0x3)`
	issuingWho = `"Contoso Issuing CA" (serial 0x2)`
	leafOCSP   = "revocation: OCSP " + ocspURL + ": " + leafWho
	leafCRL    = "revocation: CRL " + issuingCRL + ": " + leafWho
	caOCSP     = "revocation: OCSP " + ocspURL + ": " + issuingWho
	caCRL      = "revocation: CRL " + rootCRL + ": " + issuingWho
	timeout    = "dial tcp 10.0.0.80:80: i/o timeout"
	refused    = "dial tcp 10.0.0.80:80: connect: connection refused"
	revokedAt  = "2026-03-02T12:00:00Z"
)

func TestRevocationInHandshake(t *testing.T) {
	tests := []struct {
		name    string
		hcfg    hierarchyConfig
		req     pki.CertRequest
		arrange func(t *testing.T, e *env)
		soft    outcome
		hard    outcome
	}{
		{
			name:    "good certificate via OCSP",
			arrange: serveReal,
			soft:    outcome{obs: []string{leafOCSP + " good", caOCSP + " good"}},
			hard:    outcome{obs: []string{leafOCSP + " good", caOCSP + " good"}},
		},
		{
			name:    "good certificate via CRL",
			hcfg:    hierarchyConfig{rootNoOCSP: true, issuingNoOCSP: true},
			arrange: serveReal,
			soft:    outcome{obs: []string{leafCRL + " good", caCRL + " good"}},
			hard:    outcome{obs: []string{leafCRL + " good", caCRL + " good"}},
		},
		{
			name: "revoked, certificate names only a CRL distribution point",
			req:  pki.CertRequest{OmitOCSPServer: true},
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				e.serve(t)
			},
			soft: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{leafCRL + " revoked at " + revokedAt + ", reason keyCompromise"},
			},
			hard: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{leafCRL + " revoked at " + revokedAt + ", reason keyCompromise"},
			},
		},
		{
			name: "revoked, certificate names only an OCSP responder",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				e.serve(t)
			},
			soft: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (OCSP " + ocspURL + ")",
				obs: []string{leafOCSP + " revoked at " + revokedAt + ", reason keyCompromise"},
			},
			hard: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (OCSP " + ocspURL + ")",
				obs: []string{leafOCSP + " revoked at " + revokedAt + ", reason keyCompromise"},
			},
		},
		{
			name: "issuing CA revoked on the root's CRL",
			hcfg: hierarchyConfig{rootNoOCSP: true},
			arrange: func(t *testing.T, e *env) {
				if err := e.h.root.Revoke(e.h.issuing.Certificate().SerialNumber, pki.ReasonCACompromise, time.Time{}); err != nil {
					t.Fatal(err)
				}
				e.serve(t)
			},
			soft: outcome{
				err: `pki: certificate "Contoso Issuing CA" (serial 0x2) revoked at ` + revokedAt + ", reason cACompromise (CRL " + rootCRL + ")",
				obs: []string{leafOCSP + " good", caCRL + " revoked at " + revokedAt + ", reason cACompromise"},
			},
			hard: outcome{
				err: `pki: certificate "Contoso Issuing CA" (serial 0x2) revoked at ` + revokedAt + ", reason cACompromise (CRL " + rootCRL + ")",
				obs: []string{leafOCSP + " good", caCRL + " revoked at " + revokedAt + ", reason cACompromise"},
			},
		},
		{
			name: "revoked, but the PKI host drops every frame",
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				e.serve(t)
				e.n.blackhole(t)
			},
			soft: outcome{obs: []string{
				leafOCSP + " unavailable: " + timeout,
				leafCRL + " unavailable: " + timeout,
				"revocation: " + leafWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + ": " + timeout + "; CRL " + issuingCRL + ": " + timeout,
				caOCSP + " unavailable: " + timeout,
				caCRL + " unavailable: " + timeout,
				"revocation: " + issuingWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + ": " + timeout + "; CRL " + rootCRL + ": " + timeout,
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + ": " + timeout + "; CRL " + issuingCRL + ": " + timeout,
				obs: []string{
					leafOCSP + " unavailable: " + timeout,
					leafCRL + " unavailable: " + timeout,
					"revocation: " + leafWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": " + timeout + "; CRL " + issuingCRL + ": " + timeout,
					caOCSP + " unavailable: " + timeout,
					caCRL + " unavailable: " + timeout,
					"revocation: " + issuingWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": " + timeout + "; CRL " + rootCRL + ": " + timeout,
				},
			},
		},
		{
			name: "revoked, but no revocation server runs",
			req:  pki.CertRequest{OmitOCSPServer: true},
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
			},
			soft: outcome{obs: []string{
				leafCRL + " unavailable: " + refused,
				"revocation: " + leafWho + " unavailable, soft-fail accepted: CRL " + issuingCRL + ": " + refused,
				caOCSP + " unavailable: " + refused,
				caCRL + " unavailable: " + refused,
				"revocation: " + issuingWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + ": " + refused + "; CRL " + rootCRL + ": " + refused,
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + ": " + refused,
				obs: []string{
					leafCRL + " unavailable: " + refused,
					"revocation: " + leafWho + " unavailable, hard-fail rejected: CRL " + issuingCRL + ": " + refused,
					caOCSP + " unavailable: " + refused,
					caCRL + " unavailable: " + refused,
					"revocation: " + issuingWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": " + refused + "; CRL " + rootCRL + ": " + refused,
				},
			},
		},
		{
			name: "certificate names nowhere to check",
			req:  pki.CertRequest{OmitOCSPServer: true, OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				e.serve(t)
			},
			soft: outcome{obs: []string{
				"revocation: " + leafWho + " unavailable, soft-fail accepted: certificate names no OCSP responder or CRL distribution point",
				caOCSP + " good",
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: certificate names no OCSP responder or CRL distribution point`,
				obs: []string{
					"revocation: " + leafWho + " unavailable, hard-fail rejected: certificate names no OCSP responder or CRL distribution point",
					caOCSP + " good",
				},
			},
		},
		{
			name: "expired CRL from an offline CA",
			hcfg: hierarchyConfig{rootNoOCSP: true, issuingNoOCSP: true},
			arrange: func(t *testing.T, e *env) {
				e.serve(t)
				e.now.Set(day1.Add(8 * 24 * time.Hour)) // the CAs' clock stays at day1
			},
			soft: outcome{obs: []string{
				leafCRL + " unavailable: CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
				"revocation: " + leafWho + " unavailable, soft-fail accepted: CRL " + issuingCRL + ": CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
				caCRL + " unavailable: CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
				"revocation: " + issuingWho + " unavailable, soft-fail accepted: CRL " + rootCRL + ": CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: CRL ` + issuingCRL + ": CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
				obs: []string{
					leafCRL + " unavailable: CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
					"revocation: " + leafWho + " unavailable, hard-fail rejected: CRL " + issuingCRL + ": CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
					caCRL + " unavailable: CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
					"revocation: " + issuingWho + " unavailable, hard-fail rejected: CRL " + rootCRL + ": CRL expired: nextUpdate 2026-03-09T12:00:00Z is before now 2026-03-10T12:00:00Z",
				},
			},
		},
		{
			name: "expired OCSP response, CRL still fresh",
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				e.serve(t)
				e.now.Set(day1.Add(2 * 24 * time.Hour))
			},
			soft: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{
					leafOCSP + " unavailable: response expired: nextUpdate 2026-03-03T12:00:00Z is before now 2026-03-04T12:00:00Z",
					leafCRL + " revoked at " + revokedAt + ", reason keyCompromise",
				},
			},
			hard: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{
					leafOCSP + " unavailable: response expired: nextUpdate 2026-03-03T12:00:00Z is before now 2026-03-04T12:00:00Z",
					leafCRL + " revoked at " + revokedAt + ", reason keyCompromise",
				},
			},
		},
		{
			name: "checker clock behind the CAs: answers not yet valid",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env) {
				e.serve(t)
				e.now.Set(day1.Add(-time.Hour))
			},
			soft: outcome{obs: []string{
				leafOCSP + " unavailable: response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				"revocation: " + leafWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + ": response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				caOCSP + " unavailable: response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				caCRL + " unavailable: CRL not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				"revocation: " + issuingWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + ": response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z; CRL " + rootCRL + ": CRL not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + ": response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				obs: []string{
					leafOCSP + " unavailable: response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
					"revocation: " + leafWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
					caOCSP + " unavailable: response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
					caCRL + " unavailable: CRL not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
					"revocation: " + issuingWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + ": response not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z; CRL " + rootCRL + ": CRL not yet valid: thisUpdate 2026-03-02T12:00:00Z is after now 2026-03-02T11:00:00Z",
				},
			},
		},
		{
			name: "good OCSP answer signed by a stranger's key",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				mallory := newCA(t, "Mallory Root CA")
				forger, err := mallory.Issue(pki.CertRequest{DNSNames: []string{"ocsp.mallory.example"}})
				if err != nil {
					t.Fatal(err)
				}
				e.n.serveHTTP(t, forgeOCSP(t, e, forger, false))
			},
			soft: outcome{obs: []string{
				leafOCSP + ` unavailable: response not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
				"revocation: " + leafWho + " unavailable, soft-fail accepted: OCSP " + ocspURL + `: response not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
				caOCSP + " good",
			}},
			hard: outcome{
				err: `pki: revocation status of "pool01.contoso.com" unavailable: OCSP ` + ocspURL + `: response not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
				obs: []string{
					leafOCSP + ` unavailable: response not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
					"revocation: " + leafWho + " unavailable, hard-fail rejected: OCSP " + ocspURL + `: response not signed by "Contoso Issuing CA": x509: ECDSA verification failure`,
					caOCSP + " good",
				},
			},
		},
		{
			name: "good OCSP answer signed with a stolen sibling server key",
			arrange: func(t *testing.T, e *env) {
				e.revokeLeaf(t)
				stolen := e.h.issue(t, pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}}) // serial 0x4
				e.n.serveHTTP(t, forgeOCSP(t, e, stolen, true))
			},
			// The CRL still tells the truth.
			soft: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{
					leafOCSP + ` unavailable: responder certificate "fe01.contoso.com" (serial 0x4) lacks extended key usage OCSPSigning`,
					leafCRL + " revoked at " + revokedAt + ", reason keyCompromise",
				},
			},
			hard: outcome{
				err: `pki: certificate "pool01.contoso.com" (serial 0x3) revoked at ` + revokedAt + ", reason keyCompromise (CRL " + issuingCRL + ")",
				obs: []string{
					leafOCSP + ` unavailable: responder certificate "fe01.contoso.com" (serial 0x4) lacks extended key usage OCSPSigning`,
					leafCRL + " revoked at " + revokedAt + ", reason keyCompromise",
				},
			},
		},
		{
			name: "good OCSP answer from an authorised delegated responder",
			req:  pki.CertRequest{OmitCRLDistributionPoint: true},
			arrange: func(t *testing.T, e *env) {
				responder := e.h.issue(t, pki.CertRequest{
					DNSNames:     []string{"ocsp.contoso.com"},
					ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
				})
				e.n.serveHTTP(t, forgeOCSP(t, e, responder, true))
			},
			soft: outcome{obs: []string{leafOCSP + " good", caOCSP + " good"}},
			hard: outcome{obs: []string{leafOCSP + " good", caOCSP + " good"}},
		},
	}
	modes := []pki.RevocationMode{pki.RevocationOff, pki.RevocationSoftFail, pki.RevocationHardFail}
	for _, tt := range tests {
		for _, mode := range modes {
			t.Run(tt.name+"/"+mode.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					want := outcome{} // off: accept, observe nothing
					switch mode {
					case pki.RevocationSoftFail:
						want = tt.soft
					case pki.RevocationHardFail:
						want = tt.hard
					}
					runHandshakeCase(t, tt.hcfg, tt.req, tt.arrange, mode, want)
				})
			})
		}
	}
}

// newEnv builds Contoso's PKI and LAN, issues pool01's certificate from
// req, and sets both clocks to day1. Nothing is served yet.
func newEnv(t *testing.T, hcfg hierarchyConfig, req pki.CertRequest) *env {
	t.Helper()
	h := newHierarchy(t, hcfg)
	e := &env{h: h, n: newNetwork(t), leaf: h.issue(t, req), now: newClock(day1)}
	h.clock.Set(day1)
	var err error
	if e.rs, err = pki.NewRevocationServer(h.root, h.issuing); err != nil {
		t.Fatal(err)
	}
	return e
}

// chain is pool01's verified chain, as crypto/tls would build it.
func (e *env) chain() []*x509.Certificate {
	return []*x509.Certificate{e.leaf.Leaf, e.h.issuing.Certificate(), e.h.root.Certificate()}
}

func runHandshakeCase(t *testing.T, hcfg hierarchyConfig, req pki.CertRequest, arrange func(*testing.T, *env), mode pki.RevocationMode, want outcome) {
	e := newEnv(t, hcfg, req)
	h := e.h
	if arrange != nil {
		arrange(t, e)
	}
	var log pki.ObservationLog
	checker := &pki.Checker{Mode: mode, Dial: e.n.dialer(e.n.alice), Now: e.now.Now, Timeout: fetchTimeout, Observe: log.Observe}
	res := e.n.handshake(t,
		&tls.Config{Certificates: []tls.Certificate{e.leaf.TLS}},
		&tls.Config{RootCAs: h.root.Pool(), ServerName: poolName, Time: e.now.Now, VerifyConnection: checker.VerifyConnection},
	)
	if want.err == "" {
		if res.client != nil || res.server != nil || res.clientRead != nil {
			t.Errorf("handshake: client %v, server %v, client read %v; want success", res.client, res.server, res.clientRead)
		}
	} else {
		if res.client == nil || res.client.Error() != want.err {
			t.Errorf("client handshake error:\n got %v\nwant %s", res.client, want.err)
		}
		if res.server == nil || res.server.Error() != "remote error: tls: bad certificate" {
			t.Errorf("server handshake error: %v, want the client's bad_certificate alert", res.server)
		}
		var revoked *pki.RevokedError
		var unavailable *pki.RevocationUnavailableError
		if !errors.As(res.client, &revoked) && !errors.As(res.client, &unavailable) {
			t.Errorf("client error %T is neither *RevokedError nor *RevocationUnavailableError", res.client)
		}
	}
	if got := log.Strings(); !slices.Equal(got, want.obs) {
		t.Errorf("observations:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want.obs, "\n     "))
	}
}

// forgeOCSP serves OCSP answers "good" about pool01's certificate signed
// with cred's key (embedding cred's certificate when embed is set, as a
// delegated responder does), and the truth about everything else.
func forgeOCSP(t *testing.T, e *env, cred pki.Credential, embed bool) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if r.Method != http.MethodPost || r.URL.Path != "/ocsp" || err != nil || req.SerialNumber.Cmp(e.leaf.Leaf.SerialNumber) != 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
			e.rs.ServeHTTP(w, r)
			return
		}
		tmpl := ocsp.Response{
			Status: ocsp.Good, SerialNumber: req.SerialNumber,
			ThisUpdate: e.h.clock.Now(), NextUpdate: e.h.clock.Now().Add(time.Hour),
		}
		if embed {
			tmpl.Certificate = cred.Leaf
		}
		der, err := ocsp.CreateResponse(e.h.issuing.Certificate(), cred.Leaf, tmpl, cred.Key)
		if err != nil {
			t.Errorf("forging: %v", err)
		}
		w.Header().Set("Content-Type", pki.ContentTypeOCSPResponse)
		w.Write(der)
	})
}

// TestMutualTLSRevokedClient: an MTLS server with a hard-fail Checker
// rejects a client certificate revoked on OCSP; the client learns it from
// the alert.
func TestMutualTLSRevokedClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHierarchy(t, hierarchyConfig{})
		n := newNetwork(t)
		server := h.issue(t, pki.CertRequest{Purpose: pki.PurposeServerClient})
		client := h.issue(t, pki.CertRequest{CommonName: "alice@contoso.com", Purpose: pki.PurposeClient}) // serial 0x4
		h.clock.Set(day1)
		if err := h.issuing.Revoke(client.Leaf.SerialNumber, pki.ReasonAffiliationChanged, time.Time{}); err != nil {
			t.Fatal(err)
		}
		rs, err := pki.NewRevocationServer(h.root, h.issuing)
		if err != nil {
			t.Fatal(err)
		}
		n.serveHTTP(t, rs)
		var log pki.ObservationLog
		checker := &pki.Checker{Mode: pki.RevocationHardFail, Dial: n.dialer(n.pool01), Now: h.clock.Now, Timeout: fetchTimeout, Observe: log.Observe}
		res := n.handshake(t,
			&tls.Config{
				Certificates: []tls.Certificate{server.TLS}, ClientAuth: tls.RequireAndVerifyClientCert,
				ClientCAs: h.root.Pool(), Time: h.clock.Now, VerifyConnection: checker.VerifyConnection,
			},
			&tls.Config{Certificates: []tls.Certificate{client.TLS}, RootCAs: h.root.Pool(), ServerName: poolName, Time: h.clock.Now},
		)
		const want = `pki: certificate "alice@contoso.com" (serial 0x4) revoked at 2026-03-02T12:00:00Z, reason affiliationChanged (OCSP http://pki.contoso.com/ocsp)`
		if res.server == nil || res.server.Error() != want {
			t.Errorf("server handshake error:\n got %v\nwant %s", res.server, want)
		}
		if res.client != nil || res.clientRead == nil || res.clientRead.Error() != "remote error: tls: bad certificate" {
			t.Errorf("client: handshake %v, read %v; want the handshake to succeed and the read to get bad_certificate", res.client, res.clientRead)
		}
		if got := log.Strings(); len(got) != 1 || got[0] != `revocation: OCSP http://pki.contoso.com/ocsp: "alice@contoso.com" (serial 0x4) revoked at 2026-03-02T12:00:00Z, reason affiliationChanged` {
			t.Errorf("observations %q", got)
		}
	})
}

// TestUnavailableUnwraps: the hard-fail error exposes the network causes.
func TestUnavailableUnwraps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHierarchy(t, hierarchyConfig{})
		n := newNetwork(t)
		leaf := h.issue(t, pki.CertRequest{})
		n.blackhole(t)
		checker := &pki.Checker{Mode: pki.RevocationHardFail, Dial: n.dialer(n.alice), Now: h.clock.Now, Timeout: fetchTimeout}
		start := time.Now()
		_, err := checker.Check(t.Context(), []*x509.Certificate{leaf.Leaf, h.issuing.Certificate(), h.root.Certificate()})
		var ue *pki.RevocationUnavailableError
		if !errors.As(err, &ue) || ue.Certificate != leaf.Leaf || len(ue.Failures) != 2 {
			t.Fatalf("err = %#v, want *RevocationUnavailableError about the leaf with 2 failures", err)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("errors.Is(%v, os.ErrDeadlineExceeded) = false", err)
		}
		// Four queries (two per certificate), each cut off by Timeout, on
		// the bubble's virtual clock.
		if got := time.Since(start); got != 4*fetchTimeout {
			t.Errorf("checking took %v of virtual time, want 4 × %v", got, fetchTimeout)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		h := newHierarchy(t, hierarchyConfig{})
		n := newNetwork(t)
		leaf := h.issue(t, pki.CertRequest{OmitOCSPServer: true})
		checker := &pki.Checker{Mode: pki.RevocationHardFail, Dial: n.dialer(n.alice), Now: h.clock.Now, Timeout: fetchTimeout}
		_, err := checker.Check(t.Context(), []*x509.Certificate{leaf.Leaf, h.issuing.Certificate(), h.root.Certificate()})
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("errors.Is(%v, ECONNREFUSED) = false", err)
		}
	})
}

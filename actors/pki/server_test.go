package pki_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlslab/tlslab/actors/pki"
)

// httpResult is one exchange with the revocation server.
type httpResult struct {
	status      int
	contentType string
	body        []byte
}

// TestRevocationServerOnNetsim serves CRLs and OCSP from the PKI host with
// net/http on a netsim listener and fetches them with an http.Client whose
// transport resolves names from a map and dials through netsim. Nothing
// here waits on time, so it runs on real time (and may use subtests).
func TestRevocationServerOnNetsim(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	good := h.issue(t, pki.CertRequest{})                                      // 0x3
	bad := h.issue(t, pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}}) // 0x4
	h.clock.Set(day1)
	if err := h.issuing.Revoke(bad.Leaf.SerialNumber, pki.ReasonKeyCompromise, epoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A partner CA answering at its own OCSP path on the same host.
	partner, err := pki.NewRootCA(pki.RootConfig{CommonName: "Fabrikam Root CA", Clock: h.clock.Now,
		CRLURL: "http://pki.contoso.com/crl/fabrikam.crl", OCSPURL: "http://pki.contoso.com/fabrikam/ocsp"})
	if err != nil {
		t.Fatal(err)
	}
	partnerLeaf, err := partner.Issue(pki.CertRequest{DNSNames: []string{"sip.fabrikam.com"}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := pki.NewRevocationServer(h.root, h.issuing, partner)
	if err != nil {
		t.Fatal(err)
	}
	n := newNetwork(t)
	n.serveHTTP(t, rs)
	tr := &http.Transport{DialContext: n.dialer(n.alice)}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	do := func(method, u, ctype string, body []byte) httpResult {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return httpResult{resp.StatusCode, resp.Header.Get("Content-Type"), b}
	}

	t.Run("CRLs at their distribution points", func(t *testing.T) {
		for _, ca := range []*pki.CA{h.root, h.issuing, partner} {
			r := do(http.MethodGet, ca.CRLURL(), "", nil)
			if r.status != http.StatusOK || r.contentType != pki.ContentTypeCRL {
				t.Fatalf("GET %s: %d %q", ca.CRLURL(), r.status, r.contentType)
			}
			crl, err := x509.ParseRevocationList(r.body)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(ca.Certificate()); err != nil {
				t.Errorf("CRL at %s not signed by %s: %v", ca.CRLURL(), ca.Name(), err)
			}
		}
		crl, _ := x509.ParseRevocationList(do(http.MethodGet, issuingCRL, "", nil).body)
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 4 {
			t.Errorf("issuing CRL entries %+v, want serial 0x4", crl.RevokedCertificateEntries)
		}
	})

	ocspCases := []struct {
		name    string
		cert    *x509.Certificate
		issuer  *x509.Certificate
		path    string
		status  int
		revoked time.Time
	}{
		{"good leaf", good.Leaf, h.issuing.Certificate(), pki.DefaultOCSPPath, ocsp.Good, time.Time{}},
		{"revoked leaf", bad.Leaf, h.issuing.Certificate(), pki.DefaultOCSPPath, ocsp.Revoked, epoch.Add(time.Hour)},
		{"issuing CA, answered by the root", h.issuing.Certificate(), h.root.Certificate(), pki.DefaultOCSPPath, ocsp.Good, time.Time{}},
		{"partner at its own path", partnerLeaf.Leaf, partner.Certificate(), "/fabrikam/ocsp", ocsp.Good, time.Time{}},
		{"partner at the default path", partnerLeaf.Leaf, partner.Certificate(), pki.DefaultOCSPPath, ocsp.Good, time.Time{}},
	}
	for _, tt := range ocspCases {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run("OCSP "+method+" "+tt.name, func(t *testing.T) {
				reqDER, err := ocsp.CreateRequest(tt.cert, tt.issuer, nil)
				if err != nil {
					t.Fatal(err)
				}
				var r httpResult
				if method == http.MethodPost {
					r = do(method, "http://pki.contoso.com"+tt.path, pki.ContentTypeOCSPRequest, reqDER)
				} else { // RFC 6960 A.1: url-encoding of base64 encoding of DER
					r = do(method, "http://pki.contoso.com"+tt.path+"/"+url.PathEscape(base64.StdEncoding.EncodeToString(reqDER)), "", nil)
				}
				if r.status != http.StatusOK || r.contentType != pki.ContentTypeOCSPResponse {
					t.Fatalf("%d %q", r.status, r.contentType)
				}
				resp, err := ocsp.ParseResponseForCert(r.body, tt.cert, tt.issuer) // checks the signature
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != tt.status || !resp.RevokedAt.Equal(tt.revoked) {
					t.Errorf("status %d revoked at %v, want %d %v", resp.Status, resp.RevokedAt, tt.status, tt.revoked)
				}
				if tt.status == ocsp.Revoked && resp.RevocationReason != ocsp.KeyCompromise {
					t.Errorf("reason %d, want keyCompromise", resp.RevocationReason)
				}
				if !resp.ThisUpdate.Equal(day1) || !resp.NextUpdate.Equal(day1.Add(pki.DefaultOCSPValidity)) || resp.Certificate != nil {
					t.Errorf("thisUpdate %v nextUpdate %v embedded %v: want [day1, +24h], signed by the CA itself", resp.ThisUpdate, resp.NextUpdate, resp.Certificate)
				}
			})
		}
	}

	t.Run("OCSP unknown serial", func(t *testing.T) {
		// Name the issuing CA by its hashes, copied from a real request.
		real, _ := ocsp.CreateRequest(good.Leaf, h.issuing.Certificate(), nil)
		parsed, err := ocsp.ParseRequest(real)
		if err != nil {
			t.Fatal(err)
		}
		parsed.SerialNumber = big.NewInt(0x3f)
		reqDER, err := parsed.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		r := do(http.MethodPost, ocspURL, pki.ContentTypeOCSPRequest, reqDER)
		resp, err := ocsp.ParseResponse(r.body, h.issuing.Certificate())
		if err != nil || resp.Status != ocsp.Unknown || resp.SerialNumber.Int64() != 0x3f {
			t.Errorf("response %+v, %v; want unknown for 0x3f", resp, err)
		}
	})

	t.Run("OCSP error responses", func(t *testing.T) {
		mallory := newCA(t, "Mallory Root CA")
		foreign, err := mallory.Issue(pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}})
		if err != nil {
			t.Fatal(err)
		}
		foreignReq, _ := ocsp.CreateRequest(foreign.Leaf, mallory.Certificate(), nil)
		for _, tt := range []struct {
			name, method, u string
			body            []byte
			want            []byte
		}{
			{"issuer not served", http.MethodPost, ocspURL, foreignReq, ocsp.UnauthorizedErrorResponse},
			{"garbage body", http.MethodPost, ocspURL, []byte("hello"), ocsp.MalformedRequestErrorResponse},
			{"GET not base64", http.MethodGet, ocspURL + "/" + url.PathEscape("!!!"), nil, ocsp.MalformedRequestErrorResponse},
			{"oversized body", http.MethodPost, ocspURL, make([]byte, 70<<10), ocsp.MalformedRequestErrorResponse},
		} {
			r := do(tt.method, tt.u, pki.ContentTypeOCSPRequest, tt.body)
			if r.status != http.StatusOK || !bytes.Equal(r.body, tt.want) {
				t.Errorf("%s: %d %x, want 200 %x", tt.name, r.status, r.body, tt.want)
			}
		}
	})

	t.Run("HTTP errors", func(t *testing.T) {
		for _, tt := range []struct {
			method, u string
			status    int
			allow     string
		}{
			{http.MethodGet, "http://pki.contoso.com/crl/nope.crl", http.StatusNotFound, ""},
			{http.MethodGet, "http://pki.contoso.com/", http.StatusNotFound, ""},
			{http.MethodPost, issuingCRL, http.StatusMethodNotAllowed, "GET"},
			{http.MethodGet, ocspURL, http.StatusMethodNotAllowed, "GET, POST"},
			{http.MethodPut, ocspURL, http.StatusMethodNotAllowed, "GET, POST"},
		} {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, tt.u, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: %d Allow %q, want %d %q", tt.method, tt.u, resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow)
			}
		}
	})
}

func TestNewRevocationServerErrors(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	clash, err := pki.NewRootCA(pki.RootConfig{CommonName: "Clash CA", Now: epoch, CRLURL: "http://other.example" + strings.TrimPrefix(issuingCRL, "http://pki.contoso.com")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cas  []*pki.CA
		want string
	}{
		{"no CAs", nil, "pki: NewRevocationServer: no CAs to serve"},
		{"nil CA", []*pki.CA{h.root, nil}, "pki: NewRevocationServer: CA 1 is nil"},
		{"twice", []*pki.CA{h.root, h.root}, "pki: NewRevocationServer: Contoso Root CA given twice"},
		{"same CRL path", []*pki.CA{h.issuing, clash}, "pki: NewRevocationServer: Contoso Issuing CA and Clash CA both publish their CRL at /crl/contoso-issuing.crl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := pki.NewRevocationServer(tt.cas...); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

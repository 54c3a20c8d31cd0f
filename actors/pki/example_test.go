package pki_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Organization: "Contoso", Now: now})
	if err != nil {
		panic(err)
	}
	cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"pool01.contoso.com"}})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"pool01.contoso.com", "fe01.contoso.com"} {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool(), CurrentTime: now})
		fmt.Printf("%s: %v\n", name, err)
	}
	// Output:
	// pool01.contoso.com: <nil>
	// fe01.contoso.com: x509: certificate is valid for pool01.contoso.com, not fe01.contoso.com
}

// handlerTransport answers HTTP requests with a handler, in process: enough
// for an example. In the lab, the Checker dials inside the simulation.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// Example_revocation builds a two-tier hierarchy, revokes a server
// certificate, and checks the chain as a hard-fail client would.
func Example_revocation() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	root, err := pki.NewRootCA(pki.RootConfig{
		CommonName: "Contoso Root CA", Now: now,
		CRLURL: "http://pki.contoso.com/crl/contoso-root.crl", OCSPURL: "http://pki.contoso.com/ocsp",
	})
	if err != nil {
		panic(err)
	}
	issuing, err := root.NewIntermediate(pki.IntermediateConfig{
		CommonName: "Contoso Issuing CA",
		CRLURL:     "http://pki.contoso.com/crl/contoso-issuing.crl", OCSPURL: "http://pki.contoso.com/ocsp",
	})
	if err != nil {
		panic(err)
	}
	pool, err := issuing.Issue(pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}, Purpose: pki.PurposeServerClient})
	if err != nil {
		panic(err)
	}
	if err := issuing.Revoke(pool.Leaf.SerialNumber, pki.ReasonKeyCompromise, now.Add(time.Hour)); err != nil {
		panic(err)
	}
	rs, err := pki.NewRevocationServer(root, issuing)
	if err != nil {
		panic(err)
	}
	checker := &pki.Checker{
		Mode:   pki.RevocationHardFail,
		Client: &http.Client{Transport: handlerTransport{rs}},
		Now:    func() time.Time { return now.Add(2 * time.Hour) },
	}
	chain := []*x509.Certificate{pool.Leaf, issuing.Certificate(), root.Certificate()}
	obs, err := checker.Check(context.Background(), chain)
	var revoked *pki.RevokedError
	if errors.As(err, &revoked) {
		fmt.Println(revoked.Certificate.Subject.CommonName, revoked.Reason, revoked.RevokedAt.Format(time.RFC3339), revoked.Method, revoked.URL)
	}
	fmt.Println(len(obs), obs[0].Status)
	// Output:
	// pool01.contoso.com keyCompromise 2026-03-01T13:00:00Z OCSP http://pki.contoso.com/ocsp
	// 1 revoked
}

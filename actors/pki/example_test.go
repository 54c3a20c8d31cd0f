package pki_test

import (
	"crypto/x509"
	"fmt"
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

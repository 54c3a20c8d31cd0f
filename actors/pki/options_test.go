package pki_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
)

// Every key type issues a certificate for a key of its kind and size.
func TestIssueKeyTypes(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	for _, kt := range pki.KeyTypes() {
		if kt == pki.KeyRSA8192 || kt == pki.KeyRSA4096 {
			continue // seconds to generate; the same code as the other sizes
		}
		t.Run(kt.String(), func(t *testing.T) {
			cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"x.contoso.com"}, KeyType: kt})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			switch k := cred.Leaf.PublicKey.(type) {
			case *ecdsa.PublicKey:
				got = "ECDSA " + k.Curve.Params().Name
			case *rsa.PublicKey:
				got = "RSA " + itoa(k.N.BitLen())
			case ed25519.PublicKey:
				got = "Ed25519"
			}
			if got != kt.String() {
				t.Errorf("key %s, want %s", got, kt)
			}
		})
	}
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// SHA-1: crypto/x509 signs it when asked, and refuses to verify it.
func TestIssueSHA1Signature(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"x.contoso.com"}, SignatureAlgorithm: x509.ECDSAWithSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Leaf.SignatureAlgorithm != x509.ECDSAWithSHA1 {
		t.Fatalf("signature %v", cred.Leaf.SignatureAlgorithm)
	}
	err = cred.Leaf.CheckSignatureFrom(ca.Certificate())
	var insecure x509.InsecureAlgorithmError
	if !errors.As(err, &insecure) || err.Error() != "x509: cannot verify signature: insecure algorithm ECDSA-SHA1" {
		t.Fatalf("CheckSignatureFrom: %v", err)
	}
	if _, err := ca.Issue(pki.CertRequest{DNSNames: []string{"x.contoso.com"}, SignatureAlgorithm: x509.SHA256WithRSA}); err == nil ||
		err.Error() != `pki: issue "x.contoso.com": x509: requested SignatureAlgorithm does not match private key type` {
		t.Fatalf("RSA signature from an ECDSA CA: %v", err)
	}
}

// The subject layouts, basic constraints and key usage land as declared.
func TestIssueLayouts(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	names := []string{"a.contoso.com", "b.contoso.com"}
	tests := []struct {
		req                pki.CertRequest
		cn                 string
		sans               int
		bcValid, isCA      bool
		usage              x509.KeyUsage
		emptySubject, crit bool
	}{
		{pki.CertRequest{DNSNames: names}, "a.contoso.com", 2, true, false, x509.KeyUsageDigitalSignature, false, false},
		{pki.CertRequest{DNSNames: names, Subject: pki.SubjectNoCN, Organization: "Contoso"}, "", 2, true, false, x509.KeyUsageDigitalSignature, false, false},
		{pki.CertRequest{DNSNames: names, Subject: pki.SubjectCNOnly}, "a.contoso.com", 0, true, false, x509.KeyUsageDigitalSignature, false, false},
		{pki.CertRequest{DNSNames: names, Subject: pki.SubjectEmpty}, "", 2, true, false, x509.KeyUsageDigitalSignature, true, true},
		{pki.CertRequest{DNSNames: names, BasicConstraints: pki.BasicCA}, "a.contoso.com", 2, true, true, x509.KeyUsageDigitalSignature, false, false},
		{pki.CertRequest{DNSNames: names, BasicConstraints: pki.BasicOmitted, SetKeyUsage: true, KeyUsage: x509.KeyUsageCertSign}, "a.contoso.com", 2, false, false, x509.KeyUsageCertSign, false, false},
	}
	for _, tt := range tests {
		cred, err := ca.Issue(tt.req)
		if err != nil {
			t.Fatal(err)
		}
		l := cred.Leaf
		critical := false
		for _, e := range l.Extensions {
			if e.Id.String() == "2.5.29.17" {
				critical = e.Critical
			}
		}
		if l.Subject.CommonName != tt.cn || len(l.DNSNames) != tt.sans || l.BasicConstraintsValid != tt.bcValid || l.IsCA != tt.isCA ||
			l.KeyUsage != tt.usage || (len(l.RawSubject) == 2) != tt.emptySubject || critical != tt.crit {
			t.Errorf("%v/%v: CN %q, %d SANs, bc %v ca %v, usage %v, subject %x, SAN critical %v", tt.req.Subject, tt.req.BasicConstraints,
				l.Subject.CommonName, len(l.DNSNames), l.BasicConstraintsValid, l.IsCA, l.KeyUsage, l.RawSubject, critical)
		}
	}
}

// A name-constrained intermediate's certificate carries the constraints,
// and crypto/x509 refuses what it issues outside them.
func TestIntermediateNameConstraints(t *testing.T) {
	root := newCA(t, "Contoso Root CA")
	sub, err := root.NewIntermediate(pki.IntermediateConfig{CommonName: "Fabrikam Partner CA", PermittedDNSDomains: []string{"fabrikam.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := sub.Issue(pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	inter.AddCert(sub.Certificate())
	_, err = cred.Leaf.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inter, CurrentTime: root.Now()})
	want := `x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "pool01.contoso.com" is not permitted by any constraint`
	if err == nil || err.Error() != want {
		t.Fatalf("verify: %v\nwant %s", err, want)
	}
}

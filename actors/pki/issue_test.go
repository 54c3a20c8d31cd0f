package pki_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// verifyCheck inspects the result of verifying a leaf.
type verifyCheck func(t *testing.T, err error)

func verifies() verifyCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("Verify: %v, want success", err)
		}
	}
}

// failsWith checks the exact crypto/x509 message and that errors.As finds
// the typed error target points to.
func failsWith[E error](msg string) verifyCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("Verify succeeded, want %q", msg)
		}
		if err.Error() != msg {
			t.Errorf("Verify error = %q\nwant           %q", err, msg)
		}
		var target E
		if !errors.As(err, &target) {
			t.Errorf("Verify error %T is not a %T", err, target)
		}
	}
}

// failsWithPrefix is failsWith for messages that embed times.
func failsWithPrefix[E error](prefix string) verifyCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Fatalf("Verify error = %v, want prefix %q", err, prefix)
		}
		var target E
		if !errors.As(err, &target) {
			t.Errorf("Verify error %T is not a %T", err, target)
		}
	}
}

func TestIssueServerVerify(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	other := newCA(t, "Mallory Root CA")
	cert, err := ca.IssueServer(pki.ServerRequest{
		DNSNames:    []string{"a.example"},
		IPAddresses: []netip.Addr{netip.MustParseAddr("10.0.0.5")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		roots *x509.CertPool
		host  string
		at    time.Time
		check verifyCheck
	}{
		{"name matches", ca.Pool(), "a.example", epoch, verifies()},
		{"ip matches", ca.Pool(), "10.0.0.5", epoch.Add(time.Hour), verifies()},
		{"last valid second", ca.Pool(), "a.example", epoch.Add(pki.DefaultServerValidity), verifies()},
		{"other name", ca.Pool(), "b.example", epoch,
			failsWith[x509.HostnameError]("x509: certificate is valid for a.example, not b.example")},
		{"other ip", ca.Pool(), "10.0.0.6", epoch,
			failsWith[x509.HostnameError]("x509: certificate is valid for 10.0.0.5, not 10.0.0.6")},
		{"untrusted root", other.Pool(), "a.example", epoch,
			failsWith[x509.UnknownAuthorityError]("x509: certificate signed by unknown authority")},
		{"expired", ca.Pool(), "a.example", epoch.Add(pki.DefaultServerValidity + time.Second),
			failsWithPrefix[x509.CertificateInvalidError]("x509: certificate has expired or is not yet valid: current time 2027-03-01T12:00:01Z is after 2027-03-01T12:00:00Z")},
		{"not yet valid", ca.Pool(), "a.example", epoch.Add(-time.Second),
			failsWithPrefix[x509.CertificateInvalidError]("x509: certificate has expired or is not yet valid: current time 2026-03-01T11:59:59Z is before 2026-03-01T12:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cert.Leaf.Verify(x509.VerifyOptions{
				DNSName:     tt.host,
				Roots:       tt.roots,
				CurrentTime: tt.at,
				KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			tt.check(t, err)
		})
	}
}

func TestIssueServerShape(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	nb := epoch.Add(-24 * time.Hour)
	cert, err := ca.IssueServer(pki.ServerRequest{
		DNSNames:     []string{"pool01.contoso.com", "fe01.contoso.com"},
		Organization: "Contoso",
		NotBefore:    nb,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.Certificate) != 2 {
		t.Fatalf("chain has %d certificates, want leaf and CA", len(cert.Certificate))
	}
	if !slices.Equal(cert.Certificate[1], ca.Certificate().Raw) {
		t.Error("chain[1] is not the CA certificate")
	}
	leaf := cert.Leaf
	if leaf == nil || !slices.Equal(cert.Certificate[0], leaf.Raw) {
		t.Fatal("Leaf is not set to the parsed chain[0]")
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("PrivateKey is %T, want *ecdsa.PrivateKey", cert.PrivateKey)
	}
	if !leaf.PublicKey.(*ecdsa.PublicKey).Equal(cert.PrivateKey.(*ecdsa.PrivateKey).Public()) {
		t.Error("leaf public key does not match the private key")
	}
	if leaf.Subject.CommonName != "pool01.contoso.com" || !slices.Equal(leaf.DNSNames, []string{"pool01.contoso.com", "fe01.contoso.com"}) {
		t.Errorf("CN=%q SANs=%v", leaf.Subject.CommonName, leaf.DNSNames)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %b, want DigitalSignature only", leaf.KeyUsage)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage = %v, want [serverAuth]", leaf.ExtKeyUsage)
	}
	if !leaf.NotBefore.Equal(nb) || !leaf.NotAfter.Equal(nb.Add(pki.DefaultServerValidity)) {
		t.Errorf("validity = [%v, %v]", leaf.NotBefore, leaf.NotAfter)
	}
	if !slices.Equal(leaf.AuthorityKeyId, ca.Certificate().SubjectKeyId) {
		t.Error("AuthorityKeyId does not name the CA")
	}
}

func TestIssueServerErrors(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	tests := []struct {
		name string
		req  pki.ServerRequest
		want string
	}{
		{"no names", pki.ServerRequest{}, "pki: ServerRequest has no DNSNames or IPAddresses"},
		{"inverted window", pki.ServerRequest{DNSNames: []string{"a.example"}, NotBefore: epoch, NotAfter: epoch.Add(-time.Hour)}, "pki: ServerRequest NotAfter"},
		{"zero ip", pki.ServerRequest{IPAddresses: []netip.Addr{{}}}, "pki: ServerRequest.IPAddresses holds an invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ca.IssueServer(tt.req)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestIssueServerConcurrent(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	var wg sync.WaitGroup
	serials := make([]string, 8)
	for i := range serials {
		wg.Go(func() {
			cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"a.example"}})
			if err != nil {
				t.Error(err)
				return
			}
			serials[i] = cert.Leaf.SerialNumber.String()
		})
	}
	wg.Wait()
	slices.Sort(serials)
	if len(slices.Compact(serials)) != len(serials) {
		t.Errorf("duplicate serial numbers: %v", serials)
	}
}

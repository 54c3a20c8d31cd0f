package pki_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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
	if len(cert.Certificate) != 1 {
		t.Fatalf("chain has %d certificates, want the leaf alone: the root is not sent", len(cert.Certificate))
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
		{"inverted window", pki.ServerRequest{DNSNames: []string{"a.example"}, NotBefore: epoch, NotAfter: epoch.Add(-time.Hour)},
			`pki: CertRequest for "a.example": NotAfter 2026-03-01T11:00:00Z is not after NotBefore 2026-03-01T12:00:00Z`},
		{"zero ip", pki.ServerRequest{IPAddresses: []netip.Addr{{}}}, "pki: CertRequest.IPAddresses holds an invalid (zero) address"},
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

// certCheck inspects an issued credential.
type certCheck func(t *testing.T, h *hierarchy, c pki.Credential)

func all(checks ...certCheck) certCheck {
	return func(t *testing.T, h *hierarchy, c pki.Credential) {
		t.Helper()
		for _, check := range checks {
			check(t, h, c)
		}
	}
}

func ekus(want ...x509.ExtKeyUsage) certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		if !slices.Equal(c.Leaf.ExtKeyUsage, want) {
			t.Errorf("ExtKeyUsage = %v, want %v", c.Leaf.ExtKeyUsage, want)
		}
	}
}

func keyUsage(want x509.KeyUsage) certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		if c.Leaf.KeyUsage != want {
			t.Errorf("KeyUsage = %b, want %b", c.Leaf.KeyUsage, want)
		}
	}
}

func isECDSA() certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		k, ok := c.Key.(*ecdsa.PrivateKey)
		if !ok || k.Curve != elliptic.P256() {
			t.Fatalf("Key is %T, want an ECDSA P-256 key", c.Key)
		}
		if !k.PublicKey.Equal(c.Leaf.PublicKey) || c.TLS.PrivateKey != c.Key {
			t.Error("Key, TLS.PrivateKey and the certificate's public key disagree")
		}
	}
}

func isRSA2048() certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		k, ok := c.Key.(*rsa.PrivateKey)
		if !ok || k.N.BitLen() != 2048 {
			t.Fatalf("Key is %T, want a 2048-bit RSA key", c.Key)
		}
		if !k.PublicKey.Equal(c.Leaf.PublicKey) || c.TLS.PrivateKey != c.Key {
			t.Error("Key, TLS.PrivateKey and the certificate's public key disagree")
		}
	}
}

func names(cn string, dns []string, ips ...string) certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		var gotIPs []string
		for _, ip := range c.Leaf.IPAddresses {
			gotIPs = append(gotIPs, ip.String())
		}
		if c.Leaf.Subject.CommonName != cn || !slices.Equal(c.Leaf.DNSNames, dns) || !slices.Equal(gotIPs, ips) {
			t.Errorf("CN %q DNS %q IP %q, want %q %q %q", c.Leaf.Subject.CommonName, c.Leaf.DNSNames, gotIPs, cn, dns, ips)
		}
	}
}

func revocationInfo(crl, ocsp []string) certCheck {
	return func(t *testing.T, _ *hierarchy, c pki.Credential) {
		t.Helper()
		if !slices.Equal(c.Leaf.CRLDistributionPoints, crl) || !slices.Equal(c.Leaf.OCSPServer, ocsp) {
			t.Errorf("CRL DPs %q OCSP %q, want %q %q", c.Leaf.CRLDistributionPoints, c.Leaf.OCSPServer, crl, ocsp)
		}
	}
}

// verifiesFor checks x509 verification at a time for a key usage, through
// the issuing CA sent in the chain: "" means success, else the exact error.
func verifiesFor(at time.Time, usage x509.ExtKeyUsage, want string) certCheck {
	return func(t *testing.T, h *hierarchy, c pki.Credential) {
		t.Helper()
		inter := x509.NewCertPool()
		for _, der := range c.TLS.Certificate[1:] {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			inter.AddCert(cert)
		}
		_, err := c.Leaf.Verify(x509.VerifyOptions{Roots: h.root.Pool(), Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Verify at %v for %v: %q, want %q", at, usage, got, want)
		}
	}
}

func TestIssue(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	both := []string{issuingCRL}
	tests := []struct {
		name  string
		req   pki.CertRequest
		check certCheck
	}{
		{"server by default", pki.CertRequest{DNSNames: []string{poolName, "fe01.contoso.com", "contoso.com"}, IPAddresses: []netip.Addr{netip.MustParseAddr("10.0.0.20")}},
			all(names(poolName, []string{poolName, "fe01.contoso.com", "contoso.com"}, "10.0.0.20"), ekus(x509.ExtKeyUsageServerAuth),
				keyUsage(x509.KeyUsageDigitalSignature), isECDSA(), revocationInfo(both, []string{ocspURL}),
				verifiesFor(epoch, x509.ExtKeyUsageServerAuth, ""),
				verifiesFor(epoch, x509.ExtKeyUsageClientAuth, "x509: certificate specifies an incompatible key usage"))},
		{"client", pki.CertRequest{CommonName: "alice@contoso.com", Purpose: pki.PurposeClient},
			all(names("alice@contoso.com", nil), ekus(x509.ExtKeyUsageClientAuth),
				verifiesFor(epoch, x509.ExtKeyUsageClientAuth, ""),
				verifiesFor(epoch, x509.ExtKeyUsageServerAuth, "x509: certificate specifies an incompatible key usage"))},
		{"server and client", pki.CertRequest{DNSNames: []string{"edge.contoso.com"}, Purpose: pki.PurposeServerClient},
			all(ekus(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth),
				verifiesFor(epoch, x509.ExtKeyUsageServerAuth, ""), verifiesFor(epoch, x509.ExtKeyUsageClientAuth, ""))},
		{"wrong EKU: code signing only", pki.CertRequest{DNSNames: []string{poolName}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}},
			all(ekus(x509.ExtKeyUsageCodeSigning), verifiesFor(epoch, x509.ExtKeyUsageServerAuth, "x509: certificate specifies an incompatible key usage"))},
		{"explicit EKUs override Purpose", pki.CertRequest{DNSNames: []string{poolName}, Purpose: pki.PurposeServerClient, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
			ekus(x509.ExtKeyUsageClientAuth)},
		{"no EKU extension at all", pki.CertRequest{DNSNames: []string{poolName}, ExtKeyUsages: []x509.ExtKeyUsage{}},
			all(ekus(), verifiesFor(epoch, x509.ExtKeyUsageServerAuth, ""))},
		{"RSA 2048", pki.CertRequest{DNSNames: []string{poolName}, KeyType: pki.KeyRSA2048},
			all(isRSA2048(), keyUsage(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment), verifiesFor(epoch, x509.ExtKeyUsageServerAuth, ""))},
		{"IP only", pki.CertRequest{IPAddresses: []netip.Addr{netip.MustParseAddr("::ffff:10.0.0.20")}}, names("10.0.0.20", nil, "10.0.0.20")},
		{"without OCSP", pki.CertRequest{DNSNames: []string{poolName}, OmitOCSPServer: true}, revocationInfo(both, nil)},
		{"without CRL", pki.CertRequest{DNSNames: []string{poolName}, OmitCRLDistributionPoint: true}, revocationInfo(nil, []string{ocspURL})},
		{"without either", pki.CertRequest{DNSNames: []string{poolName}, OmitOCSPServer: true, OmitCRLDistributionPoint: true}, revocationInfo(nil, nil)},
		{"already expired", pki.CertRequest{DNSNames: []string{poolName}, NotBefore: epoch.Add(-48 * time.Hour), NotAfter: epoch.Add(-24 * time.Hour)},
			verifiesFor(epoch, x509.ExtKeyUsageServerAuth, "x509: certificate has expired or is not yet valid: current time 2026-03-01T12:00:00Z is after 2026-02-28T12:00:00Z")},
		{"not yet valid", pki.CertRequest{DNSNames: []string{poolName}, NotBefore: epoch.Add(24 * time.Hour)},
			all(verifiesFor(epoch, x509.ExtKeyUsageServerAuth, "x509: certificate has expired or is not yet valid: current time 2026-03-01T12:00:00Z is before 2026-03-02T12:00:00Z"),
				verifiesFor(epoch.Add(24*time.Hour), x509.ExtKeyUsageServerAuth, ""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := h.issuing.Issue(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if c.TLS.Leaf != c.Leaf || len(c.TLS.Certificate) != 2 || !bytes.Equal(c.TLS.Certificate[0], c.Leaf.Raw) ||
				!bytes.Equal(c.TLS.Certificate[1], h.issuing.Certificate().Raw) {
				t.Error("TLS.Certificate is not [leaf, issuing CA] with Leaf set")
			}
			if c.Leaf.IsCA || c.Leaf.Issuer.CommonName != issuingName {
				t.Errorf("IsCA %v issuer %q", c.Leaf.IsCA, c.Leaf.Issuer.CommonName)
			}
			tt.check(t, h, c)
		})
	}
}

func TestIssueErrors(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  pki.CertRequest
		want string
	}{
		{"no names", pki.CertRequest{}, "pki: CertRequest has no CommonName, DNSNames or IPAddresses; a certificate needs at least one name"},
		{"bad purpose", pki.CertRequest{CommonName: "x", Purpose: 7}, "pki: CertRequest.Purpose is Purpose(7); want PurposeServer, PurposeClient or PurposeServerClient"},
		{"bad key type", pki.CertRequest{CommonName: "x", KeyType: 42}, `pki: CertRequest for "x": KeyType is KeyType(42); want one of KeyTypes`},
		{"zero ip", pki.CertRequest{CommonName: "x", IPAddresses: []netip.Addr{{}}}, "pki: CertRequest.IPAddresses holds an invalid (zero) address"},
		{"empty window", pki.CertRequest{CommonName: "x", NotBefore: epoch, NotAfter: epoch},
			`pki: CertRequest for "x": NotAfter 2026-03-01T12:00:00Z is not after NotBefore 2026-03-01T12:00:00Z`},
		{"key of another type", pki.CertRequest{CommonName: "x", KeyType: pki.KeyRSA2048, Key: p384},
			`pki: CertRequest for "x": Key is a *ecdsa.PrivateKey, not a RSA 2048 key`},
		{"key on another curve", pki.CertRequest{CommonName: "x", Key: p384},
			`pki: CertRequest for "x": Key is a *ecdsa.PrivateKey, not a ECDSA P-256 key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ca.Issue(tt.req); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

// A request with a key certifies that key, with the key usage of its type.
func TestIssueGivenKey(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same key, certified twice
		cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}, KeyType: pki.KeyRSA2048, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if cred.Key != key || !key.PublicKey.Equal(cred.Leaf.PublicKey) ||
			cred.Leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
			t.Errorf("certified key %T, usage %v; want the given key with digitalSignature and keyEncipherment", cred.Key, cred.Leaf.KeyUsage)
		}
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{pki.PurposeServer.String(), "server"},
		{pki.PurposeClient.String(), "client"},
		{pki.PurposeServerClient.String(), "server+client"},
		{pki.KeyECDSAP256.String(), "ECDSA P-256"},
		{pki.KeyRSA2048.String(), "RSA 2048"},
		{pki.ReasonKeyCompromise.String(), "keyCompromise"},
		{pki.ReasonCACompromise.String(), "cACompromise"},
		{pki.ReasonAACompromise.String(), "aACompromise"},
		{pki.RevocationReason(7).String(), "RevocationReason(7)"},
		{pki.RevocationOff.String(), "off"},
		{pki.RevocationSoftFail.String(), "soft-fail"},
		{pki.RevocationHardFail.String(), "hard-fail"},
		{pki.RevocationMode(9).String(), "RevocationMode(9)"},
		{pki.MethodOCSP.String(), "OCSP"},
		{pki.MethodCRL.String(), "CRL"},
		{pki.StatusUnavailable.String(), "unavailable"},
		{pki.StatusGood.String(), "good"},
		{pki.StatusRevoked.String(), "revoked"},
		{pki.StatusUnknown.String(), "unknown"},
	} {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
	for _, m := range []pki.RevocationMode{pki.RevocationOff, pki.RevocationSoftFail, pki.RevocationHardFail} {
		if got, err := pki.ParseRevocationMode(m.String()); got != m || err != nil {
			t.Errorf("ParseRevocationMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := pki.ParseRevocationMode("strict"); err == nil || err.Error() != `pki: revocation mode "strict": want off, soft-fail or hard-fail` {
		t.Errorf("ParseRevocationMode(strict): %v", err)
	}
}

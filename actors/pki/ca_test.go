package pki_test

import (
	"bytes"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// epoch is the fixed simulation time every test CA starts from.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newCA(t *testing.T, name string) *pki.CA {
	t.Helper()
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: name, Organization: "Contoso", Now: epoch})
	if err != nil {
		t.Fatalf("NewRootCA(%q): %v", name, err)
	}
	return ca
}

func TestNewRootCA(t *testing.T) {
	ca := newCA(t, "Contoso Root CA")
	c := ca.Certificate()
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("IsCA=%v BasicConstraintsValid=%v, want both true", c.IsCA, c.BasicConstraintsValid)
	}
	if c.Subject.CommonName != "Contoso Root CA" || strings.Join(c.Subject.Organization, ",") != "Contoso" {
		t.Errorf("subject = %v", c.Subject)
	}
	if !c.NotBefore.Equal(epoch) || !c.NotAfter.Equal(epoch.Add(pki.DefaultRootValidity)) {
		t.Errorf("validity = [%v, %v], want [%v, %v]", c.NotBefore, c.NotAfter, epoch, epoch.Add(pki.DefaultRootValidity))
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("KeyUsage %b lacks CertSign", c.KeyUsage)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: epoch}); err != nil {
		t.Errorf("root does not verify against its own pool: %v", err)
	}
}

func TestNewRootCAErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  pki.RootConfig
		want string
	}{
		{"no name", pki.RootConfig{Now: epoch}, "pki: RootConfig.CommonName is empty"},
		{"no time", pki.RootConfig{CommonName: "CA"}, "pki: RootConfig.Now is zero"},
		{"negative validity", pki.RootConfig{CommonName: "CA", Now: epoch, Validity: -time.Hour}, "pki: RootConfig.Validity is -1h0m0s"},
		{"failing rand", pki.RootConfig{CommonName: "CA", Now: epoch, Rand: bytes.NewReader(nil)}, "pki: read serial number: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.NewRootCA(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestRandSuppliesSerials(t *testing.T) {
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "CA", Now: epoch, Rand: bytes.NewReader(bytes.Repeat([]byte{0xff, 0x01}, 16))})
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes ff 01 ff 01 ... with the top bit cleared.
	if got, want := ca.Certificate().SerialNumber.Text(16), "7f01ff01ff01ff01ff01ff01ff01ff01"; got != want {
		t.Errorf("root serial = %s, want %s", got, want)
	}
	cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"a.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cert.Leaf.SerialNumber.Text(16), "7f01ff01ff01ff01ff01ff01ff01ff01"; got != want {
		t.Errorf("leaf serial = %s, want %s", got, want)
	}
}

func TestPoolIsFresh(t *testing.T) {
	ca, other := newCA(t, "Contoso Root CA"), newCA(t, "Fabrikam Root CA")
	p := ca.Pool()
	p.AddCert(other.Certificate())
	if _, err := other.Certificate().Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: epoch}); err == nil {
		t.Error("adding to one Pool changed the next: the pool is shared")
	}
}

func TestNewIntermediate(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	root, issuing := h.root, h.issuing
	c := issuing.Certificate()
	if issuing.Name() != issuingName || root.Name() != rootName {
		t.Errorf("names %q, %q", issuing.Name(), root.Name())
	}
	if issuing.Parent() != root || root.Parent() != nil || issuing.Root() != root || root.Root() != root {
		t.Error("Parent/Root do not describe root -> issuing")
	}
	if !c.IsCA || c.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("IsCA %v KeyUsage %b, want a CA that signs certificates and CRLs", c.IsCA, c.KeyUsage)
	}
	if c.Issuer.CommonName != rootName || c.SerialNumber.Int64() != 2 || !c.NotBefore.Equal(epoch) || !c.NotAfter.Equal(epoch.Add(pki.DefaultIntermediateValidity)) {
		t.Errorf("issuer %q serial %v validity [%v, %v]", c.Issuer.CommonName, c.SerialNumber, c.NotBefore, c.NotAfter)
	}
	// The issuing CA's certificate names where the root publishes; what
	// the issuing CA issues names where it publishes.
	if !slices.Equal(c.CRLDistributionPoints, []string{rootCRL}) || !slices.Equal(c.OCSPServer, []string{ocspURL}) {
		t.Errorf("issuing CA names CRL %q OCSP %q, want the root's", c.CRLDistributionPoints, c.OCSPServer)
	}
	if issuing.CRLURL() != issuingCRL || issuing.OCSPURL() != ocspURL || root.CRLURL() != rootCRL {
		t.Errorf("CRLURL/OCSPURL accessors: %q %q %q", issuing.CRLURL(), issuing.OCSPURL(), root.CRLURL())
	}
	if len(root.Certificate().CRLDistributionPoints) != 0 {
		t.Error("a self-signed root names a distribution point")
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: root.Pool(), CurrentTime: epoch}); err != nil {
		t.Errorf("issuing CA does not chain to the root: %v", err)
	}
	// The issuing CA shares the root's clock and serial source.
	h.clock.Set(day1)
	if !issuing.Now().Equal(day1) {
		t.Errorf("issuing.Now() = %v, want the root's clock %v", issuing.Now(), day1)
	}
	leaf := h.issue(t, pki.CertRequest{})
	if leaf.Leaf.SerialNumber.Int64() != 3 || !leaf.Leaf.NotBefore.Equal(day1) {
		t.Errorf("leaf serial %v NotBefore %v, want 3 and the clock's %v", leaf.Leaf.SerialNumber, leaf.Leaf.NotBefore, day1)
	}

	// A third tier chains too and sends [leaf, tier 3, issuing].
	sub, err := issuing.NewIntermediate(pki.IntermediateConfig{CommonName: "Contoso Dept CA", NotBefore: epoch, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Certificate().NotAfter.Equal(epoch.Add(time.Hour)) || sub.Root() != root {
		t.Errorf("tier 3: NotAfter %v", sub.Certificate().NotAfter)
	}
	cred, err := sub.Issue(pki.CertRequest{DNSNames: []string{"x.contoso.com"}, NotBefore: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if len(cred.TLS.Certificate) != 3 || !bytes.Equal(cred.TLS.Certificate[1], sub.Certificate().Raw) || !bytes.Equal(cred.TLS.Certificate[2], c.Raw) {
		t.Errorf("tier-3 chain has %d certificates, want leaf, tier 3, issuing", len(cred.TLS.Certificate))
	}
	if len(cred.Leaf.CRLDistributionPoints)+len(cred.Leaf.OCSPServer) != 0 {
		t.Error("a CA without URLs wrote some into its certificates")
	}
}

func TestCAConfigErrors(t *testing.T) {
	root := newCA(t, "Contoso Root CA")
	roots := []struct {
		name string
		cfg  pki.RootConfig
		want string
	}{
		{"relative CRL URL", pki.RootConfig{CommonName: "CA", Now: epoch, CRLURL: "pki.contoso.com/crl"},
			`pki: CRLURL of "CA": "pki.contoso.com/crl" is not an absolute http URL; want e.g. "http://pki.contoso.com/ocsp"`},
		{"ldap OCSP URL", pki.RootConfig{CommonName: "CA", Now: epoch, OCSPURL: "ldap://dc01/ocsp"},
			`pki: OCSPURL of "CA": "ldap://dc01/ocsp" is not an absolute http URL; want e.g. "http://pki.contoso.com/ocsp"`},
		{"negative CRL validity", pki.RootConfig{CommonName: "CA", Now: epoch, CRLValidity: -time.Hour},
			`pki: CRLValidity -1h0m0s / OCSPValidity 0s of "CA": want positive durations (zero for the defaults)`},
	}
	for _, tt := range roots {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := pki.NewRootCA(tt.cfg); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
	inters := []struct {
		name string
		cfg  pki.IntermediateConfig
		want string
	}{
		{"no name", pki.IntermediateConfig{}, `pki: IntermediateConfig.CommonName is empty; name the CA, e.g. "Contoso Issuing CA"`},
		{"negative validity", pki.IntermediateConfig{CommonName: "Sub", Validity: -time.Hour}, `pki: IntermediateConfig.Validity of "Sub" is -1h0m0s; want a positive duration`},
		{"bad URL", pki.IntermediateConfig{CommonName: "Sub", CRLURL: "https://pki.contoso.com/x.crl"},
			`pki: CRLURL of "Sub": "https://pki.contoso.com/x.crl" is not an absolute http URL; want e.g. "http://pki.contoso.com/ocsp"`},
		{"failing rand", pki.IntermediateConfig{CommonName: "Sub", Rand: bytes.NewReader(nil)}, ""}, // its own source is for what it issues
	}
	for _, tt := range inters {
		t.Run(tt.name, func(t *testing.T) {
			_, err := root.NewIntermediate(tt.cfg)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Fatalf("err = %v\nwant  %q", err, tt.want)
			}
		})
	}
}

func TestClock(t *testing.T) {
	clk := newClock(epoch)
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "CA", Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Certificate().NotBefore.Equal(epoch) {
		t.Errorf("NotBefore %v, want the clock's %v", ca.Certificate().NotBefore, epoch)
	}
	clk.Set(day1)
	if !ca.Now().Equal(day1) {
		t.Errorf("Now() = %v, want %v", ca.Now(), day1)
	}
	frozen := newCA(t, "Frozen CA")
	if !frozen.Now().Equal(epoch) {
		t.Errorf("a CA without Clock: Now() = %v, want RootConfig.Now", frozen.Now())
	}
}

func TestDuplicateSerial(t *testing.T) {
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "CA", Now: epoch, Rand: bytes.NewReader(bytes.Repeat([]byte{1}, 64))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(pki.CertRequest{CommonName: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err = ca.Issue(pki.CertRequest{CommonName: "b"})
	if want := "pki: CA already issued serial 0x1010101010101010101010101010101; its Rand repeats itself"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

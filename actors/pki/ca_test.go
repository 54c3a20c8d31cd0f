package pki_test

import (
	"bytes"
	"crypto/x509"
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

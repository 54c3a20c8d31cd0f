package pki_test

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// parseCRL fetches and checks a CA's current CRL.
func parseCRL(t *testing.T, ca *pki.CA) *x509.RevocationList {
	t.Helper()
	der, err := ca.CRL()
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Certificate()); err != nil {
		t.Fatalf("CRL of %s not signed by it: %v", ca.Name(), err)
	}
	return crl
}

func TestCRL(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	a := h.issue(t, pki.CertRequest{})                                       // 0x3
	b := h.issue(t, pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}}) // 0x4
	h.issue(t, pki.CertRequest{DNSNames: []string{"edge.contoso.com"}})      // 0x5, never revoked

	crl := parseCRL(t, h.issuing)
	if crl.Number.Int64() != 1 || !crl.ThisUpdate.Equal(epoch) || !crl.NextUpdate.Equal(epoch.Add(pki.DefaultCRLValidity)) || len(crl.RevokedCertificateEntries) != 0 {
		t.Fatalf("first CRL: number %v [%v, %v] %d entries", crl.Number, crl.ThisUpdate, crl.NextUpdate, len(crl.RevokedCertificateEntries))
	}
	if crl.Issuer.CommonName != issuingName {
		t.Errorf("CRL issuer %q", crl.Issuer.CommonName)
	}

	// Nothing changed: the same CRL is served again.
	h.clock.Set(epoch.Add(time.Hour))
	if again := parseCRL(t, h.issuing); again.Number.Int64() != 1 || !again.ThisUpdate.Equal(epoch) {
		t.Errorf("unchanged CRL re-signed: number %v thisUpdate %v", again.Number, again.ThisUpdate)
	}

	// A revocation publishes a new CRL at once; times are whole seconds.
	at := epoch.Add(30*time.Minute + 500*time.Millisecond)
	if err := h.issuing.Revoke(b.Leaf.SerialNumber, pki.ReasonKeyCompromise, at); err != nil {
		t.Fatal(err)
	}
	if err := h.issuing.Revoke(a.Leaf.SerialNumber, pki.ReasonUnspecified, time.Time{}); err != nil { // at the clock's now
		t.Fatal(err)
	}
	crl = parseCRL(t, h.issuing)
	if crl.Number.Int64() != 2 || !crl.ThisUpdate.Equal(epoch.Add(time.Hour)) {
		t.Errorf("after revoking: number %v thisUpdate %v, want 2 at %v", crl.Number, crl.ThisUpdate, epoch.Add(time.Hour))
	}
	type entry struct {
		serial int64
		at     time.Time
		reason int
	}
	var got []entry
	for _, e := range crl.RevokedCertificateEntries {
		got = append(got, entry{e.SerialNumber.Int64(), e.RevocationTime, e.ReasonCode})
	}
	want := []entry{{4, epoch.Add(30 * time.Minute), 1}, {3, epoch.Add(time.Hour), 0}}
	if len(got) != len(want) || got[0] != want[0] || !got[1].at.Equal(want[1].at) || got[1].serial != 3 || got[1].reason != 0 {
		t.Errorf("entries %+v, want %+v", got, want)
	}
	r, ok := h.issuing.Revoked(b.Leaf.SerialNumber)
	if !ok || r.Reason != pki.ReasonKeyCompromise || !r.At.Equal(epoch.Add(30*time.Minute)) || r.At.Location() != time.UTC {
		t.Errorf("Revoked(0x4) = %+v, %v", r, ok)
	}
	if _, ok := h.issuing.Revoked(big.NewInt(5)); ok {
		t.Error("Revoked(0x5) reports a certificate never revoked")
	}

	// Revoking again replaces the reason, and re-publishes.
	if err := h.issuing.Revoke(b.Leaf.SerialNumber, pki.ReasonSuperseded, at); err != nil {
		t.Fatal(err)
	}
	crl = parseCRL(t, h.issuing)
	if crl.Number.Int64() != 3 || len(crl.RevokedCertificateEntries) != 2 || crl.RevokedCertificateEntries[0].ReasonCode != int(pki.ReasonSuperseded) {
		t.Errorf("after re-revoking: number %v entries %+v", crl.Number, crl.RevokedCertificateEntries)
	}

	// Once the clock reaches nextUpdate the CA publishes a fresh CRL.
	next := crl.NextUpdate
	h.clock.Set(next)
	crl = parseCRL(t, h.issuing)
	if crl.Number.Int64() != 4 || !crl.ThisUpdate.Equal(next) || len(crl.RevokedCertificateEntries) != 2 {
		t.Errorf("at nextUpdate: number %v thisUpdate %v", crl.Number, crl.ThisUpdate)
	}

	// The root's CRL is its own, numbered independently.
	if err := h.root.Revoke(h.issuing.Certificate().SerialNumber, pki.ReasonCACompromise, epoch); err != nil {
		t.Fatal(err)
	}
	rc := parseCRL(t, h.root)
	if rc.Number.Int64() != 1 || len(rc.RevokedCertificateEntries) != 1 || rc.RevokedCertificateEntries[0].SerialNumber.Int64() != 2 {
		t.Errorf("root CRL number %v entries %+v", rc.Number, rc.RevokedCertificateEntries)
	}
}

func TestCRLValidityConfig(t *testing.T) {
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "CA", Now: epoch, CRLValidity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if crl := parseCRL(t, ca); !crl.NextUpdate.Equal(epoch.Add(time.Hour)) {
		t.Errorf("nextUpdate %v, want thisUpdate + 1h", crl.NextUpdate)
	}
}

func TestRevokeErrors(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	leaf := h.issue(t, pki.CertRequest{})
	tests := []struct {
		name   string
		ca     *pki.CA
		serial *big.Int
		reason pki.RevocationReason
		want   string
	}{
		{"nil serial", h.issuing, nil, pki.ReasonKeyCompromise, "pki: Revoke: serial is nil"},
		{"not issued here", h.root, leaf.Leaf.SerialNumber, pki.ReasonKeyCompromise, "pki: Revoke: Contoso Root CA did not issue serial 0x3"},
		{"never issued", h.issuing, big.NewInt(0x3f), pki.ReasonKeyCompromise, "pki: Revoke: Contoso Issuing CA did not issue serial 0x3f"},
		{"removeFromCRL", h.issuing, leaf.Leaf.SerialNumber, pki.ReasonRemoveFromCRL, "pki: Revoke 0x3: reason removeFromCRL cannot be used; want e.g. ReasonKeyCompromise"},
		{"unused code 7", h.issuing, leaf.Leaf.SerialNumber, 7, "pki: Revoke 0x3: reason RevocationReason(7) cannot be used; want e.g. ReasonKeyCompromise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ca.Revoke(tt.serial, tt.reason, epoch); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
	if _, ok := h.issuing.Revoked(leaf.Leaf.SerialNumber); ok {
		t.Error("a failed Revoke revoked")
	}
}

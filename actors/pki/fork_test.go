package pki_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// forkHierarchy forks h's root and issuing CA onto clock.
func forkHierarchy(t *testing.T, h *hierarchy, clock func() time.Time) (root, issuing *pki.CA) {
	t.Helper()
	root, err := h.root.Fork(clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	issuing, err = h.issuing.Fork(clock, root)
	if err != nil {
		t.Fatal(err)
	}
	return root, issuing
}

func TestForkKeepsIdentityAndRecords(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	revoked := h.issue(t, pki.CertRequest{})
	if err := h.issuing.Revoke(revoked.Leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	later := newClock(epoch.Add(48 * time.Hour))
	root, issuing := forkHierarchy(t, h, later.Now)

	if !issuing.Certificate().Equal(h.issuing.Certificate()) || issuing.Root() != root || issuing.Parent() != root {
		t.Fatal("fork of the issuing CA lost its certificate or its place under the forked root")
	}
	if issuing.Now() != later.Now() {
		t.Errorf("fork's clock reads %v, want %v", issuing.Now(), later.Now())
	}
	if _, ok := issuing.Revoked(revoked.Leaf.SerialNumber); !ok {
		t.Error("fork forgot a revocation made before the fork")
	}
	crl := parseCRL(t, issuing) // signed with the original key
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(revoked.Leaf.SerialNumber) != 0 {
		t.Errorf("fork's CRL lists %d entries, want the one revoked before the fork", len(crl.RevokedCertificateEntries))
	}
	if !crl.ThisUpdate.Equal(later.Now().Truncate(time.Second)) {
		t.Errorf("fork's CRL thisUpdate %v, want the fork's clock %v", crl.ThisUpdate, later.Now())
	}

	// What a fork does stays in the fork, and the other way round.
	onFork, err := issuing.Issue(pki.CertRequest{DNSNames: []string{poolName}})
	if err != nil {
		t.Fatal(err)
	}
	if err := issuing.Revoke(onFork.Leaf.SerialNumber, pki.ReasonSuperseded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.issuing.Revoked(onFork.Leaf.SerialNumber); ok {
		t.Error("a revocation on the fork reached the original")
	}
	if err := h.issuing.Revoke(onFork.Leaf.SerialNumber, pki.ReasonSuperseded, time.Time{}); err == nil {
		t.Error("the original revoked a serial only its fork issued")
	}
	onOriginal := h.issue(t, pki.CertRequest{})
	if err := issuing.Revoke(onOriginal.Leaf.SerialNumber, pki.ReasonSuperseded, time.Time{}); err == nil {
		t.Error("the fork revoked a serial only the original issued after the fork")
	}
}

func TestForkRejectsWrongParent(t *testing.T) {
	h := newHierarchy(t, hierarchyConfig{})
	other := newHierarchy(t, hierarchyConfig{})
	root, _ := forkHierarchy(t, h, nil)
	for _, tc := range []struct {
		name   string
		ca     *pki.CA
		parent *pki.CA
		want   string
	}{
		{"root with a parent", h.root, root, "given a parent"},
		{"issuing CA without its parent", h.issuing, nil, "needs the fork of its parent"},
		{"issuing CA under another root", h.issuing, other.root, "not its issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.ca.Fork(nil, tc.parent)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Fork: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

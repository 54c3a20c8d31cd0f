package lab_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func TestEvidenceLines(t *testing.T) {
	var e lab.Evidence
	e.Notef("alice", "handshake failed: %s", "x509: certificate signed by unknown authority")
	e.Notef("", "topology ready")
	e.CanariesObtained("eavesdropper", 0, 2, lab.FormatBytes(9318)+" of captured TCP payload")
	e.CanariesObtained("mallory", 1, 1, "decrypted SIP")
	e.IdentityAccepted("alice", "pool01.contoso.com", "certificate from mallory's CA")
	e.InjectionAccepted("bob", "")
	e.SetService(lab.ServiceDenied)

	want := []string{
		"alice: handshake failed: x509: certificate signed by unknown authority",
		"topology ready",
		"eavesdropper: 0 of 2 canaries in 9.1 KiB of captured TCP payload",
		"mallory: 1 of 1 canary in decrypted SIP",
		`alice: accepted the attacker as "pool01.contoso.com": certificate from mallory's CA`,
		"bob: accepted an injected message",
	}
	if got := e.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines:\n got %q\nwant %q", got, want)
	}
	var kinds []lab.CompromiseKind
	for _, c := range e.Compromises() {
		kinds = append(kinds, c.Kind)
	}
	wantKinds := []lab.CompromiseKind{lab.CompromiseCanary, lab.CompromiseIdentity, lab.CompromiseInjection}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("compromise kinds = %v, want %v", kinds, wantKinds)
	}
	if got := e.Compromises()[0].Line; got != want[3] {
		t.Errorf("compromise line = %q, want %q", got, want[3])
	}
	if e.Service() != lab.ServiceDenied {
		t.Errorf("Service = %q, want denied", e.Service())
	}
}

func TestEvidenceZeroValue(t *testing.T) {
	var e lab.Evidence
	if e.Service() != lab.ServiceUnknown || len(e.Lines()) != 0 || len(e.Compromises()) != 0 {
		t.Errorf("zero Evidence: service %q, %d lines, %d compromises", e.Service(), len(e.Lines()), len(e.Compromises()))
	}
}

func TestEvidenceConcurrent(t *testing.T) {
	var e lab.Evidence
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				e.Notef(fmt.Sprint("actor", i), "line %d", j)
				if j%10 == 0 {
					e.InjectionAccepted("victim", "x")
				}
				_ = e.Lines()
			}
		})
	}
	wg.Wait()
	if n := len(e.Lines()); n != 8*55 {
		t.Errorf("%d lines, want %d", n, 8*55)
	}
	if n := len(e.Compromises()); n != 8*5 {
		t.Errorf("%d compromises, want %d", n, 8*5)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{9318, "9.1 KiB"},
		{1048575, "1.0 MiB"},
		{3 << 20, "3.0 MiB"},
		{3<<30 + 1<<29, "3.5 GiB"},
	}
	for _, tt := range tests {
		if got := lab.FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func ExampleEvidence() {
	var e lab.Evidence
	e.Reached("mallory", lab.MilestoneInPosition, "intercepted alice's connection to %s", "10.0.0.11:5061")
	e.Refused("alice", lab.DefenseHostnameCheck, "TLS handshake with %s failed: %s", "pool01.contoso.com", "x509: certificate is valid for mallory.example, not pool01.contoso.com")
	e.CanariesObtained("mallory", 0, 2, lab.FormatBytes(4200)+" of captured TCP payload")
	e.SetService(lab.ServiceDenied)
	for _, l := range e.Lines() {
		fmt.Println(l)
	}
	j := lab.Decide(nil, lab.Observation{Attack: true, Defenses: lab.Hardened(),
		Compromises: e.Compromises(), Refusals: e.Refusals(), Milestones: e.Milestones()})
	fmt.Println(j.Verdict, j.StoppedBy, e.Service())
	// Output:
	// mallory: intercepted alice's connection to 10.0.0.11:5061
	// alice: TLS handshake with pool01.contoso.com failed: x509: certificate is valid for mallory.example, not pool01.contoso.com
	// mallory: 0 of 2 canaries in 4.1 KiB of captured TCP payload
	// held [hostname-check] denied
}

package lab_test

import (
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// A root on the distrust list is refused even though the client trusts
// it, with chain validation on or off; with the switch off, or the list
// empty, the handshake completes.
func TestTLSPolicyDistrustList(t *testing.T) {
	f := newTLSFixture(t)
	server := policy(f, nil).Server(f.good.TLS)
	const refused = `tls: failed to verify certificate: lab: certificate chains to "CN=Test Root", which is on the enterprise distrust list (disallowed store)`
	tests := []struct {
		name     string
		change   func(*lab.Defenses)
		distrust bool
		want     string
	}{
		{"distrusted", nil, true, refused},
		{"distrusted, chain validation off", func(d *lab.Defenses) { d.ChainValidation = false }, true, refused},
		{"switch off", func(d *lab.Defenses) { d.DistrustList = false }, true, ""},
		{"empty list", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(f, tt.change)
			p.Distrusted = &lab.DistrustList{}
			if tt.distrust {
				p.Distrusted.Add(f.root.Certificate())
			}
			clientErr, _ := f.handshake(t, p.Client(f.roots, nil), server, "pool01.contoso.com")
			got := ""
			if clientErr != nil {
				got = clientErr.Error()
			}
			if got != tt.want {
				t.Fatalf("client error %q, want %q", got, tt.want)
			}
			if defense, ok := lab.ClassifyRefusal(clientErr); tt.want != "" && (!ok || defense != lab.DefenseDistrustList) {
				t.Errorf("ClassifyRefusal = %q, %v; want distrust-list", defense, ok)
			}
		})
	}
}

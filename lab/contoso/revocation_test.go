package contoso

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
)

// Every revocation service a host may need answers it: alice, on the
// enterprise LAN, checks a certificate of the public CA in hard-fail mode
// and gets a status, not "revocation unavailable" (dns01 holds a copy of
// publictrust.com and rtr01 routes the LAN to the Internet).
func TestContosoPublicCARevocationFromLAN(t *testing.T) {
	s := lab.Scenario{Name: "x/public-ca", Summary: "s", Expected: lab.Passed, Run: func(ctx context.Context, env *lab.Env) error {
		c, err := Config{}.Build(ctx, env)
		if err != nil {
			return err
		}
		defer c.Close()
		issuing := c.CA("public-issuing")
		cred, err := issuing.Issue(pki.CertRequest{DNSNames: []string{"sip.litware.com"}})
		if err != nil {
			return err
		}
		chain := []*x509.Certificate{cred.Leaf, issuing.Certificate(), issuing.Root().Certificate()}
		obs, err := c.checker("alice").Check(ctx, chain)
		if err != nil {
			t.Errorf("alice's hard-fail check of a public-CA certificate: %v", err)
		}
		if len(obs) == 0 || obs[0].Status != pki.StatusGood {
			t.Errorf("observations %v, want the leaf good", obs)
		}
		env.Evidence.Delivered("alice", "checked")
		return nil
	}}
	if res := (lab.Runner{}).Run(context.Background(), s); res.Err != nil {
		t.Fatal(res.Err)
	}
}

package lab

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
)

// Every revocation service a host may need answers it: alice, on the
// enterprise LAN, checks a certificate of the public CA in hard-fail mode
// and gets a status, not "revocation unavailable" (dns01 holds a copy of
// publictrust.com and rtr01 routes the LAN to the Internet).
func TestContosoPublicCARevocationFromLAN(t *testing.T) {
	s := Scenario{Name: "x/public-ca", Summary: "s", Expected: Passed, Run: func(ctx context.Context, env *Env) error {
		c, err := ContosoConfig{}.Build(ctx, env, env.Defenses)
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
	if res := (Runner{}).Run(context.Background(), s); res.Err != nil {
		t.Fatal(res.Err)
	}
}

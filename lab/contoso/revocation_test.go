package contoso

import (
	"context"
	"crypto/x509"
	"slices"
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

// Config.RevocationModes sets a host's own revocation mode; the others
// follow the run's defense, and a host the topology lacks is refused.
func TestContosoRevocationModes(t *testing.T) {
	cfg := Config{RevocationModes: map[string]pki.RevocationMode{"alice": pki.RevocationOff, "edge01": pki.RevocationSoftFail}}
	s := lab.Scenario{Name: "x/revocation-modes", Summary: "s", Expected: lab.Passed, Run: func(ctx context.Context, env *lab.Env) error {
		c, err := cfg.Build(ctx, env)
		if err != nil {
			return err
		}
		defer c.Close()
		for host, want := range map[string]pki.RevocationMode{"alice": pki.RevocationOff, "edge01": pki.RevocationSoftFail, "fe01": pki.RevocationHardFail} {
			if got := c.checker(host).Mode; got != want {
				t.Errorf("%s checks revocation %v, want %v", host, got, want)
			}
		}
		env.Evidence.Delivered("alice", "checked")
		return nil
	}}
	if res := (lab.Runner{}).Run(context.Background(), s); res.Err != nil {
		t.Fatal(res.Err)
	}
	want := "revocation checking on alice: off, whatever the revocation defense says"
	if opts := cfg.options(); !slices.Contains(opts, want) {
		t.Errorf("options %q lack %q", opts, want)
	}
	bad := Config{RevocationModes: map[string]pki.RevocationMode{"fe03": pki.RevocationOff}}
	if err := bad.Validate(); err == nil || err.Error() != `lab: contoso: RevocationModes names host "fe03", which the topology does not have` {
		t.Errorf("Validate: %v", err)
	}
}

// Config.KeyTypes issues a certificate with the key type it names, and
// the topology description says so; a certificate the topology lacks is
// refused.
func TestContosoKeyTypes(t *testing.T) {
	cfg := Config{KeyTypes: map[string]pki.KeyType{"fe01": pki.KeyRSA2048}}
	s := lab.Scenario{Name: "x/key-types", Summary: "s", Expected: lab.Passed, Run: func(ctx context.Context, env *lab.Env) error {
		c, err := cfg.Build(ctx, env)
		if err != nil {
			return err
		}
		defer c.Close()
		fe01, _ := c.Credential("fe01")
		fe02, _ := c.Credential("fe02")
		if got, want := fe01.Leaf.PublicKeyAlgorithm, x509.RSA; got != want {
			t.Errorf("fe01's key %v, want %v", got, want)
		}
		if got, want := fe02.Leaf.PublicKeyAlgorithm, x509.ECDSA; got != want {
			t.Errorf("fe02's key %v, want %v", got, want)
		}
		env.Evidence.Delivered("alice", "checked")
		return nil
	}}
	if res := (lab.Runner{}).Run(context.Background(), s); res.Err != nil {
		t.Fatal(res.Err)
	}
	var key string
	for _, cd := range cfg.Describe(lab.Hardened()).Certificates {
		if cd.Holder == "fe01" {
			key = cd.Key
		}
	}
	if key != pki.KeyRSA2048.String() {
		t.Errorf("described fe01 key %q, want %q", key, pki.KeyRSA2048)
	}
	bad := Config{KeyTypes: map[string]pki.KeyType{"fe03": pki.KeyRSA2048}}
	if err := bad.Validate(); err == nil || err.Error() != `lab: contoso: KeyTypes names certificate "fe03", which the topology does not have` {
		t.Errorf("Validate: %v", err)
	}
}

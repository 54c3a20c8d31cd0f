package contoso_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// TestContosoRunsShareKeysNotRecords builds the preset in two runs: the
// second presents the certificates the first built (the PKI is made once
// per process), while what the first run revoked stays in the first run.
func TestContosoRunsShareKeysNotRecords(t *testing.T) {
	type seen struct {
		fe01, root *x509.Certificate
		extra      pki.Credential
	}
	build := func(f func(c *contoso.Deployment) error) {
		t.Helper()
		s := lab.Scenario{Name: "x/pki", Summary: "s", Expected: lab.Passed, Run: func(ctx context.Context, env *lab.Env) error {
			c, err := contoso.Config{}.Build(ctx, env)
			if err != nil {
				return err
			}
			defer c.Close()
			return f(c)
		}}
		// Nothing is sent, so the baseline is inconclusive; only a failed
		// run is a failure here.
		var inconclusive *lab.InconclusiveError
		if res := (lab.Runner{}).Run(context.Background(), s); res.Err != nil && !errors.As(res.Err, &inconclusive) {
			t.Fatal(res.Err)
		}
	}
	var first, second seen
	build(func(c *contoso.Deployment) error {
		cred, _ := c.Credential("fe01")
		first.fe01, first.root = cred.Leaf, c.CA("contoso-root").Certificate()
		var err error
		if first.extra, err = c.CA("contoso-issuing").Issue(pki.CertRequest{DNSNames: []string{"extra.contoso.com"}}); err != nil {
			return err
		}
		return c.CA("contoso-issuing").Revoke(cred.Leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{})
	})
	build(func(c *contoso.Deployment) error {
		cred, _ := c.Credential("fe01")
		second.fe01, second.root = cred.Leaf, c.CA("contoso-root").Certificate()
		if _, revoked := c.CA("contoso-issuing").Revoked(cred.Leaf.SerialNumber); revoked {
			t.Error("a revocation made in the first run shows in the second")
		}
		if err := c.CA("contoso-issuing").Revoke(first.extra.Leaf.SerialNumber, pki.ReasonSuperseded, time.Time{}); err == nil {
			t.Error("the second run's CA knows a certificate the first run issued")
		}
		return nil
	})
	if !first.fe01.Equal(second.fe01) || !first.root.Equal(second.root) {
		t.Error("the second run built its own PKI instead of reusing the process's")
	}
}

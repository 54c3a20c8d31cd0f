package baseline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tlslab/tlslab/internal/schematest"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
)

// Written baselines, of both kinds and every cell shape, and the catalog's
// committed ones validate against docs/schema/baseline.schema.json. The
// file's "format" field is its schema version.
func TestBaselineSchema(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []baseline.Baseline{
		{Kind: baseline.KindRun},
		{Kind: baseline.KindRun, Outcomes: map[string]baseline.Cell{
			"mitm/self-signed": held(lab.ServiceDenied, "chain-validation", "revocation"),
			"eavesdrop/plain":  {Verdict: lab.Broken, Service: lab.ServiceIntact},
			"dns/idle":         {Verdict: lab.Error},
		}},
		{Kind: baseline.KindMatrix, Outcomes: map[string]baseline.Cell{
			"mitm/x [hardened]":     held(lab.ServiceIntact, "hostname-check"),
			"mitm/x [tls-only off]": {Verdict: lab.Passed, Service: lab.ServiceUnknown},
		}},
	} {
		path := filepath.Join(dir, string(b.Kind)+".json")
		if err := baseline.Write(path, b); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, schematest.Baseline, data)
	}
	for _, name := range []string{"run.json", "matrix.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "testdata", "baselines", name))
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, schematest.Baseline, data)
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlslab/tlslab/internal/schematest"
)

// What the command line writes as JSON, from real runs of the fake
// catalog, validates against docs/schema: run results (with an error and
// an impaired network), the matrix on a small selection, and both kinds
// of baseline. Seeds are decimal strings that replay the run.
func TestJSONOutputsValidate(t *testing.T) {
	dir := t.TempDir()
	runBase := filepath.Join(dir, "run.json")
	o := run(withError(), "run", "--format", "json", "--seed", "12648410257787539353", "--impair", "loss=1%",
		"--update-baseline", runBase)
	exit(ExitMismatch)(t, o)
	schematest.Validate(t, schematest.Results, []byte(o.stdout))
	var doc struct {
		Results []struct {
			Seed string `json:"seed"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Results {
		if r.Seed != "12648410257787539353" {
			t.Errorf("seed %q, want \"12648410257787539353\"", r.Seed)
		}
	}

	matrixBase := filepath.Join(dir, "matrix.json")
	o = run(withNameCheck(), "matrix", "--format", "json", "mitm/wrong-name", "eavesdrop/tls", "--update-baseline", matrixBase)
	exit(ExitOK)(t, o)
	schematest.Validate(t, schematest.Matrix, []byte(o.stdout))

	for _, path := range []string{runBase, matrixBase} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, schematest.Baseline, data)
	}
}

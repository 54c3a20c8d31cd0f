package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/internal/schematest"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/matrix/matrixtest"
	"github.com/tlslab/tlslab/lab/report"
)

// bigSeed does not survive a float64: jq and JavaScript read the number
// 12648410257787539353 as 12648410257787540000.
const bigSeed uint64 = 12648410257787539353

// The results document carries its schema version and every seed as a
// decimal string, and validates against docs/schema/results.schema.json.
func TestWriteJSONSchema(t *testing.T) {
	results := append(sampleResults(), lab.Result{
		Scenario: "mitm/big-seed", Verdict: lab.Broken, Expected: lab.Broken, OK: true,
		Service: lab.ServiceIntact, Seed: bigSeed, Impair: "loss=2%",
	})
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, results); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Results, buf.Bytes())
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Results       []struct {
			Seed string `json:"seed"`
		} `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != report.ResultsSchemaVersion || report.ResultsSchemaVersion != "tlslab-results/1" {
		t.Errorf("schema_version %q, want tlslab-results/1", doc.SchemaVersion)
	}
	if got := doc.Results[len(doc.Results)-1].Seed; got != "12648410257787539353" {
		t.Errorf("seed %q, want \"12648410257787539353\"", got)
	}
	if !strings.Contains(buf.String(), `"seed": "12648410257787539353"`) {
		t.Errorf("the seed is not a string:\n%s", buf.String())
	}
}

// The matrix document carries its schema version and string seeds, and
// validates against docs/schema/matrix.schema.json, findings and backups
// included.
func TestWriteMatrixJSONSchema(t *testing.T) {
	res := matrix.Runner{Cells: lab.Runner{Seed: bigSeed}}.Run(context.Background(), []lab.Scenario{
		matrixtest.Layered("mitm/name", []lab.Label{lab.LabelTLS}, false, lab.DefenseHostnameCheck),
		matrixtest.Layered("dns/mislabelled", []lab.Label{lab.LabelDNS}, false, lab.DefenseChainValidation),
		matrixtest.Layered("eavesdrop/unstoppable", []lab.Label{lab.LabelTLS}, false),
	})
	var buf bytes.Buffer
	if err := report.WriteMatrixJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Matrix, buf.Bytes())
	if !strings.HasPrefix(buf.String(), "{\n  \"schema_version\": \"tlslab-matrix/1\",\n") {
		t.Errorf("the matrix does not open with its schema_version:\n%.200s", buf.String())
	}
	if !strings.Contains(buf.String(), `"seed": "12648410257787539353"`) {
		t.Errorf("cell seeds are not strings:\n%s", buf.String())
	}
}

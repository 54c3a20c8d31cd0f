package lab_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

func TestBaselineCompare(t *testing.T) {
	stored := lab.Baseline{Kind: lab.BaselineRun, Outcomes: map[string]string{
		"a/same": "held, service denied", "b/flipped": "held, service denied", "c/gone": "broken, service intact",
	}}
	now := lab.RunBaseline([]lab.Result{
		{Scenario: "a/same", Verdict: lab.Held, Service: lab.ServiceDenied},
		{Scenario: "b/flipped", Verdict: lab.Broken, Service: lab.ServiceIntact},
		{Scenario: "d/new", Verdict: lab.Error},
	})
	var got []string
	for _, c := range stored.Compare(now, true) {
		got = append(got, c.String())
	}
	want := []string{
		"b/flipped: was held, service denied, now broken, service intact",
		"c/gone: was broken, service intact, now gone from the catalog",
		"d/new: not in the baseline, now error",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("complete compare:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if partial := stored.Compare(now, false); len(partial) != 2 {
		t.Errorf("a partial run must not report stored cells it did not run: %v", partial)
	}
	merged := stored.Merge(now, false)
	if len(merged.Outcomes) != 4 || merged.Outcomes["c/gone"] == "" || merged.Outcomes["b/flipped"] != "broken, service intact" {
		t.Errorf("partial merge %v", merged.Outcomes)
	}
	if whole := stored.Merge(now, true); len(whole.Outcomes) != 3 || whole.Outcomes["c/gone"] != "" {
		t.Errorf("complete merge %v", whole.Outcomes)
	}
}

func TestBaselineFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	b := lab.Baseline{Kind: lab.BaselineMatrix, Outcomes: map[string]string{
		"z [hardened]": "held, service intact", "a [tls-only off]": "broken, service denied",
	}}
	if err := lab.WriteBaseline(path, b); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := `{
  "format": "tlslab-baseline/1",
  "kind": "matrix",
  "outcomes": {
    "a [tls-only off]": "broken, service denied",
    "z [hardened]": "held, service intact"
  }
}
`
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	back, err := lab.ReadBaseline(path, lab.BaselineMatrix)
	if err != nil || len(back.Compare(b, true)) != 0 {
		t.Errorf("read back: %v, %v", back, err)
	}
}

func TestReadBaselineRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, want string
	}{
		{"syntax", "{\n  \"format\": \"tlslab-baseline/1\",\n  \"kind\": \"run\"\n  \"outcomes\": {}\n}", `line 4, column 3: invalid character '"' after object key:value pair`},
		{"unknown-field", `{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {}, "verdicts": {}}`, `not a baseline: unknown field "verdicts"`},
		{"wrong-type", `{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {"a/b": 1}}`, `line 1, column 68: in "outcomes": a JSON number where a string belongs`},
		{"no-format", `{"kind": "run", "outcomes": {}}`, `missing "format"; want "tlslab-baseline/1"`},
		{"future-format", `{"format": "tlslab-baseline/9", "kind": "run", "outcomes": {}}`, `"format" is "tlslab-baseline/9"; this tlslab reads "tlslab-baseline/1"`},
		{"wrong-kind", `{"format": "tlslab-baseline/1", "kind": "matrix", "outcomes": {}}`, `"kind" is "matrix", but this command compares "run" baselines (written by 'tlslab run --update-baseline')`},
		{"bad-outcome", `{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {"a/b": "held"}}`, `outcome of "a/b" is "held"; want "<held|broken>, service <intact|denied|unknown>" or "error"`},
		{"trailing", `{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {}} {}`, `extra data after the JSON object`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := lab.ReadBaseline(path, lab.BaselineRun)
			var fe *lab.BaselineFileError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("err %v (%T), want a *BaselineFileError for %s", err, err, path)
			}
			if want := "baseline " + path + ": " + tt.want; err.Error() != want {
				t.Errorf("got  %s\nwant %s", err, want)
			}
		})
	}
	if _, err := lab.ReadBaseline(filepath.Join(dir, "missing.json"), lab.BaselineRun); err == nil ||
		!strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
}

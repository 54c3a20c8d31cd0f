package baseline_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/matrix/matrixtest"
)

func held(service lab.Availability, stoppedBy ...string) baseline.Cell {
	return baseline.Cell{Verdict: lab.Held, StoppedBy: stoppedBy, Service: service}
}

func TestBaselineCellOf(t *testing.T) {
	for _, tt := range []struct {
		r    lab.Result
		want string
	}{
		{lab.Result{Verdict: lab.Held, StoppedBy: []string{"chain-validation", "revocation"}, Service: lab.ServiceDenied},
			"held (chain-validation, revocation), service denied"},
		{lab.Result{Verdict: lab.Held, StoppedBy: []string{"tls-only"}, Service: lab.ServiceIntact}, "held (tls-only), service intact"},
		{lab.Result{Verdict: lab.Broken, Service: lab.ServiceIntact}, "broken, service intact"},
		{lab.Result{Verdict: lab.Passed}, "passed, service unknown"}, // Service "" is unknown
		{lab.Result{Verdict: lab.Error, Service: lab.ServiceDenied, StoppedBy: []string{"revocation"}}, "error"},
	} {
		if got := baseline.CellOf(tt.r).String(); got != tt.want {
			t.Errorf("CellOf(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestBaselineCompare(t *testing.T) {
	stored := baseline.Baseline{Kind: baseline.KindRun, Outcomes: map[string]baseline.Cell{
		"a/same":      held(lab.ServiceDenied, "chain-validation", "revocation"),
		"b/flipped":   held(lab.ServiceDenied, "chain-validation"),
		"c/gone":      {Verdict: lab.Broken, Service: lab.ServiceIntact},
		"e/decisive":  held(lab.ServiceDenied, "chain-validation"),
		"f/second":    held(lab.ServiceDenied, "chain-validation"),
		"g/reordered": held(lab.ServiceDenied, "chain-validation", "revocation"),
		"h/service":   {Verdict: lab.Passed, StoppedBy: []string{}, Service: lab.ServiceIntact},
	}}
	now := baseline.OfRun([]lab.Result{
		{Scenario: "a/same", Verdict: lab.Held, StoppedBy: []string{"chain-validation", "revocation"}, Service: lab.ServiceDenied},
		{Scenario: "b/flipped", Verdict: lab.Broken, Service: lab.ServiceIntact},
		{Scenario: "d/new", Verdict: lab.Error},
		{Scenario: "e/decisive", Verdict: lab.Held, StoppedBy: []string{"hostname-check"}, Service: lab.ServiceDenied},
		{Scenario: "f/second", Verdict: lab.Held, StoppedBy: []string{"chain-validation", "revocation"}, Service: lab.ServiceDenied},
		{Scenario: "g/reordered", Verdict: lab.Held, StoppedBy: []string{"revocation", "chain-validation"}, Service: lab.ServiceDenied},
		{Scenario: "h/service", Verdict: lab.Passed, Service: lab.ServiceDenied},
	})
	var got []string
	for _, c := range stored.Compare(now, true) {
		got = append(got, c.String())
	}
	want := []string{
		"b/flipped: was held (chain-validation), service denied, now broken, service intact",
		"c/gone: was broken, service intact, now gone from the catalog",
		"d/new: not in the baseline, now error",
		"e/decisive: was held (chain-validation), service denied, now held (hostname-check), service denied",
		"f/second: was held (chain-validation), service denied, now held (chain-validation, revocation), service denied",
		"g/reordered: was held (chain-validation, revocation), service denied, now held (revocation, chain-validation), service denied",
		"h/service: was passed, service intact, now passed, service denied",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("complete compare:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var partial []string
	for _, c := range stored.Compare(now, false) {
		partial = append(partial, c.Cell)
	}
	if got, want := strings.Join(partial, " "), "b/flipped d/new e/decisive f/second g/reordered h/service"; got != want {
		t.Errorf("partial compare cells %s, want %s (stored cells not run are not reported)", got, want)
	}
	merged := stored.Merge(now, false)
	if len(merged.Outcomes) != 8 || merged.Outcomes["c/gone"].String() != "broken, service intact" ||
		merged.Outcomes["e/decisive"].String() != "held (hostname-check), service denied" {
		t.Errorf("partial merge %v", merged.Outcomes)
	}
	if whole := stored.Merge(now, true); len(whole.Outcomes) != 7 || len(whole.Compare(now, true)) != 0 {
		t.Errorf("complete merge %v, want exactly now", whole.Outcomes)
	}
}

func TestBaselineFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	b := baseline.Baseline{Kind: baseline.KindMatrix, Outcomes: map[string]baseline.Cell{
		"z [hardened]":     held(lab.ServiceIntact, "chain-validation", "revocation"),
		"a [tls-only off]": {Verdict: lab.Broken, Service: lab.ServiceDenied},
		"m [hardened]":     {Verdict: lab.Error},
		"b/<&> [hardened]": {Verdict: lab.Passed, Service: lab.ServiceUnknown},
	}}
	if err := baseline.Write(path, b); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := `{
  "format": "tlslab-baseline/2",
  "kind": "matrix",
  "outcomes": {
    "a [tls-only off]": {"verdict": "broken", "stopped_by": [], "service": "denied"},
    "b/<&> [hardened]": {"verdict": "passed", "stopped_by": [], "service": "unknown"},
    "m [hardened]": {"verdict": "error"},
    "z [hardened]": {"verdict": "held", "stopped_by": ["chain-validation", "revocation"], "service": "intact"}
  }
}
`
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	back, err := baseline.Read(path, baseline.KindMatrix)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Outcomes) != 4 || len(back.Compare(b, true)) != 0 || len(b.Compare(back, true)) != 0 {
		t.Errorf("read back %v, want %v", back.Outcomes, b.Outcomes)
	}

	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := baseline.Write(empty, baseline.Baseline{Kind: baseline.KindRun}); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(empty)
	if want := "{\n  \"format\": \"tlslab-baseline/2\",\n  \"kind\": \"run\",\n  \"outcomes\": {}\n}\n"; string(data) != want {
		t.Errorf("empty file:\n%s\nwant:\n%s", data, want)
	}
	if back, err := baseline.Read(empty, baseline.KindRun); err != nil || len(back.Outcomes) != 0 || back.Outcomes == nil {
		t.Errorf("empty read back %#v, %v", back, err)
	}
}

func TestReadBaselineRejects(t *testing.T) {
	dir := t.TempDir()
	const head = "{\n  \"format\": \"tlslab-baseline/2\",\n  \"kind\": \"run\",\n  \"outcomes\": {\n"
	cell := func(body string) string {
		return head + "    \"a/ok\": {\"verdict\": \"error\"},\n    \"a/b\": " + body + "\n  }\n}\n"
	}
	for _, tt := range []struct {
		name, content, want string
	}{
		{"syntax", "{\n  \"format\": \"tlslab-baseline/2\",\n  \"kind\": \"run\"\n  \"outcomes\": {}\n}", `line 4, column 3: invalid character '"' after object key:value pair`},
		{"unknown-field", `{"format": "tlslab-baseline/2", "kind": "run", "outcomes": {}, "verdicts": {}}`, `not a baseline: unknown field "verdicts"`},
		{"wrong-type", `{"format": "tlslab-baseline/2", "kind": "run", "outcomes": []}`, `line 1, column 60: in "outcomes": a JSON array where a map[string]json.RawMessage belongs`},
		{"no-format", `{"kind": "run", "outcomes": {}}`, `missing "format"; want "tlslab-baseline/2"`},
		{"old-format", "{\n  \"format\": \"tlslab-baseline/1\",\n  \"kind\": \"run\",\n  \"outcomes\": {\n    \"a/b\": \"held, service denied\"\n  }\n}\n",
			`line 2: "format" is "tlslab-baseline/1", an older format whose cells lack stopped_by (the defenses that stopped each attack); run 'make baselines' to rewrite the catalog's baselines, or 'tlslab run --update-baseline FILE' over the whole catalog for a file of your own`},
		{"future-format", "{\n\n  \"format\": \"tlslab-baseline/9\", \"kind\": \"run\", \"outcomes\": {}}", `line 3: "format" is "tlslab-baseline/9"; this tlslab reads "tlslab-baseline/2"`},
		{"key-case", `{"Format": "tlslab-baseline/9", "kind": "run", "outcomes": {}}`, `"format" is "tlslab-baseline/9"; this tlslab reads "tlslab-baseline/2"`}, // no line: not spelled as written
		{"no-kind", `{"format": "tlslab-baseline/2", "outcomes": {}}`, `missing "kind"; want "run"`},
		{"wrong-kind", "{\n  \"format\": \"tlslab-baseline/2\",\n  \"kind\": \"matrix\",\n  \"outcomes\": {}\n}", `line 3: "kind" is "matrix", but this command compares "run" baselines (written by 'tlslab run --update-baseline')`},
		{"no-outcomes", `{"format": "tlslab-baseline/2", "kind": "run"}`, `missing "outcomes"`},
		{"trailing", `{"format": "tlslab-baseline/2", "kind": "run", "outcomes": {}} {}`, `extra data after the JSON object`},
		{"cell-string", cell(`"held, service denied"`), `line 6: cell "a/b": a JSON string where an object {"verdict": ..., "stopped_by": [...], "service": ...} belongs`},
		{"cell-field-type", cell(`{"verdict": "held", "stopped_by": "revocation", "service": "denied"}`), `line 6: cell "a/b": in "stopped_by": a JSON string where a []string belongs`},
		{"cell-unknown-field", cell(`{"verdict": "broken", "stopped_by": [], "service": "intact", "decisive": "x"}`), `line 6: cell "a/b": unknown field "decisive"`},
		{"cell-no-verdict", cell(`{"stopped_by": [], "service": "intact"}`), `line 6: cell "a/b": missing "verdict"`},
		{"cell-bad-verdict", cell(`{"verdict": "stopped", "stopped_by": [], "service": "intact"}`), `line 6: cell "a/b": "verdict" is "stopped"; want held, broken, passed or error`},
		{"cell-error-with-service", cell(`{"verdict": "error", "stopped_by": [], "service": "unknown"}`), `line 6: cell "a/b": an error cell holds only "verdict"`},
		{"cell-no-stopped-by", cell(`{"verdict": "held", "service": "denied"}`), `line 6: cell "a/b": missing "stopped_by" ([] unless the verdict is held)`},
		{"cell-held-empty", cell(`{"verdict": "held", "stopped_by": [], "service": "denied"}`), `line 6: cell "a/b": "stopped_by" is empty; a held cell names the defenses that refused, the decisive one first`},
		{"cell-broken-stopped", cell(`{"verdict": "broken", "stopped_by": ["revocation", "tls-only"], "service": "intact"}`), `line 6: cell "a/b": "stopped_by" names revocation, tls-only, but only a held cell names defenses`},
		{"cell-unknown-defense", cell(`{"verdict": "held", "stopped_by": ["chain-validation", "firewall"], "service": "denied"}`),
			`line 6: cell "a/b": "stopped_by" names "firewall", which is no defense switch; valid: ` + strings.Join(lab.DefenseNames(), ", ")},
		{"cell-duplicate-defense", cell(`{"verdict": "held", "stopped_by": ["revocation", "revocation"], "service": "denied"}`), `line 6: cell "a/b": "stopped_by" names "revocation" twice`},
		{"cell-no-service", cell(`{"verdict": "passed", "stopped_by": []}`), `line 6: cell "a/b": missing "service"`},
		{"cell-bad-service", cell(`{"verdict": "passed", "stopped_by": [], "service": "fine"}`), `line 6: cell "a/b": "service" is "fine"; want intact, denied or unknown`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := baseline.Read(path, baseline.KindRun)
			var fe *baseline.FileError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("err %v (%T), want a *BaselineFileError for %s", err, err, path)
			}
			if want := "baseline " + path + ": " + tt.want; err.Error() != want {
				t.Errorf("got  %s\nwant %s", err, want)
			}
		})
	}
	missing := filepath.Join(dir, "missing.json")
	_, err := baseline.Read(missing, baseline.KindRun)
	if want := "baseline " + missing + ": no such file"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want %s wrapping fs.ErrNotExist", err, want)
	}
}

// Only regular files under MaxFileSize are read; anything else is refused
// at once, naming the file and the problem.
func TestReadBaselineInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, baseline.MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "is a FIFO, not a regular file",
		"/dev/zero": "is a character device, not a regular file",
		dir:         "is a directory, not a regular file",
		big:         "is 16777217 bytes, over the limit of 16 MiB",
	} {
		_, err := baseline.Read(path, baseline.KindRun)
		var ie *safefile.InputError
		if err == nil || err.Error() != "baseline "+path+": "+want || !errors.As(err, &ie) {
			t.Errorf("Read(%s): %v, want baseline %s: %s", path, err, path, want)
		}
	}
}

// A baseline of the other kind is a *KindError even in an older format.
func TestReadBaselineKindFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	os.WriteFile(path, []byte(`{"format": "tlslab-baseline/1", "kind": "run", "outcomes": {}}`), 0o644)
	_, err := baseline.Read(path, baseline.KindMatrix)
	var ke *baseline.KindError
	if !errors.As(err, &ke) || ke.Have != baseline.KindRun || ke.Want != baseline.KindMatrix {
		t.Errorf("err %v, want a *KindError", err)
	}
}

// Write replaces a symlink at its path instead of writing through it, and
// leaves no temporary file.
func TestWriteDoesNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim, path := filepath.Join(dir, "victim"), filepath.Join(dir, "run.json")
	os.WriteFile(victim, []byte("precious"), 0o600)
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := baseline.Write(path, baseline.Baseline{Kind: baseline.KindRun}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the symlink was followed: %q", b)
	}
	if _, err := baseline.Read(path, baseline.KindRun); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files in %s, want 2", len(ents), dir)
	}
}

// The matrix's old-format message names the matrix command.
func TestReadBaselineOldMatrix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "matrix.json")
	if err := os.WriteFile(path, []byte("{\n  \"format\": \"tlslab-baseline/1\",\n  \"kind\": \"matrix\",\n  \"outcomes\": {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := baseline.Read(path, baseline.KindMatrix)
	want := "baseline " + path + `: line 2: "format" is "tlslab-baseline/1", an older format whose cells lack stopped_by (the defenses that stopped each attack); run 'make baselines' to rewrite the catalog's baselines, or 'tlslab matrix --update-baseline FILE' over the whole catalog for a file of your own`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestMatrixBaselineRevealsChangedDefault(t *testing.T) {
	attack := matrixtest.Layered("mitm/revoked", []lab.Label{lab.LabelRevocation}, false, lab.DefenseRevocation)
	attack.Run = func(_ context.Context, env *lab.Env) error {
		env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
		if env.Defenses.Revocation.String() == "hard-fail" {
			env.Evidence.Refused("alice", lab.DefenseRevocation, "revocation status unavailable")
			env.Evidence.SetService(lab.ServiceDenied)
			return nil
		}
		env.Evidence.IdentityAccepted("alice", "pool01", "revoked")
		env.Evidence.SetService(lab.ServiceIntact)
		return nil
	}
	run := func(base *lab.Defenses) baseline.Baseline {
		m := matrix.Runner{Base: base, Changes: matrixtest.Columns(t, "revocation soft-fail", "revocation off")}
		return baseline.OfMatrix(m.Run(context.Background(), []lab.Scenario{attack}))
	}
	stored := run(nil)
	if len(stored.Outcomes) != 3 || stored.Kind != baseline.KindMatrix {
		t.Fatalf("stored baseline %v", stored)
	}
	// A new default: revocation soft-fail instead of hard-fail.
	soft := lab.Hardened()
	matrixtest.Columns(t, "revocation soft-fail")[0].Apply(&soft)
	changes := stored.Compare(run(&soft), true)
	want := "mitm/revoked [hardened]: was held (revocation), service denied, now broken, service intact"
	if len(changes) != 1 || changes[0].String() != want {
		t.Errorf("changes %v, want exactly %q", changes, want)
	}
}

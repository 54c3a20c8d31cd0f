package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// durations matches what differs between two runs of the same scenarios
// with the same seed: how long they took, as the reports write it.
var durations = regexp.MustCompile(`"duration_ms": [0-9.]+|time="[0-9.]+"|\b[0-9.]+(ns|µs|ms|s)\b`)

// sameReport is a report with its durations masked: "equal" for two runs
// of deterministic scenarios with one seed.
func sameReport(s string) string { return durations.ReplaceAllString(s, "D") }

// writeShards runs args with --shard K/n --format json for every K and
// returns the shard files, failing t unless each exits with want (any
// but ExitUsage when want is -1: a mismatch is in one shard only).
func writeShards(t *testing.T, catalog lab.Catalog, n, want int, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for k := 1; k <= n; k++ {
		path := filepath.Join(dir, "shard-"+string(rune('0'+k))+".json")
		o := run(catalog, append(args, "--shard", string(rune('0'+k))+"/"+string(rune('0'+n)), "--format", "json", "--output", path)...)
		if (want >= 0 && o.code != want) || o.code == ExitUsage {
			t.Fatalf("shard %d/%d: exit %d, want %d\n%s", k, n, o.code, want, o.stderr)
		}
		files = append(files, path)
	}
	return files
}

func TestShardFlag(t *testing.T) {
	for _, tc := range []struct{ value, msg string }{
		{"x", `invalid --shard "x"; want K/N`},
		{"1/x", "with whole numbers K and N"},
		{"0/3", "K is 0; want a shard from 1 to 3"},
		{"4/3", "K is 4; want a shard from 1 to 3"},
		{"1/0", "N is 0; want 1 or more shards"},
		{"-1/2", "K is -1"},
	} {
		for _, cmd := range []string{"run", "matrix"} {
			run(fakeCatalog(), cmd, "--shard", tc.value).check(t, cmd+" --shard "+tc.value, usage("tlslab help "+cmd, tc.msg))
		}
	}
	// More shards than scenarios: the empty ones succeed and say so.
	for k := 1; k <= 9; k++ {
		o := run(fakeCatalog(), "run", "--shard", string(rune('0'+k))+"/9")
		if o.code != ExitOK {
			t.Errorf("run --shard %d/9: exit %d\n%s", k, o.code, o.stderr)
		}
	}
	o := run(fakeCatalog(), "matrix", "eavesdrop/tls", "--shard", "2/2")
	if shardOf("eavesdrop/tls", 2) == 2 {
		o = run(fakeCatalog(), "matrix", "eavesdrop/tls", "--shard", "1/2")
	}
	all(exit(ExitOK), stderrHas("holds none of the 1 scenarios selected"))(t, o)
}

// TestShardStable checks that the shards of any N partition the selection
// and that a scenario's shard does not depend on what else is selected.
func TestShardStable(t *testing.T) {
	names := fakeCatalog().Names()
	for n := 1; n <= 4; n++ {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			for _, name := range names {
				whole := shardSpec{Index: k, Count: n}.Has(name)
				if whole {
					seen[name]++
				}
				// Alone in the selection, it goes to the same shard.
				alone := run(fakeCatalog(), "run", name, "--shard", string(rune('0'+k))+"/"+string(rune('0'+n)), "--format", "json")
				if got := strings.Contains(alone.stdout, `"scenario": "`+name+`"`); got != whole {
					t.Errorf("%s in shard %d/%d: alone %v, in the whole catalog %v", name, k, n, got, whole)
				}
			}
		}
		for _, name := range names {
			if seen[name] != 1 {
				t.Errorf("N=%d: %s is in %d shards, want 1", n, name, seen[name])
			}
		}
	}
}

// TestMergeEqualsRun: the shards of a run, merged, give the report of the
// whole run, byte for byte but for durations, in every format, and exit
// as it does; for the Markdown handout, but for what only a run can add
// (its timelines and picture, the defense matrix), which shards do not
// carry.
func TestMergeEqualsRun(t *testing.T) {
	for _, catalog := range []func() lab.Catalog{fakeCatalog, withMismatch} {
		wantCode := ExitOK
		if len(catalog()) > len(fakeCatalog()) {
			wantCode = ExitMismatch
		}
		files := writeShards(t, catalog(), 3, -1, "run", "--seed", "7")
		for _, format := range runFormats {
			whole := run(catalog(), "run", "--seed", "7", "--format", format)
			merged := run(catalog(), append([]string{"merge", "--format", format}, files...)...)
			if format == "markdown" {
				whole.stdout = withoutRunOnlySections(t, whole.stdout)
			}
			if merged.code != whole.code || merged.code != wantCode {
				t.Errorf("%s: merge exit %d, run exit %d, want %d\n%s", format, merged.code, whole.code, wantCode, merged.stderr)
			}
			if sameReport(merged.stdout) != sameReport(whole.stdout) {
				t.Errorf("%s: merged report differs from the whole run's:\n%s\nwant:\n%s", format, merged.stdout, whole.stdout)
			}
		}
	}
}

// TestMergeEqualsMatrix: the same for the matrix, whose findings and
// decisive defenses come from the merged whole.
func TestMergeEqualsMatrix(t *testing.T) {
	files := writeShards(t, withNameCheck(), 3, ExitOK, "matrix", "--seed", "7")
	for _, format := range matrixFormats {
		whole := run(withNameCheck(), "matrix", "--seed", "7", "--format", format)
		merged := run(withNameCheck(), append([]string{"merge", "--format", format}, files...)...)
		if merged.code != ExitOK || whole.code != ExitOK {
			t.Errorf("%s: merge exit %d, matrix exit %d\n%s", format, merged.code, whole.code, merged.stderr)
		}
		if sameReport(merged.stdout) != sameReport(whole.stdout) {
			t.Errorf("%s: merged matrix differs from the whole one:\n%s\nwant:\n%s", format, merged.stdout, whole.stdout)
		}
	}
}

func TestMergeBaseline(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "run.json")
	files := writeShards(t, fakeCatalog(), 2, ExitOK, "run", "--seed", "7")
	all(exit(ExitOK), stderrHas("wrote 3 cells"))(t, run(fakeCatalog(), append([]string{"merge", "--update-baseline", base}, files...)...))
	all(exit(ExitOK), stderrHas("all 3 cells match"))(t, run(fakeCatalog(), append([]string{"merge", "--baseline", base}, files...)...))
	// The whole catalog, sharded, is complete: a stored cell that is gone
	// is a change.
	changed := append(fakeCatalog()[:2:2], withMismatch()[3])
	files = writeShards(t, changed, 2, -1, "run", "--seed", "7")
	all(exit(ExitMismatch), stderrHas("differ from the baseline", "eavesdrop/plaintext", "mitm/arp-tls"))(t,
		run(changed, append([]string{"merge", "--baseline", base}, files...)...))
}

func TestMergeErrors(t *testing.T) {
	dir := t.TempDir()
	runs := writeShards(t, fakeCatalog(), 2, ExitOK, "run", "--seed", "7")
	matrices := writeShards(t, withNameCheck(), 2, ExitOK, "matrix", "--seed", "7")
	three := writeShards(t, fakeCatalog(), 3, ExitOK, "run", "--seed", "7")
	labelled := writeShards(t, fakeCatalog(), 2, ExitOK, "run", "--seed", "7", "--label", "eavesdrop")
	junk := filepath.Join(dir, "junk.json")
	if err := os.WriteFile(junk, []byte(`{"hello": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "whole.json")
	run(fakeCatalog(), "run", "--format", "json", "--output", whole)
	for _, tc := range []struct {
		name string
		args []string
		msg  []string
	}{
		{"no files", nil, []string{"requires at least 1 arg"}},
		{"kinds", []string{runs[0], matrices[1]}, []string{"cannot merge a run report (" + runs[0] + ") with a matrix report (" + matrices[1] + ")"}},
		{"overlap", []string{runs[0], runs[0], runs[1]}, []string{"overlapping shards", runs[0], "both shard 1/2"}},
		{"different N", []string{runs[0], three[1]}, []string{"shards of different N", runs[0] + " is shard 1/2", three[1] + " is shard 2/3"}},
		{"sharded and not", []string{runs[0], whole}, []string{"shards of different N", whole + " is not a shard"}},
		{"missing", []string{three[0], three[2]}, []string{"missing shard 2/3"}},
		{"selections", []string{runs[0], labelled[1]}, []string{runs[0], labelled[1], "different selections"}},
		{"same scenario", []string{whole, whole}, []string{"overlapping reports", "in both " + whole + " and " + whole}},
		{"junk", []string{junk}, []string{junk, "neither a run report"}},
		{"missing file", []string{filepath.Join(dir, "nope.json")}, []string{"nope.json"}},
		{"junit matrix", []string{"--format", "junit", matrices[0], matrices[1]}, []string{`invalid --format "junit" for matrix reports`}},
	} {
		run(fakeCatalog(), append([]string{"merge"}, tc.args...)...).check(t, tc.name, usage("tlslab help merge", tc.msg...))
	}
}

// check applies c to o in a subtest called name.
func (o outcome) check(t *testing.T, name string, c check) {
	t.Helper()
	t.Run(name, func(t *testing.T) { c(t, o) })
}

// runOnlySections are the handout's paragraphs a run adds and a merge of
// shards cannot: each runs from its bold title to the next bold title.
var runOnlySections = []string{"**Which defenses mattered**", "**Picture**", "**Timeline**"}

// withoutRunOnlySections removes them from a handout, and fails t unless
// the timelines and the matrix were there (a picture needs messages
// between hosts, which the fake catalog's runs have none of).
func withoutRunOnlySections(t *testing.T, md string) string {
	t.Helper()
	var out []string
	skipping := false
	found := map[string]bool{}
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "**") {
			skipping = false
			for _, title := range runOnlySections {
				if strings.HasPrefix(line, title) {
					skipping, found[title] = true, true
				}
			}
		}
		if strings.HasPrefix(line, "## ") {
			skipping = false
		}
		if !skipping {
			out = append(out, line)
		}
	}
	for _, title := range runOnlySections[:1] {
		if !found[title] || !found["**Timeline**"] {
			t.Errorf("the run's handout has no %s section:\n%s", title, md)
		}
	}
	return strings.Join(out, "")
}

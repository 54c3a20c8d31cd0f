package cli

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tlslab/tlslab/scenarios"
)

// outcomes are what a baseline keeps of a run or matrix JSON report, and
// what two runs of the real catalog with one seed must share: the
// scenarios (and cells) in order, with their verdicts, the defenses that
// stopped them, their service, expectation and seed. Evidence is left
// out: certificate serials and DNS IDs are random whatever the seed.
type outcomes struct {
	Results []struct {
		Scenario, Verdict, Expected, Service string
		StoppedBy                            []string `json:"stopped_by"`
		OK                                   bool
		Seed                                 json.RawMessage
	}
	Summary json.RawMessage
	Rows    []struct {
		Scenario string
		Cells    []struct {
			Column, Verdict, Outcome, Service string
			StoppedBy                         []string `json:"stopped_by"`
			Applies, Differs                  bool
		}
	}
	Findings, Decisive json.RawMessage
}

func outcomesOf(t *testing.T, report string) outcomes {
	t.Helper()
	var o outcomes
	if err := json.Unmarshal([]byte(report), &o); err != nil {
		t.Fatalf("%v\n%s", err, report)
	}
	return o
}

// TestMergeRealCatalog shards the real catalog's mitm scenarios, and the
// matrix of two attacks, with a fixed seed, and checks the merge has the
// whole run's outcomes.
func TestMergeRealCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real scenarios")
	}
	catalog := scenarios.Catalog()
	for _, args := range [][]string{
		{"run", "--label", "mitm", "--seed", "7", "--parallel", "4"},
		{"matrix", "mitm/self-signed", "eavesdrop/tls", "--seed", "7"},
	} {
		files := writeShards(t, catalog, 3, -1, args...)
		whole := run(catalog, append(args, "--format", "json")...)
		merged := run(catalog, append([]string{"merge", "--format", "json"}, files...)...)
		if merged.code != whole.code {
			t.Errorf("%s: merge exit %d, whole exit %d\n%s", args[0], merged.code, whole.code, merged.stderr)
		}
		want, got := outcomesOf(t, whole.stdout), outcomesOf(t, merged.stdout)
		if len(want.Results)+len(want.Rows) == 0 {
			t.Fatalf("%s: nothing ran", args[0])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: merged outcomes differ from the whole run's:\n%+v\nwant:\n%+v", args[0], got, want)
		}
	}
}

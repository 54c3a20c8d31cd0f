package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// names are the scenario names of the table rows or result lines of o's
// stdout that tests look for, in order.
func listedNames(t *testing.T, o outcome) []string {
	t.Helper()
	var got []string
	for _, line := range strings.Split(o.stdout, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			got = append(got, f[0])
		}
	}
	return got
}

func namesAre(want ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		if got := listedNames(t, o); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("listed %q, want %q\nstdout:\n%s\nstderr:\n%s", got, want, o.stdout, o.stderr)
		}
	}
}

func TestSelectionFilters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check check
	}{
		{"family glob", []string{"list", "eavesdrop/*"}, all(exit(ExitOK), namesAre("eavesdrop/tls", "eavesdrop/plaintext"))},
		{"name glob across families", []string{"list", "*/tls"}, all(exit(ExitOK), namesAre("baseline/tls", "eavesdrop/tls"))},
		{"globs and names, duplicates dropped", []string{"list", "eavesdrop/plaintext", "eavesdrop/*", "*/plain*"},
			all(exit(ExitOK), namesAre("eavesdrop/plaintext", "eavesdrop/tls"))},
		{"* never crosses the slash", []string{"list", "*"},
			usage("tlslab help list", `pattern "*" matches no scenario (see 'tlslab list')`)},
		{"pattern matching nothing", []string{"run", "mitm/*"},
			usage("tlslab help run", `pattern "mitm/*" matches no scenario`)},
		{"malformed pattern", []string{"matrix", "mitm/["},
			usage("tlslab help matrix", `malformed pattern "mitm/["`)},
		{"label negation", []string{"list", "--label", "!plaintext"}, all(exit(ExitOK), namesAre("baseline/tls", "eavesdrop/tls"))},
		{"label and negation", []string{"list", "-l", "eavesdrop,!tls"}, all(exit(ExitOK), namesAre("eavesdrop/plaintext"))},
		{"negated unknown label", []string{"list", "--label", "!tsl"},
			usage("tlslab help list", `unknown label "tsl" in --label; valid labels: baseline,`, `did you mean "tls"?`, `write '!L' to leave label L out`)},
		{"dash is not negation", []string{"run", "--label", "-dns"},
			usage("tlslab help run", `invalid --label "-dns": to leave out scenarios with a label write --label '!dns'`)},
		{"skip a name", []string{"list", "--skip", "eavesdrop/tls"}, all(exit(ExitOK), namesAre("baseline/tls", "eavesdrop/plaintext"))},
		{"skip patterns repeat", []string{"list", "--skip", "baseline/*", "--skip", "*/plaintext"}, all(exit(ExitOK), namesAre("eavesdrop/tls"))},
		{"skip matching nothing", []string{"matrix", "--skip", "dns/*"},
			usage("tlslab help matrix", `--skip pattern "dns/*" matches no scenario`)},
		{"malformed skip", []string{"run", "--skip", "[x"}, usage("tlslab help run", `malformed --skip pattern "[x"`)},
		{"everything skipped", []string{"run", "eavesdrop/*", "--label", "!eavesdrop"},
			usage("tlslab help run", "no scenario selected by eavesdrop/* --label !eavesdrop")},
		{"run with a glob and a skip", []string{"run", "*/tls", "--skip", "baseline/tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls"), stdoutLacks("baseline/tls", "eavesdrop/plaintext"))},
		{"matrix with a negated label", []string{"matrix", "--label", "!tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/plaintext"), stdoutLacks("eavesdrop/tls "))},
		{"bad list format", []string{"list", "--format", "yaml"}, usage("tlslab help list", `invalid --format "yaml"; want table, json`)},
		{"show --format with --run", []string{"show", "eavesdrop/tls", "--run", "--format", "json"},
			usage("tlslab help show", `invalid --format "json" with --run; want text or markdown`)},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, run(fakeCatalog(), tc.args...)) })
	}
}

func TestListAndShowJSON(t *testing.T) {
	o := run(fakeCatalog(), "list", "--format", "json", "--skip", "baseline/*")
	exit(ExitOK)(t, o)
	var listed []map[string]any
	if err := json.Unmarshal([]byte(o.stdout), &listed); err != nil {
		t.Fatalf("list --format json: %v\n%s", err, o.stdout)
	}
	want := []map[string]any{
		{"name": "eavesdrop/tls", "labels": []any{"eavesdrop", "tls"}, "summary": "a passive listener sees only ciphertext",
			"expected": "held", "stopped_by": "tls-only"},
		{"name": "eavesdrop/plaintext", "labels": []any{"eavesdrop", "plaintext"}, "summary": "without TLS the listener reads the IM",
			"expected": "broken", "stopped_by": ""},
	}
	if got, _ := json.Marshal(listed); string(got) != mustJSON(t, want) {
		t.Errorf("list --format json:\n%s\nwant\n%s", got, mustJSON(t, want))
	}

	o = run(withTopology(), "show", "baseline/rogue", "--format", "json")
	exit(ExitOK)(t, o)
	var shown struct {
		Name, Summary, Story, Expected, ExpectedOutcome string
		Defenses                                        []struct {
			Name, Value, Hardened string
			Changed               bool
		}
	}
	if err := json.Unmarshal([]byte(o.stdout), &shown); err != nil {
		t.Fatalf("show --format json: %v\n%s", err, o.stdout)
	}
	if shown.Name != "baseline/rogue" || shown.Story != "fe99 tries to relay." || shown.Expected != "passed" || len(shown.Defenses) == 0 {
		t.Errorf("show --format json: %+v", shown)
	}
	changed := 0
	for _, d := range shown.Defenses {
		if d.Changed {
			changed++
			if d.Value == d.Hardened {
				t.Errorf("%s changed but equal to hardened %q", d.Name, d.Value)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d defenses changed, want 1 (trusted server list):\n%s", changed, o.stdout)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

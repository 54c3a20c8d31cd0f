package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeCatalog holds tiny scenarios that only record evidence.
func fakeCatalog() lab.Catalog {
	return lab.Catalog{
		{
			Name: "baseline/tls", Labels: []lab.Label{lab.LabelBaseline, lab.LabelTLS},
			Summary: "alice talks to her pool; nobody attacks", Expected: lab.Held,
			Run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Notef("alice", "registered with pool01.contoso.com")
				env.Evidence.SetService(lab.ServiceIntact)
				return nil
			},
		},
		{
			Name: "eavesdrop/tls", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
			Summary: "a passive listener sees only ciphertext", Expected: lab.Held,
			Run: func(ctx context.Context, env *lab.Env) error {
				c := env.NewCanary("alice")
				found := lab.FindCanaries([]byte("ciphertext"), []lab.Canary{c})
				env.Evidence.CanariesObtained("eavesdropper", len(found), 1, lab.FormatBytes(9318)+" of captured TCP payload")
				env.Evidence.SetService(lab.ServiceIntact)
				return nil
			},
		},
		{
			Name: "eavesdrop/plaintext", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelPlaintext},
			Summary: "without TLS the listener reads the IM", Expected: lab.Broken,
			Run: func(ctx context.Context, env *lab.Env) error {
				c := env.NewCanary("alice")
				found := lab.FindCanaries([]byte("MESSAGE ... "+c.Token), []lab.Canary{c})
				env.Evidence.CanariesObtained("eavesdropper", len(found), 1, "plaintext SIP")
				return nil
			},
		},
	}
}

// withMismatch adds a scenario whose verdict differs from its expectation.
func withMismatch() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "mitm/arp-tls", Labels: []lab.Label{lab.LabelMITM, lab.LabelARP},
		Summary: "claims to hold but the victim accepts mallory", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.Evidence.IdentityAccepted("alice", "pool01.contoso.com", "no hostname check")
			return nil
		},
	})
}

// withTopology adds a scenario declaring the contoso preset with an
// insider, and a defense it turns off.
func withTopology() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "baseline/rogue", Labels: []lab.Label{lab.LabelBaseline, lab.LabelMTLS},
		Summary: "a rogue server", Expected: lab.Held, Story: "fe99 tries to relay.",
		Defenses: func(d *lab.Defenses) { d.TrustedServerList = false },
		Topology: lab.ContosoConfig{Insiders: []lab.ContosoInsider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}}},
		Run:      func(ctx context.Context, env *lab.Env) error { return nil },
	})
}

// withError adds a scenario that fails to run.
func withError() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "dns/broken-setup", Labels: []lab.Label{lab.LabelDNS},
		Summary: "setup fails", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			return errors.New("no route to dns01")
		},
	})
}

type outcome struct {
	code           int
	stdout, stderr string
}

type check func(t *testing.T, o outcome)

func all(cs ...check) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		for _, c := range cs {
			c(t, o)
		}
	}
}

func exit(code int) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		if o.code != code {
			t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", o.code, code, o.stdout, o.stderr)
		}
	}
}

func stdoutHas(subs ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(o.stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, o.stdout)
			}
		}
	}
}

func stdoutLacks(subs ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		for _, s := range subs {
			if strings.Contains(o.stdout, s) {
				t.Errorf("stdout has %q:\n%s", s, o.stdout)
			}
		}
	}
}

func stderrHas(subs ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(o.stderr, s) {
				t.Errorf("stderr lacks %q:\n%s", s, o.stderr)
			}
		}
	}
}

// usage is the shape of every usage error: exit 2, one message line starting
// "tlslab: ", a hint to the right help, no usage dump, nothing on stdout.
func usage(hint string, subs ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		exit(ExitUsage)(t, o)
		stderrHas(subs...)(t, o)
		lines := strings.Split(strings.TrimRight(o.stderr, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "tlslab: ") || lines[1] != "run '"+hint+"' for usage" {
			t.Errorf("stderr is not a message line + hint %q:\n%s", hint, o.stderr)
		}
		if strings.Contains(o.stderr, "Usage:") || strings.Contains(o.stderr, "Flags:") {
			t.Errorf("stderr has a usage dump:\n%s", o.stderr)
		}
		if o.stdout != "" {
			t.Errorf("stdout not empty on usage error:\n%s", o.stdout)
		}
	}
}

func run(catalog lab.Catalog, args ...string) outcome {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr, Lab{Catalog: catalog})
	return outcome{code, stdout.String(), stderr.String()}
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name    string
		catalog func() lab.Catalog
		args    []string
		check   check
	}{
		// list
		{"list", fakeCatalog, []string{"list"},
			all(exit(ExitOK), stdoutHas("NAME", "LABELS", "SUMMARY", "baseline/tls", "eavesdrop,plaintext", "a passive listener sees only ciphertext"))},
		{"list by label", fakeCatalog, []string{"list", "--label", "plaintext"},
			all(exit(ExitOK), stdoutHas("eavesdrop/plaintext"), stdoutLacks("baseline/tls"))},
		{"list with argument", fakeCatalog, []string{"list", "eavesdrop/tls"},
			usage("tlslab help list", "takes no arguments")},

		// run: exit codes 0 and 1
		{"run all, all match", fakeCatalog, []string{"run"},
			all(exit(ExitOK),
				stdoutHas("SCENARIO", "VERDICT", "EXPECTED", "MATCH", "SERVICE", "EVIDENCE", "DURATION",
					"eavesdropper: 0 of 1 canary in 9.1 KiB of captured TCP payload",
					"eavesdropper: 1 of 1 canary in plaintext SIP",
					"3 scenarios: 3 matched, 0 differed, 0 errors"))},
		{"run one by name", fakeCatalog, []string{"run", "eavesdrop/tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls", "1 scenario: 1 matched"), stdoutLacks("baseline/tls"))},
		{"run mismatch exits 1", withMismatch, []string{"run"},
			all(exit(ExitMismatch), stdoutHas("mitm/arp-tls", "NO", "4 scenarios: 3 matched, 1 differed, 0 errors"))},
		{"run error exits 1", withError, []string{"run", "dns/broken-setup"},
			all(exit(ExitMismatch), stdoutHas("error: no route to dns01", "1 scenario: 0 matched, 0 differed, 1 error"))},
		{"label filter avoids the mismatch", withMismatch, []string{"run", "--label", "eavesdrop"},
			all(exit(ExitOK), stdoutHas("2 scenarios: 2 matched"), stdoutLacks("mitm/arp-tls"))},
		{"labels all must match, comma form", fakeCatalog, []string{"run", "-l", "eavesdrop,tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls", "1 scenario:"))},
		{"flags and names interspersed", withMismatch, []string{"run", "--format", "table", "eavesdrop/tls", "--timeout", "5s", "baseline/tls"},
			all(exit(ExitOK), stdoutHas("2 scenarios: 2 matched"))},
		{"verbose", fakeCatalog, []string{"run", "-v", "baseline/tls"},
			all(exit(ExitOK), stdoutHas("baseline/tls: held (expected held)", "  alice: registered with pool01.contoso.com"))},

		// show
		{"show", fakeCatalog, []string{"show", "eavesdrop/plaintext"},
			all(exit(ExitOK), stdoutHas("eavesdrop/plaintext\n  without TLS the listener reads the IM\n  labels: eavesdrop, plaintext\n  expected: broken\n",
				"\nStory\n", "\nTopology\n  not declared", "\nDefenses (* = changed by this scenario from the hardened defaults)\n",
				"  trusted-server-list          on "), stdoutLacks("\n* "))},
		{"show a declared topology and changed defenses", withTopology, []string{"show", "baseline/rogue"},
			all(exit(ExitOK), stdoutHas("\nTopology: contoso\n", "insider: fe99.contoso.com (10.0.0.99)",
				"  fe99: server with an enterprise certificate, not in the topology\n      contoso-lan 10.0.0.99/24",
				"* trusted-server-list          off (hardened: on)"))},
		{"show unknown scenario", fakeCatalog, []string{"show", "eavesdrop/tsl"},
			usage("tlslab help show", `unknown scenario "eavesdrop/tsl"; closest: eavesdrop/tls, `)},
		{"show without a name", fakeCatalog, []string{"show"},
			usage("tlslab help show", "'tlslab show' takes one scenario name, got 0")},
		{"show two names", fakeCatalog, []string{"show", "eavesdrop/tls", "baseline/tls"},
			usage("tlslab help show", "'tlslab show' takes one scenario name, got 2")},
		{"help show", fakeCatalog, []string{"help", "show"},
			all(exit(ExitOK), stdoutHas("show NAME", "declared topology", "Exit status"))},

		// usage errors
		{"no command", fakeCatalog, nil,
			usage("tlslab help", "missing command; want one of: help, list, matrix, run, show")},
		{"unknown command", fakeCatalog, []string{"rnu"},
			usage("tlslab help", `unknown command "rnu"; did you mean "run"?`)},
		{"unknown command far from any", fakeCatalog, []string{"explode"},
			usage("tlslab help", `unknown command "explode"; want one of: help, list, matrix, run, show`)},
		{"unknown flag", fakeCatalog, []string{"run", "--fromat", "json"},
			usage("tlslab help run", "unknown flag --fromat for 'tlslab run'; did you mean --format?")},
		{"unknown shorthand", fakeCatalog, []string{"run", "-x"},
			usage("tlslab help run", "unknown shorthand flag: 'x' in -x (for 'tlslab run')")},
		{"unknown root flag", fakeCatalog, []string{"--nope"},
			usage("tlslab help", "unknown flag --nope for 'tlslab'")},
		{"flag without value", fakeCatalog, []string{"run", "--format"},
			usage("tlslab help run", "flag needs an argument: --format (for 'tlslab run')")},
		{"bad format", fakeCatalog, []string{"run", "--format", "xml"},
			usage("tlslab help run", `invalid --format "xml"; want table, json, junit, markdown`)},
		{"bad timeout", fakeCatalog, []string{"run", "--timeout", "soon"},
			usage("tlslab help run", `invalid argument "soon" for "--timeout" flag`)},
		{"zero timeout", fakeCatalog, []string{"run", "--timeout", "0s"},
			usage("tlslab help run", `invalid --timeout 0s; want a positive duration`)},
		{"unknown label", fakeCatalog, []string{"run", "--label", "mitn"},
			usage("tlslab help run", `unknown label "mitn" in --label; valid labels: baseline, eavesdrop, mitm,`)},
		{"unknown label in list", fakeCatalog, []string{"list", "-l", "dns,nope"},
			usage("tlslab help list", `unknown label "nope" in --label`)},
		{"unknown scenario", fakeCatalog, []string{"run", "eavesdrop/tsl"},
			usage("tlslab help run", `tlslab: unknown scenario "eavesdrop/tsl"; closest: eavesdrop/tls, `)},
		{"unknown scenario among known", fakeCatalog, []string{"run", "baseline/tls", "eavesdrop/plain"},
			usage("tlslab help run", `unknown scenario "eavesdrop/plain"; closest: eavesdrop/plaintext`)},
		{"labels match nothing", fakeCatalog, []string{"run", "--label", "federation"},
			usage("tlslab help run", "no scenario in the catalog has all of the labels federation")},

		// help is not an error
		{"help run", fakeCatalog, []string{"help", "run"},
			all(exit(ExitOK), stdoutHas("--format", "--label", "--pcap", "--keylog", "--timeout", "Exit status"))},
		{"run --help", fakeCatalog, []string{"run", "--help"},
			all(exit(ExitOK), stdoutHas("Usage:", "--format"))},

		// a broken catalog is not the user's fault
		{"invalid catalog", func() lab.Catalog {
			return append(fakeCatalog(), lab.Scenario{Name: "bad", Summary: "x", Expected: lab.Held})
		}, []string{"run"},
			all(exit(ExitMismatch), stderrHas("tlslab: the scenario catalog is invalid", `"bad": name must look like`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, run(tt.catalog(), tt.args...))
		})
	}
}

func TestRunJSON(t *testing.T) {
	o := run(withMismatch(), "run", "--format", "json", "eavesdrop/plaintext", "mitm/arp-tls")
	exit(ExitMismatch)(t, o)
	var doc struct {
		Results []struct {
			Scenario   string   `json:"scenario"`
			Labels     []string `json:"labels"`
			Verdict    string   `json:"verdict"`
			Expected   string   `json:"expected"`
			OK         *bool    `json:"ok"`
			Service    string   `json:"service"`
			Evidence   []string `json:"evidence"`
			DurationMS *float64 `json:"duration_ms"`
			Pcap       *string  `json:"pcap"`
			KeyLog     *string  `json:"keylog"`
			Error      *string  `json:"error"`
		} `json:"results"`
		Summary struct {
			Total, Matched, Differed, Errors int
			OK                               bool `json:"ok"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, o.stdout)
	}
	if len(doc.Results) != 2 {
		t.Fatalf("%d results, want 2", len(doc.Results))
	}
	r0, r1 := doc.Results[0], doc.Results[1]
	if r0.Scenario != "eavesdrop/plaintext" || r0.Verdict != "broken" || r0.Expected != "broken" || r0.OK == nil || !*r0.OK {
		t.Errorf("result 0: %+v", r0)
	}
	if strings.Join(r0.Labels, ",") != "eavesdrop,plaintext" || r0.Service != "unknown" {
		t.Errorf("result 0 labels/service: %v %q", r0.Labels, r0.Service)
	}
	if len(r0.Evidence) != 1 || r0.Evidence[0] != "eavesdropper: 1 of 1 canary in plaintext SIP" {
		t.Errorf("result 0 evidence: %q", r0.Evidence)
	}
	if r0.DurationMS == nil || r0.Pcap == nil || *r0.Pcap != "" || r0.KeyLog == nil || *r0.KeyLog != "" || r0.Error != nil {
		t.Errorf("result 0 duration/artifacts/error: %+v", r0)
	}
	if r1.Verdict != "broken" || r1.Expected != "held" || *r1.OK {
		t.Errorf("result 1: %+v", r1)
	}
	if doc.Summary.Total != 2 || doc.Summary.Matched != 1 || doc.Summary.Differed != 1 || doc.Summary.OK {
		t.Errorf("summary: %+v", doc.Summary)
	}
	if o.stderr != "" {
		t.Errorf("stderr not empty: %s", o.stderr)
	}
}

func TestRunArtifacts(t *testing.T) {
	dir := t.TempDir()
	pcap, keys := filepath.Join(dir, "pcap"), filepath.Join(dir, "keys")
	o := run(fakeCatalog(), "run", "--format=json", "--pcap", pcap, "--keylog", keys, "eavesdrop/tls")
	exit(ExitOK)(t, o)
	stderrHas("pcapng captures in "+pcap, "TLS key logs in "+keys)(t, o)
	var doc struct {
		Results []struct{ Pcap, KeyLog string } `json:"results"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	wantPcap, wantKeys := filepath.Join(pcap, "eavesdrop-tls.pcapng"), filepath.Join(keys, "eavesdrop-tls.keys")
	if len(doc.Results) != 1 || doc.Results[0].Pcap != wantPcap || doc.Results[0].KeyLog != wantKeys {
		t.Errorf("artifacts %+v, want %s and %s", doc.Results, wantPcap, wantKeys)
	}
	for _, p := range []string{wantPcap, wantKeys} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

func TestRunPanicShowsStack(t *testing.T) {
	cat := append(fakeCatalog(), lab.Scenario{
		Name: "dns/panics", Summary: "x", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error { panic("scenario bug") },
	})
	o := run(cat, "run", "dns/panics")
	all(exit(ExitMismatch), stdoutHas(`panicked: scenario bug`), stderrHas("tlslab: lab: scenario \"dns/panics\" panicked: scenario bug", "goroutine"))(t, o)
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"run"}, &stdout, &stderr, Lab{Catalog: fakeCatalog()})
	if code != ExitMismatch || !strings.Contains(stdout.String(), "3 errors") {
		t.Errorf("code %d, stdout:\n%s", code, stdout.String())
	}
}

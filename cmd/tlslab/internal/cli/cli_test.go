package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeCatalog holds tiny scenarios that only record evidence: a baseline
// that delivers its canary, an eavesdropper that tls-only stops (and that
// reads the canary when tls-only is off), and one that reads it in
// plaintext.
func fakeCatalog() lab.Catalog {
	return lab.Catalog{
		{
			Name: "baseline/tls", Labels: []lab.Label{lab.LabelBaseline, lab.LabelTLS},
			Summary: "alice talks to her pool; nobody attacks", Expected: lab.Passed,
			Run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Notef("alice", "registered with pool01.contoso.com")
				env.Evidence.Delivered("bob", "received alice's canary")
				env.Evidence.SetService(lab.ServiceIntact)
				return nil
			},
		},
		{
			Name: "eavesdrop/tls", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
			Summary: "a passive listener sees only ciphertext", Attacker: "eavesdropper on contoso-lan",
			Expected: lab.Held, StoppedBy: lab.DefenseTLSOnly,
			Run: func(ctx context.Context, env *lab.Env) error {
				c := env.NewCanary("alice")
				env.Evidence.Reached("eavesdropper", lab.MilestoneInPosition, "captured alice's connection to 10.0.0.20:5061")
				payload := "MESSAGE ... " + c.Token
				if env.Defenses.TLSOnly {
					env.Evidence.Refused("alice", lab.DefenseTLSOnly, "sent only TLS application data records")
					payload = "ciphertext"
				}
				found := lab.FindCanaries([]byte(payload), []lab.Canary{c})
				env.Evidence.CanariesObtained("eavesdropper", len(found), 1, lab.FormatBytes(9318)+" of captured TCP payload")
				env.Evidence.SetService(lab.ServiceIntact)
				return nil
			},
		},
		{
			Name: "eavesdrop/plaintext", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelPlaintext},
			Summary: "without TLS the listener reads the IM", Attacker: "eavesdropper on contoso-lan", Expected: lab.Broken,
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
		Summary: "claims to hold but the victim accepts mallory", Attacker: "mallory on contoso-lan",
		Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.Evidence.IdentityAccepted("alice", "pool01.contoso.com", "no hostname check")
			return nil
		},
	})
}

// withWrongDefense adds a scenario held by another defense than the one it
// declares, and one whose attack is never carried out.
func withWrongDefense() lab.Catalog {
	return append(fakeCatalog(),
		lab.Scenario{
			Name: "mitm/self-signed", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS},
			Summary: "expects the hostname check, but chain validation refuses first", Attacker: "mallory on contoso-lan",
			Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck,
			Run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepted alice's connection")
				env.Evidence.Refused("alice", lab.DefenseChainValidation, "x509: certificate signed by unknown authority")
				env.Evidence.Refused("alice", lab.DefenseHostnameCheck, "x509: certificate is valid for mallory.example, not pool01.contoso.com")
				env.Evidence.SetService(lab.ServiceDenied)
				return nil
			},
		},
		lab.Scenario{
			Name: "mitm/idle", Labels: []lab.Label{lab.LabelMITM},
			Summary: "mallory never gets in position", Attacker: "mallory on contoso-lan",
			Expected: lab.Held, StoppedBy: lab.DefenseChainValidation,
			Run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Notef("mallory", "waited")
				return nil
			},
		})
}

// withTopology adds a baseline declaring the contoso preset with an
// insider, and a defense it turns off.
func withTopology() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "baseline/rogue", Labels: []lab.Label{lab.LabelBaseline, lab.LabelMTLS},
		Summary: "a rogue server", Expected: lab.Passed, Story: "fe99 tries to relay.",
		Defenses: func(d *lab.Defenses) { d.TrustedServerList = false },
		Topology: contoso.Config{Insiders: []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}}},
		Run:      func(ctx context.Context, env *lab.Env) error { return nil },
	})
}

// withError adds a scenario that fails to run.
func withError() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "dns/broken-setup", Labels: []lab.Label{lab.LabelDNS},
		Summary: "setup fails", Attacker: "mallory on the DNS path", Expected: lab.Held, StoppedBy: lab.DefenseDNSSECValidation,
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

// stdoutLines requires each of lines to be a whole line of stdout, or
// the start of one (table rows end in a duration that varies), with
// trailing spaces ignored.
func stdoutLines(lines ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		have := strings.Split(o.stdout, "\n")
	next:
		for _, want := range lines {
			for _, h := range have {
				if strings.HasPrefix(strings.TrimRight(h, " "), want) {
					continue next
				}
			}
			t.Errorf("no stdout line starts with %q:\n%s", want, o.stdout)
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
		{"list with a name", fakeCatalog, []string{"list", "eavesdrop/tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls"), stdoutLacks("baseline/tls", "eavesdrop/plaintext"))},

		// run: exit codes 0 and 1
		{"run all, all match", fakeCatalog, []string{"run"},
			all(exit(ExitOK),
				stdoutLines(
					"SCENARIO             VERDICT          EXPECTED         MATCH  SERVICE  EVIDENCE",
					"baseline/tls         passed           passed           yes    intact   bob: received alice's canary",
					"eavesdrop/tls        held (tls-only)  held (tls-only)  yes    intact   alice: sent only TLS application data records",
					"eavesdrop/plaintext  broken           broken           yes    unknown  eavesdropper: 1 of 1 canary in plaintext SIP",
					"3 scenarios: 3 matched, 0 differed, 0 errors"))},
		{"run one by name", fakeCatalog, []string{"run", "eavesdrop/tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls", "1 scenario: 1 matched"), stdoutLacks("baseline/tls"))},
		{"run mismatch exits 1", withMismatch, []string{"run"},
			all(exit(ExitMismatch), stdoutLines(
				`mitm/arp-tls         broken           held (hostname-check)  NO     unknown  alice: accepted the attacker as "pool01.contoso.com": no hostname check`,
				"4 scenarios: 3 matched, 1 differed, 0 errors"))},
		{"held by another defense exits 1", withWrongDefense, []string{"run", "mitm/self-signed", "mitm/idle"},
			all(exit(ExitMismatch), stdoutLines(
				"SCENARIO          VERDICT                  EXPECTED                 MATCH  SERVICE  EVIDENCE",
				"mitm/self-signed  held (chain-validation)  held (hostname-check)    NO     denied   alice: x509: certificate signed by unknown authority",
				"mitm/idle         error                    held (chain-validation)  error  unknown  error: inconclusive: attack not carried out",
				"2 scenarios: 0 matched, 1 differed, 1 error"))},
		{"run error exits 1", withError, []string{"run", "dns/broken-setup"},
			all(exit(ExitMismatch), stdoutLines(
				"dns/broken-setup  error    held (dnssec-validation)  error  unknown  error: no route to dns01",
				"1 scenario: 0 matched, 0 differed, 1 error"))},
		{"label filter avoids the mismatch", withMismatch, []string{"run", "--label", "eavesdrop"},
			all(exit(ExitOK), stdoutHas("2 scenarios: 2 matched"), stdoutLacks("mitm/arp-tls"))},
		{"labels all must match, comma form", fakeCatalog, []string{"run", "-l", "eavesdrop,tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls", "1 scenario:"))},
		{"flags and names interspersed", withMismatch, []string{"run", "--format", "table", "eavesdrop/tls", "--timeout", "5s", "baseline/tls"},
			all(exit(ExitOK), stdoutHas("2 scenarios: 2 matched"))},
		{"verbose", fakeCatalog, []string{"run", "-v", "baseline/tls", "eavesdrop/tls", "--seed", "5"},
			all(exit(ExitOK), stdoutHas(
				"\nbaseline/tls: passed; expected passed; seed 5\n  alice: registered with pool01.contoso.com\n  bob: received alice's canary\n",
				"\neavesdrop/tls: held (tls-only); expected held (tls-only); seed 5\n"+
					"  eavesdropper: captured alice's connection to 10.0.0.20:5061\n"+
					"  alice: sent only TLS application data records\n"+
					"  eavesdropper: 0 of 1 canary in 9.1 KiB of captured TCP payload\n"))},

		// show
		{"show held names the decisive defense", fakeCatalog, []string{"show", "eavesdrop/tls"},
			all(exit(ExitOK), stdoutHas("eavesdrop/tls\n  a passive listener sees only ciphertext\n  labels: eavesdrop, tls\n  expected: held (tls-only)\n"))},
		{"show baseline expects passed", fakeCatalog, []string{"show", "baseline/tls"},
			all(exit(ExitOK), stdoutHas("baseline/tls\n  alice talks to her pool; nobody attacks\n  labels: baseline, tls\n  expected: passed\n"))},
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
			usage("tlslab help", "missing command; want one of: help, list, matrix, merge, run, serve, show, version")},
		{"unknown command", fakeCatalog, []string{"rnu"},
			usage("tlslab help", `unknown command "rnu"; did you mean "run"?`)},
		{"unknown command far from any", fakeCatalog, []string{"explode"},
			usage("tlslab help", `unknown command "explode"; want one of: help, list, matrix, merge, run, serve, show, version`)},
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
		{"run bad impairment key", fakeCatalog, []string{"run", "--impair", "loss=2%,jiter=1ms"},
			usage("tlslab help run", `invalid --impair: netsim: impairment spec "loss=2%,jiter=1ms": at column 9, "jiter=1ms": unknown key "jiter" (valid keys: host,`)},
		{"matrix bad impairment value", fakeCatalog, []string{"matrix", "--impair", "host=mallory,loss=150%"},
			usage("tlslab help matrix", `invalid --impair: netsim: impairment spec "host=mallory,loss=150%": at column 14, "loss=150%": bad loss "150%": must be in [0%, 100%]`)},
		{"run impaired: the replay carries the impairments", fakeCatalog, []string{"run", "baseline/tls", "--impair", "loss=2%", "--seed", "7", "--format", "junit"},
			all(exit(ExitOK), stdoutHas(`replay: tlslab run baseline/tls --seed 7 --impair loss=2%`))},
		{"run impaired: JSON names the impairments", fakeCatalog, []string{"run", "baseline/tls", "--impair", "host=mallory,loss=100%", "--format", "json"},
			all(exit(ExitOK), stdoutHas(`"impair": "host=mallory,loss=100%"`))},
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
		{"a baseline expecting held is invalid", func() lab.Catalog {
			return append(fakeCatalog(), lab.Scenario{Name: "baseline/old", Summary: "x", Expected: lab.Held, StoppedBy: lab.DefenseTLSOnly,
				Run: func(context.Context, *lab.Env) error { return nil }})
		}, []string{"list"},
			all(exit(ExitMismatch), stderrHas(`tlslab: the scenario catalog is invalid:
lab: scenario "baseline/old": expected verdict is "held"; a scenario without an attacker is a baseline and must expect "passed"
`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, run(tt.catalog(), tt.args...))
		})
	}
}

func TestRunJSON(t *testing.T) {
	o := run(withWrongDefense(), "run", "--format", "json", "eavesdrop/plaintext", "mitm/self-signed")
	exit(ExitMismatch)(t, o)
	type refusal struct{ Defense, Host, Reason string }
	type milestone struct{ Milestone, Actor string }
	var doc struct {
		Results []struct {
			Scenario          string      `json:"scenario"`
			Labels            []string    `json:"labels"`
			Verdict           string      `json:"verdict"`
			StoppedBy         []string    `json:"stopped_by"`
			Expected          string      `json:"expected"`
			ExpectedStoppedBy *string     `json:"expected_stopped_by"`
			OK                *bool       `json:"ok"`
			Service           string      `json:"service"`
			Evidence          []string    `json:"evidence"`
			Refusals          []refusal   `json:"refusals"`
			Milestones        []milestone `json:"milestones"`
			DurationMS        *float64    `json:"duration_ms"`
			Pcap              *string     `json:"pcap"`
			KeyLog            *string     `json:"keylog"`
			Error             *string     `json:"error"`
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
	if r0.StoppedBy == nil || len(r0.StoppedBy) != 0 || r0.ExpectedStoppedBy == nil || *r0.ExpectedStoppedBy != "" ||
		r0.Refusals == nil || len(r0.Refusals) != 0 || r0.Milestones == nil || len(r0.Milestones) != 0 {
		t.Errorf("result 0 stopped_by %#v, expected_stopped_by %v, refusals %#v, milestones %#v; want [], \"\", [], []",
			r0.StoppedBy, r0.ExpectedStoppedBy, r0.Refusals, r0.Milestones)
	}
	if r0.DurationMS == nil || r0.Pcap == nil || *r0.Pcap != "" || r0.KeyLog == nil || *r0.KeyLog != "" || r0.Error != nil {
		t.Errorf("result 0 duration/artifacts/error: %+v", r0)
	}
	if r1.Scenario != "mitm/self-signed" || r1.Verdict != "held" || r1.Expected != "held" || *r1.OK {
		t.Errorf("result 1: %+v", r1)
	}
	if got := strings.Join(r1.StoppedBy, ","); got != "chain-validation,hostname-check" || *r1.ExpectedStoppedBy != "hostname-check" {
		t.Errorf("result 1 stopped_by %q, expected_stopped_by %q; want chain-validation,hostname-check and hostname-check", got, *r1.ExpectedStoppedBy)
	}
	wantRefusals := []refusal{
		{"chain-validation", "alice", "x509: certificate signed by unknown authority"},
		{"hostname-check", "alice", "x509: certificate is valid for mallory.example, not pool01.contoso.com"},
	}
	if !slices.Equal(r1.Refusals, wantRefusals) || !slices.Equal(r1.Milestones, []milestone{{"in-position", "mallory"}}) {
		t.Errorf("result 1 refusals %+v, milestones %+v", r1.Refusals, r1.Milestones)
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
		Name: "dns/panics", Summary: "x", Attacker: "mallory", Expected: lab.Held, StoppedBy: lab.DefenseDNSSECValidation,
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
	all(exit(ExitInterrupted), stdoutHas("0 scenarios: 0 matched, 0 differed, 0 errors"),
		stderrHas("tlslab: interrupted after 0 of 3 scenarios; no report file or baseline written\n"))(t, outcome{code, stdout.String(), stderr.String()})
}

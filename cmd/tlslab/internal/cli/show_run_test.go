package cli

import (
	"context"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// withWire adds a scenario that puts frames on a captured segment: alice
// asks for bob's MAC, and bob answers.
func withWire() lab.Catalog {
	return append(append(withMismatch(), withWrongDefense()[3:]...), lab.Scenario{
		Name: "baseline/arp", Labels: []lab.Label{lab.LabelBaseline, lab.LabelARP},
		Summary: "alice resolves bob", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			lan := env.World.NewSegment("lan", netsim.SegmentConfig{})
			env.Capture(lan)
			alice, bob := env.World.NewHost("alice", netsim.HostConfig{}), env.World.NewHost("bob", netsim.HostConfig{})
			if _, err := alice.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.10/24")}); err != nil {
				return err
			}
			if _, err := bob.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.20/24")}); err != nil {
				return err
			}
			if _, err := alice.DialContext(ctx, "tcp", "10.0.0.20:5061"); err == nil {
				env.Evidence.Notef("alice", "bob accepted on 5061")
			} else {
				env.Evidence.Notef("alice", "bob refused: %v", err)
			}
			env.Evidence.Delivered("bob", "received alice's ARP request for 10.0.0.20")
			env.Evidence.SetService(lab.ServiceIntact)
			return nil
		},
	})
}

// stdoutMatches requires a line of stdout matching each regular expression.
func stdoutMatches(res ...string) check {
	return func(t *testing.T, o outcome) {
		t.Helper()
		for _, re := range res {
			rx := regexp.MustCompile("(?m)^" + re + "$")
			if !rx.MatchString(o.stdout) {
				t.Errorf("no stdout line matches %q:\n%s", re, o.stdout)
			}
		}
	}
}

func TestShowRun(t *testing.T) {
	const at = `\+\d+\.\d{3}ms +`
	tests := []struct {
		name    string
		catalog func() lab.Catalog
		args    []string
		check   check
	}{
		{"passed as expected exits 0", withWire, []string{"show", "baseline/arp", "--run", "--seed", "42"},
			all(exit(ExitOK),
				stdoutMatches(
					at+`alice +ARP who-has 10\.0\.0\.20 tell 10\.0\.0\.10`,
					at+`bob +ARP is-at 10\.0\.0\.20 -> 02:00:5e:00:00:02, to 10\.0\.0\.10 \(alice\)`,
					at+`alice +TCP SYN -> 10\.0\.0\.20:5061 \(bob\)`,
					at+`bob +TCP RST -> 10\.0\.0\.10:\d+ \(alice\): connection to 10\.0\.0\.20:5061 refused`,
					at+`alice +evidence: bob refused: .*connection refused.*`,
					`baseline/arp: passed; expected passed, as expected; service intact, seed 42`,
					`  bob: received alice's ARP request for 10\.0\.0\.20`),
				stdoutLacks("Story", "Defenses (*"))},
		{"held as expected exits 0", withWire, []string{"show", "eavesdrop/tls", "--run", "--seed", "42"},
			all(exit(ExitOK), stdoutMatches(
				at+`alice +evidence: sent only TLS application data records`,
				`eavesdrop/tls: held \(tls-only\); expected held \(tls-only\), as expected; service intact, seed 42`,
				`  alice: sent only TLS application data records`))},
		{"held by another defense exits 1", withWire, []string{"show", "mitm/self-signed", "--run", "--seed", "42"},
			all(exit(ExitMismatch), stdoutMatches(
				`mitm/self-signed: held \(chain-validation\); expected held \(hostname-check\), NOT as expected; service denied, seed 42`,
				`  alice: x509: certificate signed by unknown authority`))},
		{"inconclusive exits 1", withWire, []string{"show", "mitm/idle", "--run", "--seed", "42"},
			all(exit(ExitMismatch), stdoutMatches(
				`mitm/idle: error; expected held \(chain-validation\), NOT as expected; service unknown, seed 42`,
				`  error: inconclusive: attack not carried out`))},
		{"broken against expectation exits 1", withWire, []string{"show", "mitm/arp-tls", "--run"},
			all(exit(ExitMismatch),
				stdoutMatches(
					at+`alice +evidence: accepted the attacker as "pool01\.contoso\.com": no hostname check`,
					`mitm/arp-tls: broken; expected held \(hostname-check\), NOT as expected; service unknown, seed \d+`,
					`  alice: accepted the attacker as "pool01\.contoso\.com": no hostname check`))},
		{"a run that errors exits 1", withError, []string{"show", "dns/broken-setup", "--run"},
			all(exit(ExitMismatch), stdoutMatches(
				`dns/broken-setup: error; expected held \(dnssec-validation\), NOT as expected; service unknown, seed \d+`,
				`  error: no route to dns01`))},
		{"without --run show describes", withWire, []string{"show", "baseline/arp"},
			all(exit(ExitOK), stdoutHas("baseline/arp", "Story", "Defenses"), stdoutLacks("ARP who-has", "as expected"))},
		{"--seed needs --run", withWire, []string{"show", "baseline/arp", "--seed", "1"},
			usage("tlslab help show", "--seed applies only with --run")},
		{"--timeout needs --run", withWire, []string{"show", "baseline/arp", "--timeout", "1s"},
			usage("tlslab help show", "--timeout applies only with --run")},
		{"bad --timeout", withWire, []string{"show", "baseline/arp", "--run", "--timeout", "0s"},
			usage("tlslab help show", "invalid --timeout 0s")},
		{"unknown scenario with --run", withWire, []string{"show", "baseline/apr", "--run"},
			usage("tlslab help show", `unknown scenario "baseline/apr"; closest: baseline/arp`)},
		{"help show mentions --run", fakeCatalog, []string{"help", "show"},
			all(exit(ExitOK), stdoutHas("--run", "timeline", "0 when the verdict matches"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, run(tt.catalog(), tt.args...))
		})
	}
}

// The timeline's lines come in time order and carry a host column.
func TestShowRunTimelineSorted(t *testing.T) {
	o := run(withWire(), "show", "baseline/arp", "--run")
	timeline, _, _ := strings.Cut(o.stdout, "\n\n")
	rx := regexp.MustCompile(`^\+(\d+)\.(\d{3})ms +(\S+) +\S`)
	prev := -1
	lines := strings.Split(timeline, "\n")
	if len(lines) < 4 {
		t.Fatalf("timeline has %d lines, want at least 4:\n%s", len(lines), o.stdout)
	}
	for _, line := range lines {
		m := rx.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q is not '+<ms>ms host text'", line)
		}
		us := atoi(m[1])*1000 + atoi(m[2])
		if us < prev {
			t.Errorf("line %q is earlier than the one before", line)
		}
		prev = us
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

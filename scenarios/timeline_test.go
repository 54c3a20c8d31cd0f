package scenarios_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/scenarios"
)

// TestTimelineSameOutcome runs every mitm/ scenario of the catalog with
// Run and with timeline.Record, with the same seed, and requires the same
// verdict and service: recording a timeline must not change what it
// records (mitm/attacker-ca-installed is broken either way).
func TestTimelineSameOutcome(t *testing.T) {
	var n int
	for _, s := range scenarios.Catalog() {
		if !strings.HasPrefix(s.Name, "mitm/") {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(s.Name, "mitm/"), func(t *testing.T) {
			r := lab.Runner{Seed: 7}
			plain := r.Run(context.Background(), s)
			recorded, _ := timeline.Record(context.Background(), r, s)
			if plain.Verdict != recorded.Verdict || plain.Service != recorded.Service {
				t.Errorf("Run: %s, service %s (err %v); Record: %s, service %s (err %v)",
					plain.Verdict, plain.Service, plain.Err, recorded.Verdict, recorded.Service, recorded.Err)
			}
			if s.Name == "mitm/attacker-ca-installed" && recorded.Verdict != lab.Broken {
				t.Errorf("%s: %s with a timeline, want broken", s.Name, recorded.Verdict)
			}
		})
	}
	if n == 0 {
		t.Fatal("no mitm/ scenario in the catalog")
	}
}

// TestTimelineMITMSelfSigned runs the catalog's mitm/self-signed with a
// timeline and checks that it tells the attack step by step: mallory's
// spoofed ARP reply, alice's ClientHello for the pool, mallory's
// certificate decrypted from her TLS 1.3 Certificate message, alice's
// decrypted alert refusing it, and the evidence with crypto/tls's reason.
func TestTimelineMITMSelfSigned(t *testing.T) {
	s, err := scenarios.Catalog().Lookup("mitm/self-signed")
	if err != nil {
		t.Fatal(err)
	}
	res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
	var out strings.Builder
	if err := timeline.Write(&out, tl); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("timeline:\n%s", out.String())
		}
	}()
	if res.Verdict != lab.Held || !res.OK {
		t.Errorf("verdict %s (ok=%v, err %v), want held as expected", res.Verdict, res.OK, res.Err)
	}

	const (
		aliceIP, fe01IP = `10\.0\.0\.10`, `10\.0\.0\.11`
		mac             = `(?:[0-9a-f]{2}:){5}[0-9a-f]{2}`
		port            = `\d+`
	)
	checks := []struct {
		name, host string
		kind       timeline.Kind
		re         string
	}{
		{"spoofed ARP reply", "mallory", timeline.ARP,
			`ARP is-at ` + fe01IP + ` -> ` + mac + `, to ` + aliceIP + ` \(alice\) \(spoofed: ` + fe01IP + ` is fe01, at ` + mac + `\)`},
		{"DNS SRV lookup", "alice", timeline.DNS, `DNS query _sip\._tls\.contoso\.com SRV -> 10\.0\.0\.53 \(dns01\)`},
		{"SYN to the pool", "alice", timeline.TCP, `TCP SYN -> ` + fe01IP + `:5061 \(fe01\)`},
		{"mallory answers the SYN", "mallory", timeline.TCP,
			`TCP SYN-ACK -> ` + aliceIP + `:` + port + ` \(alice\): ` + fe01IP + `:5061 accepts`},
		{"ClientHello", "alice", timeline.TLS,
			`TLS ClientHello -> ` + fe01IP + `:5061 \(fe01\) SNI pool01\.contoso\.com versions TLS1\.3,TLS1\.2`},
		{"mallory's ServerHello", "mallory", timeline.TLS, `TLS ServerHello -> ` + aliceIP + `:` + port + ` \(alice\) TLS1\.3 TLS_\w+`},
		{"mallory's Certificate message", "mallory", timeline.TLS, `TLS Certificate \(decrypted\) -> ` + aliceIP + `:` + port + ` \(alice\)`},
		{"certificate refused", "alice", timeline.Certificate,
			`certificate presented by ` + fe01IP + `:5061 \(mallory\) for pool01\.contoso\.com: ` +
				`subject CN=pool01\.contoso\.com issuer CN=pool01\.contoso\.com valid \S+→\S+: ` +
				`refused: alert bad certificate`},
		{"alice's alert", "alice", timeline.TLS, `TLS alert bad certificate \(fatal, decrypted\) -> ` + fe01IP + `:5061 \(fe01\)`},
		{"ARP position evidence", "mallory", timeline.Evidence,
			`evidence: ARP spoofing on contoso-lan: alice's ARP cache maps ` + fe01IP + ` \(fe01\) to ` + mac + `, mallory's MAC, not fe01's ` + mac},
		{"mallory's haul", "mallory", timeline.Evidence,
			`evidence: 0 of 1 canary in 0 B: no intercepted connection carried application data`},
		{"alice's refusal", "alice", timeline.Evidence,
			`evidence: tls: failed to verify certificate: x509: certificate signed by unknown authority, in the TLS handshake with pool01\.contoso\.com .*`},
	}
	at := make(map[string]int)
	for _, c := range checks {
		rx := regexp.MustCompile("^" + c.re + "$")
		i := indexOf(tl, func(e timeline.Event) bool { return e.Host == c.host && e.Kind == c.kind && rx.MatchString(e.Text) })
		if i < 0 {
			t.Errorf("%s: no %s event by %s matching %q", c.name, c.kind, c.host, c.re)
		}
		at[c.name] = i
	}
	// The story's order: position, lookup, connection, refusal, outcome.
	order := []string{"spoofed ARP reply", "DNS SRV lookup", "SYN to the pool", "ClientHello", "mallory's ServerHello",
		"mallory's Certificate message", "certificate refused", "alice's alert", "alice's refusal"}
	for i := 1; i < len(order); i++ {
		if a, b := at[order[i-1]], at[order[i]]; a >= 0 && b >= 0 && a > b {
			t.Errorf("%q (line %d) comes after %q (line %d)", order[i-1], a+1, order[i], b+1)
		}
	}
	// Every evidence line of the result is in the timeline, in order.
	var ev []string
	for _, e := range tl {
		if e.Kind == timeline.Evidence {
			line := strings.TrimPrefix(e.Text, "evidence: ")
			if e.Host != "" {
				line = e.Host + ": " + line
			}
			ev = append(ev, line)
		}
	}
	if strings.Join(ev, "\n") != strings.Join(res.Evidence, "\n") {
		t.Errorf("evidence in the timeline:\n%s\nwant the result's:\n%s", strings.Join(ev, "\n"), strings.Join(res.Evidence, "\n"))
	}
	// Mallory's certificate appears once: the handshake is not reported
	// again from alice's TLS configuration.
	if n := len(slices.DeleteFunc(slices.Clone(tl), func(e timeline.Event) bool { return e.Kind != timeline.Certificate })); n != 1 {
		t.Errorf("%d certificate events, want 1", n)
	}
}

func indexOf(tl timeline.Events, f func(timeline.Event) bool) int {
	for i, e := range tl {
		if f(e) {
			return i
		}
	}
	return -1
}

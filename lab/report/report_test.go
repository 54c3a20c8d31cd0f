package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
)

// Evidence lines of sampleResults' mitm/self-signed.
const (
	selfSignedChain   = "alice: TLS handshake with pool01.contoso.com failed: x509: certificate signed by unknown authority"
	selfSignedRevoked = "alice: certificate of pool01.contoso.com is revoked (CRL)"
	selfSignedDNS     = "dns01: dropped a forged answer for pool01.contoso.com"
)

// sampleResults are a held match naming its defense, a broken mismatch, an
// error, a held mismatch whose decisive defense is not the expected one
// (with a second credited defense and an uncredited refusal), and a
// passed baseline.
func sampleResults() []lab.Result {
	return []lab.Result{
		{
			Scenario: "eavesdrop/tls", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
			Verdict: lab.Held, StoppedBy: []string{"tls-only"}, Expected: lab.Held, ExpectedStoppedBy: "tls-only",
			OK: true, Service: lab.ServiceIntact,
			Evidence: []string{
				"eavesdropper: captured alice's connection to 10.0.0.20:5061",
				"alice: sent only TLS application data records",
				"eavesdropper: 0 of 2 canaries in 9.1 KiB of captured TCP payload",
			},
			Refusals: []lab.Refusal{{Defense: "tls-only", Host: "alice", Reason: "sent only TLS application data records",
				Line: "alice: sent only TLS application data records", Credited: true}},
			Milestones: []lab.MilestoneReached{{Milestone: lab.MilestoneInPosition, Actor: "eavesdropper",
				Line: "eavesdropper: captured alice's connection to 10.0.0.20:5061"}},
			Duration: 1234567 * time.Microsecond, Seed: 7, Pcap: "out/eavesdrop-tls.pcapng", KeyLog: "out/eavesdrop-tls.keys",
		},
		{
			Scenario: "mitm/stolen-key", Labels: []lab.Label{lab.LabelMITM},
			Verdict: lab.Broken, Expected: lab.Held, ExpectedStoppedBy: "revocation", OK: false, Service: lab.ServiceIntact,
			Evidence: []string{
				`alice: accepted the attacker as "pool01.contoso.com": ` + strings.Repeat("very long detail ", 10),
				"mallory: 2 of 2 canaries in decrypted SIP",
			},
			Compromises: []lab.Compromise{{Kind: lab.CompromiseIdentity, Actor: "alice",
				Line: `alice: accepted the attacker as "pool01.contoso.com": ` + strings.Repeat("very long detail ", 10)}},
			Duration: 3 * time.Millisecond,
		},
		{
			Scenario: "dns/hijack", Verdict: lab.Error, Expected: lab.Held, ExpectedStoppedBy: "dnssec-validation", Service: lab.ServiceUnknown,
			Err: errors.New("lab: scenario \"dns/hijack\" did not finish within 10s"),
		},
		{
			Scenario: "mitm/self-signed", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS},
			Verdict: lab.Held, StoppedBy: []string{"chain-validation", "revocation"}, Expected: lab.Held, ExpectedStoppedBy: "revocation",
			OK: false, Service: lab.ServiceDenied,
			Evidence: []string{"mallory: spoofing alice and fe01", "mallory: intercepted alice's connection", selfSignedDNS, selfSignedChain, selfSignedRevoked},
			Refusals: []lab.Refusal{
				{Defense: "dns-randomization", Host: "dns01", Reason: "dropped a forged answer for pool01.contoso.com", Line: selfSignedDNS},
				{Defense: "chain-validation", Host: "alice", Reason: "TLS handshake with pool01.contoso.com failed: x509: certificate signed by unknown authority", Line: selfSignedChain, Credited: true},
				{Defense: "revocation", Host: "alice", Reason: "certificate of pool01.contoso.com is revoked (CRL)", Line: selfSignedRevoked, Credited: true},
			},
			Milestones: []lab.MilestoneReached{
				{Milestone: lab.MilestoneAttempted, Actor: "mallory", Line: "mallory: spoofing alice and fe01"},
				{Milestone: lab.MilestoneInPosition, Actor: "mallory", Line: "mallory: intercepted alice's connection"},
			},
			Duration: 20 * time.Millisecond, Seed: 11,
		},
		{
			Scenario: "baseline/tls", Labels: []lab.Label{lab.LabelBaseline, lab.LabelTLS},
			Verdict: lab.Passed, Expected: lab.Passed, OK: true, Service: lab.ServiceIntact,
			Evidence: []string{"fe01: delivered the canary to bob"}, Duration: 500 * time.Microsecond, Seed: 8,
		},
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want header + 5 rows + summary:\n%s", len(lines), buf.String())
	}
	// Every column starts at the same offset on every row: each is as wide
	// as its widest cell (the longest evidence is cut to 72 runes) plus 2.
	row := func(cells ...string) string {
		var b strings.Builder
		for i, c := range cells[:6] {
			b.WriteString(c + strings.Repeat(" ", []int{18, 25, 26, 7, 9, 74}[i]-utf8.RuneCountInString(c)))
		}
		return b.String() + cells[6]
	}
	long := `alice: accepted the attacker as "pool01.contoso.com": ` + strings.Repeat("very long detail ", 10)
	want := []string{
		row("SCENARIO", "VERDICT", "EXPECTED", "MATCH", "SERVICE", "EVIDENCE", "DURATION"),
		row("eavesdrop/tls", "held (tls-only)", "held (tls-only)", "yes", "intact", "alice: sent only TLS application data records", "1.235s"),
		row("mitm/stolen-key", "broken", "held (revocation)", "NO", "intact", long[:69]+"...", "3ms"),
		row("dns/hijack", "error", "held (dnssec-validation)", "error", "unknown", `error: lab: scenario "dns/hijack" did not finish within 10s`, "0s"),
		row("mitm/self-signed", "held (chain-validation)", "held (revocation)", "NO", "denied", selfSignedChain[:69]+"...", "20ms"),
		row("baseline/tls", "passed", "passed", "yes", "intact", "fe01: delivered the canary to bob", "500µs"),
		"5 scenarios: 2 matched, 2 differed, 1 error",
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, lines[i], want[i])
		}
	}
}

func TestMainEvidence(t *testing.T) {
	rs := sampleResults()
	for i, want := range []string{
		"alice: sent only TLS application data records", // held: the decisive refusal, not the last line
		rs[1].Compromises[0].Line,                       // broken: first compromise, not the last line
		`error: lab: scenario "dns/hijack" did not finish within 10s`,
		selfSignedChain, // held: the decisive defense's refusal, not an earlier uncredited one
		"fe01: delivered the canary to bob",
	} {
		if got := rs[i].MainEvidence(); got != want {
			t.Errorf("result %d: MainEvidence %q, want %q", i, got, want)
		}
	}
	if got := (lab.Result{Verdict: lab.Held}).MainEvidence(); got != "-" {
		t.Errorf("empty MainEvidence %q, want -", got)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
		Summary map[string]any   `json:"summary"`
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(doc.Results) != 5 {
		t.Fatalf("%d results, want 5", len(doc.Results))
	}
	keys := []string{"scenario", "labels", "verdict", "stopped_by", "expected", "expected_stopped_by", "ok", "service",
		"main_evidence", "evidence", "compromises", "refusals", "milestones", "duration_ms", "seed", "pcap", "keylog", "compromise_details"}
	for i, r := range doc.Results {
		var got []string
		for k := range r {
			got = append(got, k)
		}
		slices.Sort(got)
		want := slices.Clone(keys)
		if i == 2 {
			want = append(want, "error") // only with an error
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("result %d keys %q, want %q", i, got, want)
		}
	}
	// The held mismatch, exactly: both arrays, the expected defense, and
	// every refusal, credited or not.
	wantSelfSigned := `{
		"scenario": "mitm/self-signed", "labels": ["mitm", "tls"],
		"verdict": "held", "stopped_by": ["chain-validation", "revocation"], "expected": "held", "expected_stopped_by": "revocation",
		"ok": false, "service": "denied", "main_evidence": ` + strconv.Quote(selfSignedChain) + `,
		"evidence": ["mallory: spoofing alice and fe01", "mallory: intercepted alice's connection", ` +
		strconv.Quote(selfSignedDNS) + `, ` + strconv.Quote(selfSignedChain) + `, ` + strconv.Quote(selfSignedRevoked) + `],
		"compromises": [],
		"refusals": [
			{"defense": "dns-randomization", "host": "dns01", "reason": "dropped a forged answer for pool01.contoso.com", "credited": false, "line": ` + strconv.Quote(selfSignedDNS) + `},
			{"defense": "chain-validation", "host": "alice", "reason": "TLS handshake with pool01.contoso.com failed: x509: certificate signed by unknown authority", "credited": true, "line": ` + strconv.Quote(selfSignedChain) + `},
			{"defense": "revocation", "host": "alice", "reason": "certificate of pool01.contoso.com is revoked (CRL)", "credited": true, "line": ` + strconv.Quote(selfSignedRevoked) + `}
		],
		"milestones": [{"milestone": "attempted", "actor": "mallory", "line": "mallory: spoofing alice and fe01"}, {"milestone": "in-position", "actor": "mallory", "line": "mallory: intercepted alice's connection"}],
		"duration_ms": 20, "seed": "11", "pcap": "", "keylog": "", "compromise_details": []
	}`
	var want3 map[string]any
	dec = json.NewDecoder(strings.NewReader(wantSelfSigned))
	dec.UseNumber()
	if err := dec.Decode(&want3); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Results[3], want3) {
		t.Errorf("mitm/self-signed:\n got %v\nwant %v", doc.Results[3], want3)
	}
	for _, want := range []string{
		`"stopped_by": [
        "chain-validation",
        "revocation"
      ],`,
		`"expected_stopped_by": "revocation",`,
		`"refusals": [
        {
          "defense": "dns-randomization",
          "host": "dns01",
          "reason": "dropped a forged answer for pool01.contoso.com",
          "credited": false,
          "line": "dns01: dropped a forged answer for pool01.contoso.com"
        },`,
		`"milestones": [
        {
          "milestone": "attempted",
          "actor": "mallory",
          "line": "mallory: spoofing alice and fe01"
        },`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON lacks\n%s\nin:\n%s", want, buf.String())
		}
	}

	r0 := doc.Results[0]
	if r0["ok"] != true || r0["verdict"] != "held" || r0["expected_stopped_by"] != "tls-only" || r0["pcap"] != "out/eavesdrop-tls.pcapng" {
		t.Errorf("result 0: %v", r0)
	}
	if d := r0["duration_ms"].(json.Number).String(); d != "1234.567" {
		t.Errorf("duration_ms %s, want 1234.567", d)
	}
	r2 := doc.Results[2]
	if r2["error"] != `lab: scenario "dns/hijack" did not finish within 10s` || r2["ok"] != false || r2["expected_stopped_by"] != "dnssec-validation" {
		t.Errorf("result 2: %v", r2)
	}
	r4 := doc.Results[4]
	if r4["verdict"] != "passed" || r4["expected"] != "passed" || r4["expected_stopped_by"] != "" || r4["ok"] != true {
		t.Errorf("result 4: %v", r4)
	}
	// Empty lists are [], never null.
	for i, keys := range map[int][]string{
		2: {"labels", "stopped_by", "evidence", "compromises", "refusals", "milestones"},
		4: {"stopped_by", "compromises", "refusals", "milestones"},
	} {
		for _, key := range keys {
			if v, ok := doc.Results[i][key].([]any); !ok || len(v) != 0 {
				t.Errorf("%s of result %d = %#v, want []", key, i, doc.Results[i][key])
			}
		}
	}
	want := map[string]string{"total": "5", "matched": "2", "differed": "2", "errors": "1"}
	for k, v := range want {
		if n, _ := doc.Summary[k].(json.Number); n.String() != v {
			t.Errorf("summary %s = %v, want %s", k, doc.Summary[k], v)
		}
	}
	if doc.Summary["ok"] != false {
		t.Errorf("summary ok = %v, want false", doc.Summary["ok"])
	}
}

func TestWriteJSONDoesNotEscapeHTML(t *testing.T) {
	var buf bytes.Buffer
	res := []lab.Result{{Scenario: "eavesdrop/tls", Verdict: lab.Held, Expected: lab.Held, OK: true,
		Evidence: []string{"eavesdropper: TLS 10.0.0.10:49152 -> 10.0.0.20:5061 & <more>"}}}
	if err := report.WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	if want := `"eavesdropper: TLS 10.0.0.10:49152 -> 10.0.0.20:5061 & <more>"`; !strings.Contains(buf.String(), want) {
		t.Errorf("JSON lacks %s:\n%s", want, buf.String())
	}
}

func TestWriteList(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteList(&buf, []lab.Scenario{
		{Name: "baseline/tls", Labels: []lab.Label{lab.LabelBaseline, lab.LabelTLS}, Summary: "baseline/tls"},
		{Name: "mitm/arp-tls", Labels: []lab.Label{lab.LabelMITM, lab.LabelARP, lab.LabelTLS}, Summary: "mitm/arp-tls"},
		{Name: "odd/none", Summary: "no labels"},
	}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"NAME", "LABELS", "SUMMARY", "mitm/arp-tls", "mitm,arp,tls", "odd/none      -"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

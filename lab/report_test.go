package lab_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

func sampleResults() []lab.Result {
	return []lab.Result{
		{
			Scenario: "eavesdrop/tls", Labels: []lab.Label{lab.LabelEavesdrop, lab.LabelTLS},
			Verdict: lab.Held, Expected: lab.Held, OK: true, Service: lab.ServiceIntact,
			Evidence: []string{"alice: sent 2 IMs", "eavesdropper: 0 of 2 canaries in 9.1 KiB of captured TCP payload"},
			Duration: 1234567 * time.Microsecond, Seed: 7, Pcap: "out/eavesdrop-tls.pcapng", KeyLog: "out/eavesdrop-tls.keys",
		},
		{
			Scenario: "mitm/stolen-key", Labels: []lab.Label{lab.LabelMITM},
			Verdict: lab.Broken, Expected: lab.Held, OK: false, Service: lab.ServiceIntact,
			Evidence: []string{
				`alice: accepted the attacker as "pool01.contoso.com": ` + strings.Repeat("very long detail ", 10),
				"mallory: 2 of 2 canaries in decrypted SIP",
			},
			Compromises: []lab.Compromise{{Kind: lab.CompromiseIdentity, Actor: "alice",
				Line: `alice: accepted the attacker as "pool01.contoso.com": ` + strings.Repeat("very long detail ", 10)}},
			Duration: 3 * time.Millisecond,
		},
		{
			Scenario: "dns/hijack", Verdict: lab.Error, Expected: lab.Held, Service: lab.ServiceUnknown,
			Err: errors.New("lab: scenario \"dns/hijack\" did not finish within 10s"),
		},
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := lab.WriteTable(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want header + 3 rows + summary:\n%s", len(lines), buf.String())
	}
	header := strings.Fields(lines[0])
	want := []string{"SCENARIO", "VERDICT", "EXPECTED", "MATCH", "SERVICE", "EVIDENCE", "DURATION"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Errorf("header %q, want %q", header, want)
	}
	// Columns are aligned: EVIDENCE starts at the same offset on every row.
	col := strings.Index(lines[0], "EVIDENCE")
	for i, sub := range []string{"eavesdropper: 0 of 2", `alice: accepted the attacker as "pool01`, "error: lab: scenario"} {
		if got := strings.Index(lines[i+1], sub); got != col {
			t.Errorf("row %d: %q at column %d, want %d\n%s", i+1, sub, got, col, buf.String())
		}
	}
	for i, sub := range [][]string{
		{"eavesdrop/tls", "held", "held", "yes", "intact", "1.235s"},
		{"mitm/stolen-key", "broken", "held", "NO", "...", "3ms"},
		{"dns/hijack", "error", "held", "error", "unknown"},
	} {
		for _, s := range sub {
			if !strings.Contains(lines[i+1], s) {
				t.Errorf("row %d %q lacks %q", i+1, lines[i+1], s)
			}
		}
	}
	if strings.Contains(lines[2], "very long detail very long detail very long detail very long detail very long detail") {
		t.Errorf("long evidence not truncated: %q", lines[2])
	}
	if got, want := lines[4], "3 scenarios: 1 matched, 1 differed, 1 error"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestMainEvidence(t *testing.T) {
	rs := sampleResults()
	for i, want := range []string{
		"eavesdropper: 0 of 2 canaries in 9.1 KiB of captured TCP payload", // held: last line
		rs[1].Compromises[0].Line, // broken: first compromise, not the last line
		`error: lab: scenario "dns/hijack" did not finish within 10s`,
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
	if err := lab.WriteJSON(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
		Summary map[string]any   `json:"summary"`
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(doc.Results) != 3 {
		t.Fatalf("%d results, want 3", len(doc.Results))
	}
	r0 := doc.Results[0]
	for _, key := range []string{"scenario", "labels", "verdict", "expected", "ok", "service", "evidence", "duration_ms", "pcap", "keylog"} {
		if _, ok := r0[key]; !ok {
			t.Errorf("result lacks %q: %v", key, r0)
		}
	}
	if _, ok := r0["error"]; ok {
		t.Errorf("error present without an error: %v", r0["error"])
	}
	if r0["ok"] != true || r0["verdict"] != "held" || r0["pcap"] != "out/eavesdrop-tls.pcapng" {
		t.Errorf("result 0: %v", r0)
	}
	if d := r0["duration_ms"].(json.Number).String(); d != "1234.567" {
		t.Errorf("duration_ms %s, want 1234.567", d)
	}
	r2 := doc.Results[2]
	if r2["error"] == "" || r2["ok"] != false {
		t.Errorf("result 2: %v", r2)
	}
	if ev, ok := r2["evidence"].([]any); !ok || len(ev) != 0 {
		t.Errorf("evidence of result 2 = %#v, want []", r2["evidence"])
	}
	if ls, ok := r2["labels"].([]any); !ok || len(ls) != 0 {
		t.Errorf("labels of result 2 = %#v, want []", r2["labels"])
	}
	want := map[string]string{"total": "3", "matched": "1", "differed": "1", "errors": "1"}
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
	if err := lab.WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	if want := `"eavesdropper: TLS 10.0.0.10:49152 -> 10.0.0.20:5061 & <more>"`; !strings.Contains(buf.String(), want) {
		t.Errorf("JSON lacks %s:\n%s", want, buf.String())
	}
}

func TestWriteList(t *testing.T) {
	var buf bytes.Buffer
	if err := lab.WriteList(&buf, testCatalog()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"NAME", "LABELS", "SUMMARY", "mitm/arp-tls", "mitm,arp,tls"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/report"
	"github.com/tlslab/tlslab/lab/timeline"
)

// WriteHandout adds, from a matrix, which single changes altered the
// attack's outcome, and from a timeline, the picture and the timeline.
func TestWriteHandoutMatrixAndTimeline(t *testing.T) {
	scenarios, results := handoutFixture()
	held := results[1]
	var revSoft, nameOff matrix.Change
	for _, c := range matrix.Changes() {
		switch c.Name() {
		case "revocation soft-fail":
			revSoft = c
		case "hostname-check off":
			nameOff = c
		}
	}
	m := &matrix.Result{Changes: []matrix.Change{nameOff, revSoft}, Rows: []matrix.Row{{
		Scenario: scenarios[1], Hardened: held,
		Cells: []matrix.Cell{
			{Change: nameOff, Applies: true, Result: held},
			{Change: revSoft, Applies: true, Result: lab.Result{Scenario: "mitm/revoked", Verdict: lab.Broken, Service: lab.ServiceIntact}},
		},
	}}}
	events := timeline.Events{
		{At: 1000, Host: "alice", Peer: "dns01", Kind: timeline.DNS, Text: "DNS query pool01.contoso.com A -> 10.0.0.53 (dns01)"},
		{At: 2000, Host: "", Peer: "alice", Kind: timeline.DNS, Forged: true,
			Text: "DNS answer pool01.contoso.com A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.66 (forged as 10.0.0.53 (dns01): it crossed the wire before the query it answers)"},
		{At: 3000, Host: "alice", Peer: "mallory", Kind: timeline.TCP, Text: "TCP SYN -> 10.0.0.66:5061 (mallory)"},
		{At: 4000, Host: "alice", Peer: "mallory", Kind: timeline.Certificate,
			Text: "certificate presented by 10.0.0.66:5061 (mallory) for pool01.contoso.com: subject CN=pool01.contoso.com issuer CN=Mallory Root CA valid a→b: accepted"},
		{At: 5000, Host: "alice", Peer: "mallory", Kind: timeline.Application,
			Text: `SIP MESSAGE sip:dave@contoso.com: "code word CANARY-1" (decrypted) -> 10.0.0.66:5061 (mallory)`},
		{At: 6000, Host: "mallory", Kind: timeline.Evidence, Text: "evidence: 1 of 1 canary"},
	}
	var buf bytes.Buffer
	err := report.WriteHandout(&buf, scenarios, results, report.HandoutOptions{
		Matrix: m, Timelines: map[string]timeline.Events{"mitm/revoked": events},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	section := got[strings.Index(got, "## mitm/revoked"):strings.Index(got, "## baseline/tls")]
	for _, want := range []string{
		"**Which defenses mattered** (the defense matrix: each switch changed alone; with the hardened defaults held (revocation)):\n\n" +
			"- revocation soft-fail: broken\n\nNo change to the outcome with: hostname-check off.\n",
		"```mermaid\nsequenceDiagram\n" +
			"    participant h_alice as alice\n    participant h_dns01 as dns01\n    participant h_unknown as unknown\n    participant h_mallory as mallory\n" +
			"    h_alice->>h_dns01: DNS query pool01.contoso.com A\n" +
			"    h_unknown--)h_alice: FORGED DNS answer pool01.contoso.com A: NOERROR: A 10.0.0.66 (forged as 10.0.0.53 (dns01): it crossed the wire before the qu...\n" +
			"    Note over h_alice: subject CN=pool01.contoso.com: accepted\n" +
			"    h_alice->>h_mallory: SIP MESSAGE sip:dave@contoso.com: 'code word CANARY-1' (decrypted)\n```\n",
		"**Timeline** (simulation time, host, what happened; forged messages marked):\n\n```text\n+0.001ms  alice    DNS query pool01.contoso.com A -> 10.0.0.53 (dns01)\n",
		"+0.006ms  mallory  evidence: 1 of 1 canary\n```\n",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the mitm/revoked section lacks\n%s\ngot:\n%s", want, section)
		}
	}
	if first := got[:strings.Index(got, "## mitm/revoked")]; strings.Contains(first, "mattered") || strings.Contains(first, "mermaid") {
		t.Errorf("a section without a matrix row or timeline got one:\n%s", first)
	}
}

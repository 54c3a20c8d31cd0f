package timeline_test

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/lab/timeline/timelinetest"
)

var update = flag.Bool("update", false, "rewrite the golden timelines in testdata/*.golden")

// TestTimelineGolden records the package's tlScenario and compares its
// transcript with testdata/tlscenario.golden. alice does everything in
// turn (one lookup, one connection after the other), so the whole run's
// order is deterministic; srv's PKI is fixed, but its keys are not, so
// nothing that depends on them may appear.
func TestTimelineGolden(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	p := newTLPKI(t)
	res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, tlScenario(p))
	if runFailed(res) {
		t.Fatalf("run failed: %v", res.Err)
	}
	timelinetest.CheckGolden(t, filepath.Join("testdata", "tlscenario.golden"), timelinetest.Lanes(tl), *update, "go test ./lab/timeline -run Golden -update")
	goleak.VerifyNone(t, ignore)
}

// Lanes replaces only what varies, groups per host and peer, and leaves
// out how connections end.
func TestLanesNormalize(t *testing.T) {
	events := timeline.Events{
		{At: 1, Host: "alice", Kind: timeline.TCP, Text: "TCP SYN -> 10.0.0.11:5061 (fe01)"},
		{At: 2, Host: "fe01", Kind: timeline.TCP, Text: "TCP SYN-ACK -> 10.0.0.10:52359 (alice): 10.0.0.11:5061 accepts"},
		{At: 3, Host: "fe01", Kind: timeline.TCP, Text: "TCP SYN-ACK -> 10.0.0.10:61000 (alice): 10.0.0.11:5061 accepts"},
		{At: 4, Host: "fe01", Kind: timeline.TCP, Text: "TCP FIN -> 10.0.0.10:52359 (alice): 10.0.0.11:5061 closes its side"},
		{At: 5, Host: "mallory", Kind: timeline.ARP, Text: "ARP announce 10.0.0.11 is-at 02:00:5e:00:00:14 [repeated 3 more times, last at +9.123ms]"},
		{At: 6, Host: "alice", Kind: timeline.Certificate, Text: "certificate presented by 10.0.0.11:5061 (mallory) for pool01.contoso.com: " +
			"subject CN=pool01.contoso.com issuer CN=pool01.contoso.com valid 2026-12-06T13:54:04Z→2027-12-06T14:54:04Z: refused: alert bad certificate"},
		{At: 7, Host: "mallory", Kind: timeline.Evidence, Text: `evidence: answered 10.0.0.10's query A pool01.contoso.com (ID 13040) with 10.0.0.66`},
		{At: 8, Host: "alice", Kind: timeline.Evidence, Text: `evidence: revocation: OCSP http://pki.contoso.com/ocsp: "fe01.contoso.com" (serial 0x3cfc4037cd34f9977b27d50f31ae07e0) good`},
		{At: 9, Host: "dns01", Kind: timeline.DNS, Text: "DNS answer contoso.com DNSKEY -> 10.0.0.10 (alice): NOERROR: DNSKEY 257 3 13 zOC/9lHQ+pp==, DNSKEY 256 3 13 QpB/bW=="},
	}
	want := `alice: certificates presented by 10.0.0.11:5061
    certificate presented by 10.0.0.11:5061 (mallory) for pool01.contoso.com: subject CN=pool01.contoso.com issuer CN=pool01.contoso.com valid <date>→<date>: refused: alert bad certificate

alice: connection -> 10.0.0.11:5061
    TCP SYN -> 10.0.0.11:5061 (fe01)

alice: evidence
    evidence: revocation: OCSP http://pki.contoso.com/ocsp: "fe01.contoso.com" (serial <serial>) good

dns01: dns -> 10.0.0.10
    DNS answer contoso.com DNSKEY -> 10.0.0.10 (alice): NOERROR: DNSKEY 257 3 13 <key>, DNSKEY 256 3 13 <key>

fe01: connection -> 10.0.0.10:<port#1@10.0.0.11:5061>
    TCP SYN-ACK -> 10.0.0.10:<port#1@10.0.0.11:5061> (alice): 10.0.0.11:5061 accepts

fe01: connection -> 10.0.0.10:<port#2@10.0.0.11:5061>
    TCP SYN-ACK -> 10.0.0.10:<port#2@10.0.0.11:5061> (alice): 10.0.0.11:5061 accepts

mallory: ARP
    ARP announce 10.0.0.11 is-at 02:00:5e:00:00:14 [repeated <n> more times, last at <t>]

mallory: evidence
    evidence: answered 10.0.0.10's query A pool01.contoso.com (ID <id>) with 10.0.0.66
`
	if got := timelinetest.Lanes(events); got != want {
		t.Errorf("Lanes:\n%s", timelinetest.LineDiff(want, got))
	}
}

package timeline_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden timelines in testdata/*.golden")

// The parts of a timeline line that legitimately vary between runs.
var (
	// The time column Write prints first.
	goldenTime = regexp.MustCompile(`^[+-]\d+\.\d{3}ms +`)
	// A folded ARP message's count and time: how often a spoofer repeats
	// itself depends on the scheduler.
	goldenRepeats = regexp.MustCompile(`\[repeated \d+ more times?, last at [+-]\d+\.\d{3}ms\]`)
	// Certificate validity and revocation times: the lab's PKI issues
	// from the clock.
	goldenDate = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)
	// Certificate serial numbers are random.
	goldenSerial = regexp.MustCompile(`\bserial (?:0x)?[0-9a-fA-F:]+`)
	// DNS transaction IDs are random.
	goldenDNSID = regexp.MustCompile(`\bID \d+\b`)
	// DNSKEY public keys are generated per run.
	goldenDNSKEY = regexp.MustCompile(`\bDNSKEY (\d+ \d+ \d+) [A-Za-z0-9+/=]+`)
	// What a tap captured counts the connections' last frames, which may
	// come after the run stopped capturing (see lanes).
	goldenFrames   = regexp.MustCompile(`\b\d+ frames\b`)
	goldenCaptured = regexp.MustCompile(`\b[\d.]+ (?:B|KiB|MiB) of captured\b`)
	// An address with a port: ports from netsim's ephemeral range
	// (49152-65535) are replaced.
	goldenAddrPort = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b`)
)

const ephemeralFirst = 49152

// normalizeText replaces the varying parts of an event's text, except
// ports: see transcript and lanes.
func normalizeText(s string) string {
	s = goldenRepeats.ReplaceAllString(s, "[repeated <n> more times, last at <t>]")
	s = goldenDate.ReplaceAllString(s, "<date>")
	s = goldenSerial.ReplaceAllString(s, "serial <serial>")
	s = goldenDNSID.ReplaceAllString(s, "ID <id>")
	s = goldenDNSKEY.ReplaceAllString(s, "DNSKEY $1 <key>")
	s = goldenFrames.ReplaceAllString(s, "<n> frames")
	s = goldenCaptured.ReplaceAllString(s, "<size> of captured")
	return s
}

// transcript is Write's output for events with what varies between runs
// replaced: the time column is dropped (the order of the lines stays), and
// ephemeral ports are numbered per address by first appearance
// ("10.0.0.10:<port1>"); see normalizeText for the rest. Hosts, addresses,
// well-known ports, messages, versions, suites, subjects, verdicts and
// evidence text stay as they are.
func transcript(t *testing.T, events timeline.Events) string {
	t.Helper()
	var buf bytes.Buffer
	if err := timeline.Write(&buf, events); err != nil {
		t.Fatal(err)
	}
	ports := make(map[string]map[string]int)
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		line = normalizeText(goldenTime.ReplaceAllString(line, ""))
		line = goldenAddrPort.ReplaceAllStringFunc(line, func(s string) string {
			m := goldenAddrPort.FindStringSubmatch(s)
			if p, _ := strconv.Atoi(m[2]); p < ephemeralFirst {
				return s
			}
			seen := ports[m[1]]
			if seen == nil {
				seen = make(map[string]int)
				ports[m[1]] = seen
			}
			n, ok := seen[m[2]]
			if !ok {
				n = len(seen) + 1
				seen[m[2]] = n
			}
			return fmt.Sprintf("%s:<port%d>", m[1], n)
		})
		out.WriteString(line)
	}
	return out.String()
}

// The lines that name a connection's ephemeral port together with the
// server's address: its SYN-ACK, and the RST refusing it.
var (
	goldenSYNACK   = regexp.MustCompile(`^TCP SYN-ACK -> (\S+):(\d+) .*: (\S+) accepts$`)
	goldenRefused  = regexp.MustCompile(`^TCP RST -> (\S+):(\d+) .*: connection to (\S+) refused$`)
	goldenTeardown = regexp.MustCompile(`^TCP (?:RST -> .*: connection reset|FIN -> .* closes its side)$`)
	goldenDest     = regexp.MustCompile(` -> (\S+)`)
	goldenBy       = regexp.MustCompile(`presented by (\S+)`)
)

// lanes is the per-connection projection of a timeline: its normalised
// lines (as in transcript) grouped in lanes, each the events one host
// sent to one destination (one side of a connection, or of a DNS
// exchange), its ARP messages, the certificates presented to it by one
// peer, or its evidence lines. A lane keeps the timeline's order; the
// lanes are sorted by name, since hosts run concurrently and how their
// events interleave varies from run to run.
//
// An ephemeral port is named after the connection it is the client's end
// of: "10.0.0.10:<port#2@10.0.0.20:443>" is alice's port on her second
// connection to srv's port 443, in the order the server accepted (or
// refused) them. Other ephemeral ports are "<port>".
//
// How a connection ends (its FINs, and a "TCP RST ...: connection reset")
// is left out: whether closing a socket resets depends on whether the
// peer's last records (a session ticket, a close_notify) arrived before
// it closed, a race between the two hosts, and the last connections'
// FINs may come after the run has stopped capturing. Refusals ("TCP RST
// ...: connection to ... refused") stay.
func lanes(t *testing.T, events timeline.Events) string {
	t.Helper()
	names := make(map[string]string) // "addr:port" -> placeholder
	count := make(map[string]int)    // "client addr server addr:port" -> connections
	for _, e := range events {
		m := goldenSYNACK.FindStringSubmatch(e.Text)
		if m == nil {
			m = goldenRefused.FindStringSubmatch(e.Text)
		}
		if m == nil {
			continue
		}
		if p, _ := strconv.Atoi(m[2]); p < ephemeralFirst {
			continue
		}
		ap := m[1] + ":" + m[2]
		if _, ok := names[ap]; ok {
			continue
		}
		k := m[1] + " " + m[3]
		count[k]++
		names[ap] = fmt.Sprintf("%s:<port#%d@%s>", m[1], count[k], m[3])
	}
	byLane := make(map[string][]string)
	for _, e := range events {
		if e.Kind == timeline.TCP && goldenTeardown.MatchString(e.Text) {
			continue
		}
		text := normalizeText(e.Text)
		text = goldenAddrPort.ReplaceAllStringFunc(text, func(s string) string {
			m := goldenAddrPort.FindStringSubmatch(s)
			if p, _ := strconv.Atoi(m[2]); p < ephemeralFirst {
				return s
			}
			if name, ok := names[s]; ok {
				return name
			}
			return m[1] + ":<port>"
		})
		host := e.Host
		if host == "" {
			host = "-"
		}
		var lane string
		switch e.Kind {
		case timeline.Evidence:
			lane = host + ": evidence"
		case timeline.ARP:
			lane = host + ": ARP"
		case timeline.Certificate:
			lane = host + ": certificates"
			if m := goldenBy.FindStringSubmatch(text); m != nil {
				lane += " presented by " + m[1]
			}
		default:
			lane = host + ": " + string(e.Kind)
			if m := goldenDest.FindStringSubmatch(text); m != nil {
				if e.Kind != timeline.DNS {
					lane = host + ": connection"
				}
				lane += " -> " + strings.TrimSuffix(m[1], ":")
			}
		}
		byLane[lane] = append(byLane[lane], text)
	}
	var b strings.Builder
	for i, lane := range slices.Sorted(maps.Keys(byLane)) {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n", lane)
		for _, text := range byLane[lane] {
			fmt.Fprintf(&b, "    %s\n", text)
		}
	}
	return b.String()
}

// checkGolden compares got with the golden file at path byte for byte, or
// rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./lab/timeline -run Golden -update' to create it)", err)
	}
	if string(want) == got {
		return
	}
	t.Errorf("timeline differs from %s:\n%s\nIf the change is intended, rewrite the file with 'go test ./lab/timeline -run Golden -update' and review its diff.",
		path, lineDiff(string(want), got))
}

// lineDiff shows where two texts first differ, with a few lines around
// it from each.
func lineDiff(want, got string) string {
	w, g := slices.Collect(strings.Lines(want)), slices.Collect(strings.Lines(got))
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (golden has %d lines, got %d):\n", i+1, len(w), len(g))
	from := max(0, i-2)
	show := func(name string, lines []string) {
		fmt.Fprintf(&b, "--- %s\n", name)
		for j := from; j < min(len(lines), i+6); j++ {
			mark := " "
			if j >= i {
				mark = name[:1]
			}
			fmt.Fprintf(&b, "%s %4d  %s", mark, j+1, strings.TrimSuffix(lines[j], "\n")+"\n")
		}
		if i >= len(lines) {
			fmt.Fprintf(&b, "%s       (end)\n", name[:1])
		}
	}
	show("golden", w)
	show("got", g)
	return b.String()
}

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
	checkGolden(t, filepath.Join("testdata", "tlscenario.golden"), lanes(t, tl))
	goleak.VerifyNone(t, ignore)
}

// The normaliser replaces only what varies.
func TestTranscriptNormalizes(t *testing.T) {
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
	want := `alice    TCP SYN -> 10.0.0.11:5061 (fe01)
fe01     TCP SYN-ACK -> 10.0.0.10:<port1> (alice): 10.0.0.11:5061 accepts
fe01     TCP SYN-ACK -> 10.0.0.10:<port2> (alice): 10.0.0.11:5061 accepts
fe01     TCP FIN -> 10.0.0.10:<port1> (alice): 10.0.0.11:5061 closes its side
mallory  ARP announce 10.0.0.11 is-at 02:00:5e:00:00:14 [repeated <n> more times, last at <t>]
alice    certificate presented by 10.0.0.11:5061 (mallory) for pool01.contoso.com: subject CN=pool01.contoso.com issuer CN=pool01.contoso.com valid <date>→<date>: refused: alert bad certificate
mallory  evidence: answered 10.0.0.10's query A pool01.contoso.com (ID <id>) with 10.0.0.66
alice    evidence: revocation: OCSP http://pki.contoso.com/ocsp: "fe01.contoso.com" (serial <serial>) good
dns01    DNS answer contoso.com DNSKEY -> 10.0.0.10 (alice): NOERROR: DNSKEY 257 3 13 <key>, DNSKEY 256 3 13 <key>
`
	if got := transcript(t, events); got != want {
		t.Errorf("transcript:\n%s", lineDiff(want, got))
	}
}

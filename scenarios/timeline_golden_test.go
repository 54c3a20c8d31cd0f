package scenarios

import (
	"context"
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

// Golden timelines of catalog scenarios that tell distinct stories, in
// testdata/timelines/<family>-<name>.golden, compared byte for byte and
// rewritten with 'go test ./scenarios -run Golden -update' (the package's
// -update flag, file_test.go). Each is the per-connection projection of
// the run's timeline (tlLanes): the World is concurrent, so how events
// at different hosts interleave varies from run to run, while each lane's
// order does not. The normalising helpers are those of lab/timeline's
// golden_test.go; keep the two in step.
var goldenTimelines = []string{
	"baseline/client-register-im",
	"baseline/revoked-server-cert",
	"eavesdrop/tls",
	"mitm/self-signed",
	"dns/rogue-server",
	"dns/hijack-mis-issued-cert",
	"mtls/untrusted-client-cert",
	"federation/partner-not-allowed",
}

func TestTimelineGolden(t *testing.T) {
	catalog := Catalog()
	for _, name := range goldenTimelines {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			s, err := catalog.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			ignore := goleak.IgnoreCurrent()
			res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
			if !res.OK {
				t.Fatalf("%s: verdict %s, err %v; want %s", name, res.Verdict, res.Err, s.Expected)
			}
			path := filepath.Join("testdata", "timelines", strings.ReplaceAll(name, "/", "-")+".golden")
			tlCheckGolden(t, path, tlLanes(t, tl))
			goleak.VerifyNone(t, ignore)
		})
	}
}

// The parts of a timeline line that legitimately vary between runs.
var (
	// A folded ARP message's count and time: how often a spoofer repeats
	// itself depends on the scheduler.
	tlGoldenRepeats = regexp.MustCompile(`\[repeated \d+ more times?, last at [+-]\d+\.\d{3}ms\]`)
	// Certificate validity and revocation times: the lab's PKI issues
	// from the clock.
	tlGoldenDate = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)
	// Certificate serial numbers are random.
	tlGoldenSerial = regexp.MustCompile(`\bserial (?:0x)?[0-9a-fA-F:]+`)
	// DNS transaction IDs are random.
	tlGoldenDNSID = regexp.MustCompile(`\bID \d+\b`)
	// DNSKEY public keys are generated per run.
	tlGoldenDNSKEY = regexp.MustCompile(`\bDNSKEY (\d+ \d+ \d+) [A-Za-z0-9+/=]+`)
	// What a tap captured counts the connections' last frames, which may
	// come after the run stopped capturing (see lanes).
	tlGoldenFrames   = regexp.MustCompile(`\b\d+ frames\b`)
	tlGoldenCaptured = regexp.MustCompile(`\b[\d.]+ (?:B|KiB|MiB) of captured\b`)
	// An address with a port: ports from netsim's ephemeral range
	// (49152-65535) are replaced.
	tlGoldenAddrPort = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b`)
)

const tlEphemeralFirst = 49152

// tlNormalizeText replaces the varying parts of an event's text, except
// ports: see tlLanes.
func tlNormalizeText(s string) string {
	s = tlGoldenRepeats.ReplaceAllString(s, "[repeated <n> more times, last at <t>]")
	s = tlGoldenDate.ReplaceAllString(s, "<date>")
	s = tlGoldenSerial.ReplaceAllString(s, "serial <serial>")
	s = tlGoldenDNSID.ReplaceAllString(s, "ID <id>")
	s = tlGoldenDNSKEY.ReplaceAllString(s, "DNSKEY $1 <key>")
	s = tlGoldenFrames.ReplaceAllString(s, "<n> frames")
	s = tlGoldenCaptured.ReplaceAllString(s, "<size> of captured")
	return s
}

// The lines that name a connection's ephemeral port together with the
// server's address: its SYN-ACK, and the RST refusing it.
var (
	tlGoldenSYNACK   = regexp.MustCompile(`^TCP SYN-ACK -> (\S+):(\d+) .*: (\S+) accepts$`)
	tlGoldenRefused  = regexp.MustCompile(`^TCP RST -> (\S+):(\d+) .*: connection to (\S+) refused$`)
	tlGoldenTeardown = regexp.MustCompile(`^TCP (?:RST -> .*: connection reset|FIN -> .* closes its side)$`)
	tlGoldenDest     = regexp.MustCompile(` -> (\S+)`)
	tlGoldenBy       = regexp.MustCompile(`presented by (\S+)`)
)

// lanes is the per-connection projection of a timeline: its normalised
// lines (see tlNormalizeText) grouped in lanes, each the events one host
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
func tlLanes(t *testing.T, events timeline.Events) string {
	t.Helper()
	names := make(map[string]string) // "addr:port" -> placeholder
	count := make(map[string]int)    // "client addr server addr:port" -> connections
	for _, e := range events {
		m := tlGoldenSYNACK.FindStringSubmatch(e.Text)
		if m == nil {
			m = tlGoldenRefused.FindStringSubmatch(e.Text)
		}
		if m == nil {
			continue
		}
		if p, _ := strconv.Atoi(m[2]); p < tlEphemeralFirst {
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
		if e.Kind == timeline.TCP && tlGoldenTeardown.MatchString(e.Text) {
			continue
		}
		text := tlNormalizeText(e.Text)
		text = tlGoldenAddrPort.ReplaceAllStringFunc(text, func(s string) string {
			m := tlGoldenAddrPort.FindStringSubmatch(s)
			if p, _ := strconv.Atoi(m[2]); p < tlEphemeralFirst {
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
			if m := tlGoldenBy.FindStringSubmatch(text); m != nil {
				lane += " presented by " + m[1]
			}
		default:
			lane = host + ": " + string(e.Kind)
			if m := tlGoldenDest.FindStringSubmatch(text); m != nil {
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

// tlCheckGolden compares got with the golden file at path byte for byte, or
// rewrites it with -update.
func tlCheckGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
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
		t.Fatalf("%v (run 'go test ./scenarios -run Golden -update' to create it)", err)
	}
	if string(want) == got {
		return
	}
	t.Errorf("timeline differs from %s:\n%s\nIf the change is intended, rewrite the file with 'go test ./scenarios -run Golden -update' and review its diff.",
		path, tlLineDiff(string(want), got))
}

// tlLineDiff shows where two texts first differ, with a few lines around
// it from each.
func tlLineDiff(want, got string) string {
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

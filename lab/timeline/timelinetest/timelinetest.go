// Package timelinetest compares run timelines with golden transcripts, as
// crypto/tls keeps its handshake transcripts: a test records a scenario
// with timeline.Record, projects the events with [Lanes] (what varies
// between runs replaced, events grouped per host and peer) and checks the
// text with [CheckGolden], which rewrites the file when asked to.
//
//	res, events := timeline.Record(ctx, lab.Runner{Seed: 1}, s)
//	timelinetest.CheckGolden(t, "testdata/x.golden", timelinetest.Lanes(events), *update,
//		"go test ./mypkg -run Golden -update")
package timelinetest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab/timeline"
)

// The parts of a timeline line that legitimately vary between runs.
var (
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
	// Canaries are random tokens (lab.Env.NewCanary).
	goldenCanary = regexp.MustCompile(`\bCANARY-[0-9a-f]+\b`)
	// An address with a port: ports from netsim's ephemeral range
	// (49152-65535) are replaced.
	goldenAddrPort = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b`)
)

const ephemeralFirst = 49152

// Normalize replaces what varies between runs in an event's text, except
// ports (see Lanes): ARP repeat counts and times, certificate and
// revocation dates, serial numbers, DNS IDs, DNSKEY material, what a
// tap captured, and canary tokens.
func Normalize(s string) string {
	s = goldenRepeats.ReplaceAllString(s, "[repeated <n> more times, last at <t>]")
	s = goldenDate.ReplaceAllString(s, "<date>")
	s = goldenSerial.ReplaceAllString(s, "serial <serial>")
	s = goldenDNSID.ReplaceAllString(s, "ID <id>")
	s = goldenDNSKEY.ReplaceAllString(s, "DNSKEY $1 <key>")
	s = goldenFrames.ReplaceAllString(s, "<n> frames")
	s = goldenCaptured.ReplaceAllString(s, "<size> of captured")
	s = goldenCanary.ReplaceAllString(s, "CANARY-<token>")
	return s
}

// The lines that name a connection's ephemeral port together with the
// server's address: its SYN-ACK, and the RST refusing it.
var (
	goldenSYNACK   = regexp.MustCompile(`^TCP SYN-ACK -> (\S+):(\d+) .*: (\S+) accepts$`)
	goldenRefused  = regexp.MustCompile(`^TCP RST -> (\S+):(\d+) .*: connection to (\S+) refused$`)
	goldenTeardown = regexp.MustCompile(`^(?:TCP (?:RST -> .*: connection reset|FIN -> .* closes its side)|TLS alert close notify \(warning, decrypted\) -> .*)$`)
	goldenDest     = regexp.MustCompile(` -> (\S+)`)
	goldenBy       = regexp.MustCompile(`presented by (\S+)`)
)

// Lanes is the per-connection projection of a timeline: its normalised
// lines (see Normalize) grouped in lanes, each the events one host
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
// How a connection ends (its FINs, a "TCP RST ...: connection reset", a
// decrypted TLS 1.2 close_notify) is left out: whether closing a socket resets depends on whether the
// peer's last records (a session ticket, a close_notify) arrived before
// it closed, a race between the two hosts, and the last connections'
// FINs may come after the run has stopped capturing. Refusals ("TCP RST
// ...: connection to ... refused") stay.
func Lanes(events timeline.Events) string {
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
		if (e.Kind == timeline.TCP || e.Kind == timeline.TLS) && goldenTeardown.MatchString(e.Text) {
			continue
		}
		text := Normalize(e.Text)
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

// CheckGolden compares got with the golden file at path byte for byte,
// failing t with where they first differ and how to rewrite the file
// (updateCmd, e.g. "go test ./scenarios -run Golden -update"); with
// update, it rewrites the file instead.
func CheckGolden(t testing.TB, path, got string, update bool, updateCmd string) {
	t.Helper()
	if update {
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
		t.Fatalf("%v (run '%s' to create it)", err, updateCmd)
	}
	if string(want) == got {
		return
	}
	t.Errorf("timeline differs from %s:\n%s\nIf the change is intended, rewrite the file with '%s' and review its diff.",
		path, LineDiff(string(want), got), updateCmd)
}

// LineDiff shows where two texts first differ, with a few lines around
// it from each.
func LineDiff(want, got string) string {
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

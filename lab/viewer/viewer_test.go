package viewer_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/lab/viewer"
)

// Every wire event links to a frame its host sent, and a TLS event to a
// frame whose records hold the message it names: with an attacker in the
// middle, with a flood of forged DNS answers (frames the timeline does not
// each report), and with two TLS connections between the same hosts.
func TestRecordLinksEventsToFrames(t *testing.T) {
	for _, name := range []string{"mitm/self-signed", "dns/blind-spoof-randomised", "eavesdrop/tls"} {
		t.Run(name, func(t *testing.T) { checkLinks(t, name) })
	}
}

func checkLinks(t *testing.T, name string) {
	rec := record(t, name, lab.Runner{Seed: 21}, "")
	if !rec.Result.OK {
		t.Fatalf("%s: %s, not as expected: %v", name, rec.Result.Outcome(), rec.Result.Err)
	}
	if rec.Result.Pcap != "" || rec.Result.KeyLog != "" {
		t.Errorf("with no directory the artifacts are temporary, yet the result names %q and %q", rec.Result.Pcap, rec.Result.KeyLog)
	}
	if len(rec.FrameOf) != len(rec.Events) || len(rec.Frames) == 0 {
		t.Fatalf("%d links for %d events, %d frames", len(rec.FrameOf), len(rec.Events), len(rec.Frames))
	}
	for i, e := range rec.Events {
		j := rec.FrameOf[i]
		switch e.Kind {
		case timeline.Evidence:
			if j != -1 {
				t.Errorf("evidence %q links to frame %d; want none", e.Text, j)
			}
			continue
		case timeline.Certificate:
			if j < 0 || rec.Frames[j].To != e.Host {
				t.Errorf("certificate event %q is not linked to a frame to %s", e.Text, e.Host)
			}
			continue
		}
		if j < 0 {
			t.Errorf("event %d %q has no frame", i, e.Text)
			continue
		}
		f := rec.Frames[j]
		if f.From != e.Host {
			t.Errorf("event %q of %s links to frame #%d from %q", e.Text, e.Host, f.Number, f.From)
		}
		if e.Kind != timeline.TLS {
			continue
		}
		msg := strings.Fields(strings.TrimPrefix(e.Text, "TLS "))[0] // "ClientHello", "Certificate", "alert"
		if msg == "encrypted" {
			msg = "application_data" // "TLS encrypted application data begins"
		}
		var titles []string
		for _, u := range f.Messages {
			titles = append(titles, u.Title)
		}
		if !strings.Contains(strings.Join(titles, "|"), msg) {
			t.Errorf("TLS event %q links to frame #%d holding %q", e.Text, f.Number, titles)
		}
	}
}

func TestFirstDifference(t *testing.T) {
	ev := func(host, text string) timeline.Event {
		return timeline.Event{Host: host, Kind: timeline.TLS, Text: text}
	}
	base := timeline.Events{ev("alice", "TLS ClientHello -> 10.0.0.11:5061"), ev("fe01", "TLS ServerHello -> 10.0.0.10:51234"), ev("alice", "TLS alert")}
	tests := []struct {
		name  string
		b     timeline.Events
		wantA int
		wantB int
	}{
		{"same", base, -1, -1},
		{"another ephemeral port is no difference", timeline.Events{base[0], ev("fe01", "TLS ServerHello -> 10.0.0.10:60001"), base[2]}, -1, -1},
		{"reordered is no difference", timeline.Events{base[1], base[0], base[2]}, -1, -1},
		{"a changed event", timeline.Events{base[0], base[1], ev("alice", "TLS Finished")}, 2, 2},
		{"one event less", base[:2], 2, -1},
		{"one event more", append(timeline.Events{ev("mallory", "TLS ClientHello")}, base...), -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := viewer.FirstDifference(base, tt.b)
			if a != tt.wantA || b != tt.wantB {
				t.Errorf("FirstDifference = %d, %d; want %d, %d", a, b, tt.wantA, tt.wantB)
			}
		})
	}
}

// externalRef finds an attribute or CSS reference that would load
// something: src, an http(s) href, url() outside the page, @import.
var externalRef = regexp.MustCompile(`(?i)(\ssrc=|href="(https?:)?//|url\((['"]?)(https?:|//)|@import)`)

// The page text names no external resource (the browser tests check
// what a browser requests).
func TestPageIsSelfContained(t *testing.T) {
	rec := record(t, "mitm/self-signed", lab.Runner{Seed: 4}, t.TempDir())
	var page, index bytes.Buffer
	if err := viewer.WritePage(&page, viewer.NewPage(rec, "")); err != nil {
		t.Fatal(err)
	}
	if err := viewer.WriteIndex(&index, viewer.NewIndex("run", []lab.Result{rec.Result}, viewer.PageFile)); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]string{"page": page.String(), "index": index.String()} {
		if m := externalRef.FindString(b); m != "" {
			t.Errorf("the %s refers to an external resource: %q", name, m)
		}
	}
	if n := strings.Count(page.String(), `<a class="arrow `); n != len(rec.Events) {
		t.Errorf("%d arrows for %d events", n, len(rec.Events))
	}
}

// A frame that claims another host's address is marked spoofed from its
// bytes: a blind spoofer's forged DNS answers carry dns01's address from
// mallory's MAC. The real answers, and frames a router forwards, are not.
func TestSpoofedFrames(t *testing.T) {
	rec := record(t, "dns/blind-spoof-randomised", lab.Runner{Seed: 2}, "")
	var forged, real int
	for i, e := range rec.Events {
		j := rec.FrameOf[i]
		if e.Kind != timeline.DNS || j < 0 || !strings.HasPrefix(e.Text, "DNS answer") {
			continue
		}
		f := rec.Frames[j]
		switch e.Host {
		case "mallory":
			forged++
			if f.Spoofed != "10.0.0.53 is dns01's" {
				t.Errorf("mallory's answer in frame #%d: Spoofed %q, want \"10.0.0.53 is dns01's\"", f.Number, f.Spoofed)
			}
		case "dns01":
			real++
			if f.Spoofed != "" {
				t.Errorf("dns01's answer in frame #%d: Spoofed %q, want none", f.Number, f.Spoofed)
			}
		}
	}
	if forged == 0 || real == 0 {
		t.Errorf("%d forged and %d real answers; want some of each", forged, real)
	}
	mitm := record(t, "mitm/self-signed", lab.Runner{Seed: 2}, "")
	for i, e := range mitm.Events {
		j := mitm.FrameOf[i]
		if j < 0 || e.Host != "mallory" {
			continue
		}
		f := mitm.Frames[j]
		wantSpoofed := strings.Contains(e.Text, "(spoofed:")
		if (f.Spoofed != "") != wantSpoofed {
			t.Errorf("mallory's %q in frame #%d: Spoofed %q; want spoofed %v", e.Text, f.Number, f.Spoofed, wantSpoofed)
		}
	}
}

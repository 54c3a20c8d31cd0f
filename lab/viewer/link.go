package viewer

import (
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlslab/tlslab/lab/timeline"
)

// linkEvents returns, for each event, the index of the frame it was read
// from, or -1, and sets every frame's At on the timeline's clock.
//
// Events carry no frame number, so the link is made as the timeline made
// the event: from a frame of the right kind sent by the event's host (for
// a certificate, carried to it), at the event's time. The capture stamps
// a frame when it writes it, some tens of microseconds after the
// timeline's tap saw it, and the World's start is not in the capture: the
// first wire event fixes the origin (it is the capture's first frame of
// its kind from its host). Each wire event then takes, in capture order,
// the first fitting frame within linkTolerance of its time that no event
// of another time took (and, failing that, the nearest fitting frame no
// event took): several events share a frame only when they share
// its time exactly (the records one frame completed), and a frame that
// made no event (a repeated ARP reply, a router's copy, a segment in the
// middle of a record) is passed over. Times alone could not tell
// neighbouring frames apart, nor order alone frames that two segments
// delivered at once. A certificate event, stamped when the certificate
// was checked, takes the last fitting frame before that time.
func linkEvents(events timeline.Events, frames []*Frame) []int {
	links := make([]int, len(events))
	for i := range links {
		links[i] = -1
	}
	if len(frames) == 0 {
		return links
	}
	origin := frames[0].ts
	for _, e := range events {
		if isWire(e.Kind) {
			if j := slices.IndexFunc(frames, func(f *Frame) bool { return fits(e, f) }); j >= 0 {
				origin = frames[j].ts.Add(-e.At)
			}
			break
		}
	}
	rel := func(j int) time.Duration { return frames[j].ts.Sub(origin) }
	taken := make(map[int]time.Duration) // frame -> the time of the events that took it
	for i, e := range events {
		switch {
		case e.Kind == timeline.Certificate:
			for j := len(frames) - 1; j >= 0; j-- {
				if rel(j) <= e.At+linkTolerance && fits(e, frames[j]) {
					links[i] = j
					break
				}
			}
		case isWire(e.Kind):
			for j := range frames {
				if d := rel(j) - e.At; d < -linkTolerance {
					continue
				} else if d > linkTolerance {
					break
				}
				if at, ok := taken[j]; ok && at != e.At {
					continue
				}
				if fits(e, frames[j]) {
					links[i], taken[j] = j, e.At
					break
				}
			}
		}
	}
	// A wire event the tolerance left unlinked (a loaded machine stamps
	// the capture later than the timeline's tap saw the frame) takes the
	// nearest fitting frame no event took.
	for i, e := range events {
		if links[i] >= 0 || !isWire(e.Kind) {
			continue
		}
		best, bestD := -1, time.Duration(0)
		for j := range frames {
			if _, ok := taken[j]; ok || !fits(e, frames[j]) {
				continue
			}
			d := rel(j) - e.At
			if d < 0 {
				d = -d
			}
			if best < 0 || d < bestD {
				best, bestD = j, d
			}
		}
		if best >= 0 {
			links[i], taken[best] = best, e.At
		}
	}
	// Put the frames on the timeline's clock: a linked frame at its
	// event's time, the others shifted as the nearest link before them.
	var shift time.Duration
	for j := range frames {
		if at, ok := taken[j]; ok {
			shift = at - rel(j)
		}
		frames[j].At = rel(j) + shift
	}
	return links
}

// linkTolerance is how far from an event's time its frame may be stamped
// in the capture.
const linkTolerance = 2 * time.Millisecond

// isWire reports whether events of kind k are read from one frame each.
func isWire(k timeline.Kind) bool {
	switch k {
	case timeline.ARP, timeline.DNS, timeline.TCP, timeline.TLS, timeline.Data, timeline.Application:
		return true
	}
	return false
}

// fits reports whether f can be the frame behind e.
func fits(e timeline.Event, f *Frame) bool {
	if e.Host == "" {
		return false
	}
	switch e.Kind {
	case timeline.ARP:
		return f.class == classARP && f.From == e.Host
	case timeline.DNS:
		return f.class == classDNS && f.From == e.Host && sentTo(e, f)
	case timeline.TCP:
		return f.tcpFlags && f.From == e.Host && sentTo(e, f)
	case timeline.TLS:
		return f.tls && f.From == e.Host && sentTo(e, f) && carries(e, f)
	case timeline.Data:
		return f.plain && f.From == e.Host && sentTo(e, f)
	case timeline.Application:
		// A message decrypted from the application data records of
		// this frame.
		return f.tls && f.From == e.Host && sentTo(e, f) && slices.ContainsFunc(f.Messages, func(u Unit) bool { return strings.Contains(u.Title, "application_data") })
	case timeline.Certificate:
		return f.tls && f.To == e.Host
	}
	return false
}

// carries reports whether f's records hold the TLS message e names
// ("TLS ClientHello ...", "TLS alert ...", "TLS encrypted application data
// begins"), so that frames of two connections between the same endpoints
// are not taken for each other. A text naming no message the viewer knows
// constrains nothing.
func carries(e timeline.Event, f *Frame) bool {
	fields := strings.Fields(strings.TrimPrefix(e.Text, "TLS "))
	if len(fields) == 0 {
		return true
	}
	want := fields[0]
	switch {
	case want == "alert":
	case want == "encrypted":
		want = "application_data"
	case slices.Contains(slices.Collect(maps.Values(handshakeNames)), want):
	default:
		return true
	}
	for _, u := range f.Messages {
		if strings.Contains(u.Title, want) {
			return true
		}
	}
	return false
}

// destinationRE reads the destination the timeline's text gives a
// message: "-> 10.0.0.11:5061 (fe01)", "-> 10.0.0.53 (dns01)".
var destinationRE = regexp.MustCompile(`-> (\d+\.\d+\.\d+\.\d+)(?::(\d+))?`)

// sentTo reports whether f went where e's text says e's message went.
// Two connections between the same hosts at once are told apart only so.
// A text that names no destination (its wording changed) constrains
// nothing.
func sentTo(e timeline.Event, f *Frame) bool {
	m := destinationRE.FindStringSubmatch(e.Text)
	if m == nil {
		return true
	}
	addr, err := netip.ParseAddr(m[1])
	if err != nil || addr != f.dst.Addr() {
		return err != nil
	}
	return m[2] == "" || m[2] == strconv.Itoa(int(f.dst.Port()))
}

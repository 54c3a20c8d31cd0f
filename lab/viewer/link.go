package viewer

import (
	"slices"
	"time"

	"github.com/tlslab/tlslab/lab/timeline"
)

// linkEvents returns, for each event, the index of the frame it was read
// from, or -1, and sets every frame's At on the timeline's clock.
//
// Events carry no frame number, so the link is made as the timeline made
// the event: from a frame of the right kind sent by the event's host (for
// a certificate, carried to it). The capture stamps a frame when it
// writes it, tens of microseconds from when the timeline's tap saw it,
// so times cannot tell neighbouring frames apart; order can. Wire events
// come in the order of their frames, as the capture does, so each takes
// the first fitting frame from where the previous one was found (several
// events may share a frame: the records it completed), and a frame that
// made no event (a repeated ARP reply, a router's copy, a segment in the
// middle of a record) is passed over. Events of one frame share its tap
// time exactly; an event at another time comes from a later frame. A certificate event, stamped when
// the certificate was checked, takes the last fitting frame before that
// point.
func linkEvents(events timeline.Events, frames []*Frame) []int {
	links := make([]int, len(events))
	for i := range links {
		links[i] = -1
	}
	if len(frames) == 0 {
		return links
	}
	p, prev := 0, -1 // the frame of the last wire event, and that event
	for i, e := range events {
		if e.Kind == timeline.Certificate {
			for j := min(p, len(frames)-1); j >= 0; j-- {
				if fits(e, frames[j]) {
					links[i] = j
					break
				}
			}
			continue
		}
		if !isWire(e.Kind) {
			continue
		}
		from := p + 1
		if prev >= 0 && events[prev].At == e.At {
			from = p // the same tap time: another record of the same frame
		}
		if prev < 0 {
			from = 0
		}
		for j := from; j < len(frames); j++ {
			if fits(e, frames[j]) {
				links[i], p, prev = j, j, i
				break
			}
		}
	}
	// Put the frames on the timeline's clock: a linked frame at its
	// event's time, the others shifted by the nearest link before them.
	var shift time.Duration
	if j := slices.IndexFunc(links, func(l int) bool { return l >= 0 }); j >= 0 {
		shift = events[j].At - frames[links[j]].ts.Sub(frames[0].ts)
	}
	at := make(map[int]time.Duration)
	for i, l := range links {
		if l >= 0 && events[i].Kind != timeline.Certificate {
			if _, ok := at[l]; !ok {
				at[l] = events[i].At
			}
		}
	}
	for j, f := range frames {
		raw := f.ts.Sub(frames[0].ts)
		if t, ok := at[j]; ok {
			shift = t - raw
		}
		f.At = raw + shift
	}
	return links
}

// isWire reports whether events of kind k are read from one frame each.
func isWire(k timeline.Kind) bool {
	switch k {
	case timeline.ARP, timeline.DNS, timeline.TCP, timeline.TLS, timeline.Data:
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
		return f.class == classDNS && f.From == e.Host
	case timeline.TCP:
		return f.tcpFlags && f.From == e.Host
	case timeline.TLS, timeline.Data:
		return f.class == classTCPData && f.From == e.Host && len(f.Messages) > 0
	case timeline.Certificate:
		return f.class == classTCPData && f.To == e.Host && len(f.Messages) > 0
	}
	return false
}

package eavesdrop

import (
	"bytes"
	"cmp"
	"slices"
)

// stream reassembles one direction of a TCP connection. Sequence numbers are
// compared modulo 2^32 (RFC 9293 section 3.4), so a stream may wrap.
type stream struct {
	maxKeep int // bytes of data kept; more are counted but not kept

	started bool   // next is meaningful
	synSeen bool   // the SYN was seen; isn is meaningful
	isn     uint32 // sequence number of the SYN
	next    uint32 // sequence number of the next in-order byte

	data      []byte // in-order payload from the first byte seen, up to maxKeep
	delivered int    // in-order payload bytes, including those beyond maxKeep

	pending      []pendingSegment // segments beyond a gap, each a private copy
	pendingBytes int
}

type pendingSegment struct {
	seq  uint32
	data []byte
}

// before reports whether sequence number a precedes b.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// add feeds one segment. payload is copied, never retained.
func (s *stream) add(seq uint32, syn bool, payload []byte) {
	if syn {
		if !s.started {
			s.started, s.synSeen, s.isn, s.next = true, true, seq, seq+1
		}
		seq++ // the SYN occupies one sequence number; data follows it
	}
	if len(payload) == 0 {
		return
	}
	if !s.started {
		// The tap came up mid-stream: start at the first byte seen.
		s.started, s.next = true, seq
	}
	if before(seq, s.next) {
		dup := int(s.next - seq)
		if dup >= len(payload) {
			return // a retransmission of bytes already delivered
		}
		seq, payload = s.next, payload[dup:]
	}
	if seq != s.next {
		if s.pendingBytes+len(payload) > s.maxKeep {
			return // a gap that never fills; drop rather than grow without bound
		}
		s.pending = append(s.pending, pendingSegment{seq: seq, data: bytes.Clone(payload)})
		s.pendingBytes += len(payload)
		return
	}
	s.deliver(payload)
	s.drain()
}

// deliver appends in-order bytes.
func (s *stream) deliver(p []byte) {
	s.next += uint32(len(p))
	s.delivered += len(p)
	if room := s.maxKeep - len(s.data); room > 0 {
		s.data = append(s.data, p[:min(room, len(p))]...)
	}
}

// drain delivers pending segments that the gap-filling delivery reached.
func (s *stream) drain() {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(s.pending); i++ {
			seg := s.pending[i]
			if before(s.next, seg.seq) {
				continue
			}
			s.pending = slices.Delete(s.pending, i, i+1)
			s.pendingBytes -= len(seg.data)
			i--
			if skip := int(s.next - seg.seq); skip < len(seg.data) {
				s.deliver(seg.data[skip:])
				progress = true
			}
		}
	}
}

// runs returns the captured bytes as contiguous runs: the in-order data, then
// the pending segments merged where they touch or overlap. The result aliases
// the stream; it is valid until the next add.
func (s *stream) runs() [][]byte {
	out := [][]byte{s.data}
	if len(s.pending) == 0 {
		return out
	}
	segs := slices.Clone(s.pending)
	slices.SortFunc(segs, func(a, b pendingSegment) int { return cmp.Compare(int32(a.seq-s.next), int32(b.seq-s.next)) })
	cur, end := slices.Clone(segs[0].data), segs[0].seq+uint32(len(segs[0].data))
	for _, seg := range segs[1:] {
		segEnd := seg.seq + uint32(len(seg.data))
		switch {
		case before(end, seg.seq): // a further gap
			out = append(out, cur)
			cur, end = slices.Clone(seg.data), segEnd
		case before(end, segEnd): // overlaps and extends
			cur = append(cur, seg.data[end-seg.seq:]...)
			end = segEnd
		}
	}
	return append(out, cur)
}

// capturedBytes counts each sequence number once: delivered bytes plus the
// distinct bytes waiting behind gaps.
func (s *stream) capturedBytes() int {
	n := s.delivered
	for _, r := range s.runs()[1:] {
		n += len(r)
	}
	return n
}

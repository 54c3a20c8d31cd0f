package tcpstream

import (
	"bytes"
	"cmp"
	"slices"
)

// Stream reassembles one direction of a TCP connection. The zero value
// keeps nothing and holds nothing: Add then only hands back the bytes each
// in-order segment brings, and a segment beyond a gap is dropped.
type Stream struct {
	keep int // bound on kept in-order bytes
	hold int // bound on bytes held behind gaps

	started bool   // next is meaningful
	synSeen bool   // the SYN was seen; isn is meaningful
	isn     uint32 // sequence number of the SYN
	next    uint32 // sequence number of the next in-order byte

	data      []byte // in-order payload from the first byte seen, up to keep
	delivered int    // in-order payload bytes, including those beyond keep

	held      []heldSegment // segments beyond a gap, each a private copy
	heldBytes int
}

type heldSegment struct {
	seq  uint32
	data []byte
}

// NewStream returns a stream that keeps up to keep bytes of in-order
// payload and holds up to keep bytes behind gaps.
func NewStream(keep int) *Stream { return &Stream{keep: keep, hold: keep} }

// NewHoldingStream returns a stream that keeps no in-order payload (Add
// hands each byte back once, as it comes in order) but holds up to hold
// bytes behind gaps, so a lost segment's retransmission fills its gap.
func NewHoldingStream(hold int) *Stream { return &Stream{hold: hold} }

// before reports whether sequence number a precedes b.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// Add feeds one segment: its sequence number, whether it carries the SYN
// (which occupies one sequence number before the data), and its payload.
// The first segment seen starts the stream: at the SYN's next byte, or,
// without a SYN, at the segment's first byte (a tap that came up
// mid-stream).
//
// fresh is the payload that became in order, gap-filling held bytes
// included; it aliases payload when no held bytes joined it, so it is
// valid only as long as payload is. gap reports that the segment began
// beyond the next expected byte: it is held, or dropped when holding it
// would pass the bound.
func (s *Stream) Add(seq uint32, syn bool, payload []byte) (fresh []byte, gap bool) {
	if syn {
		if !s.started {
			s.started, s.synSeen, s.isn, s.next = true, true, seq, seq+1
		}
		seq++
	}
	if len(payload) == 0 {
		return nil, false
	}
	if !s.started {
		s.started, s.next = true, seq
	}
	if before(seq, s.next) {
		dup := int(s.next - seq)
		if dup >= len(payload) {
			return nil, false // a retransmission of bytes already delivered
		}
		seq, payload = s.next, payload[dup:]
	}
	if seq != s.next {
		if s.heldBytes+len(payload) <= s.hold {
			s.held = append(s.held, heldSegment{seq: seq, data: bytes.Clone(payload)})
			s.heldBytes += len(payload)
		}
		return nil, true
	}
	s.deliver(payload)
	return s.drain(payload), false
}

// deliver takes in-order bytes.
func (s *Stream) deliver(p []byte) {
	s.next += uint32(len(p))
	s.delivered += len(p)
	if room := s.keep - len(s.data); room > 0 {
		s.data = append(s.data, p[:min(room, len(p))]...)
	}
}

// drain delivers the held segments that in-order delivery reached and
// returns fresh with their new bytes appended.
func (s *Stream) drain(fresh []byte) []byte {
	for progress := len(s.held) > 0; progress; {
		progress = false
		for i := 0; i < len(s.held); i++ {
			seg := s.held[i]
			if before(s.next, seg.seq) {
				continue
			}
			s.held = slices.Delete(s.held, i, i+1)
			s.heldBytes -= len(seg.data)
			i--
			if skip := int(s.next - seg.seq); skip < len(seg.data) {
				p := seg.data[skip:]
				s.deliver(p)
				fresh = append(fresh[:len(fresh):len(fresh)], p...)
				progress = true
			}
		}
	}
	return fresh
}

// Started reports whether a segment started the stream.
func (s *Stream) Started() bool { return s.started }

// ISN returns the sequence number of the SYN that started the stream, and
// whether there was one.
func (s *Stream) ISN() (uint32, bool) { return s.isn, s.synSeen }

// Next returns the sequence number of the next in-order byte.
func (s *Stream) Next() uint32 { return s.next }

// Data returns the in-order payload kept, from the first byte seen, at
// most the bound. It aliases the stream until the next Add.
func (s *Stream) Data() []byte { return s.data }

// Delivered counts the in-order payload bytes, kept or not.
func (s *Stream) Delivered() int { return s.delivered }

// Holding reports whether bytes wait behind a gap.
func (s *Stream) Holding() bool { return len(s.held) > 0 }

// Runs returns the captured bytes as contiguous runs: Data, then the held
// segments merged where they touch or overlap, in sequence order. The
// result aliases the stream until the next Add.
func (s *Stream) Runs() [][]byte {
	out := [][]byte{s.data}
	if len(s.held) == 0 {
		return out
	}
	segs := slices.Clone(s.held)
	slices.SortFunc(segs, func(a, b heldSegment) int { return cmp.Compare(int32(a.seq-s.next), int32(b.seq-s.next)) })
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

// CapturedBytes counts each sequence number once: the delivered bytes plus
// the distinct bytes held behind gaps.
func (s *Stream) CapturedBytes() int {
	n := s.delivered
	for _, r := range s.Runs()[1:] {
		n += len(r)
	}
	return n
}

package tcpstream

import (
	"strings"
	"testing"
)

type segment struct {
	seq     uint32
	syn     bool
	payload string
}

func TestStreamReassembly(t *testing.T) {
	const isn = 1000
	d := func(off int, p string) segment { return segment{seq: isn + 1 + uint32(off), payload: p} }
	tests := []struct {
		name     string
		keep     int
		segs     []segment
		data     string
		runs     []string // held runs after Data
		captured int
	}{
		{name: "in order", keep: 64, segs: []segment{{seq: isn, syn: true}, d(0, "hello "), d(6, "world")}, data: "hello world", captured: 11},
		{name: "retransmission", keep: 64, segs: []segment{{seq: isn, syn: true}, d(0, "hello "), d(0, "hello "), d(6, "world")}, data: "hello world", captured: 11},
		{name: "overlap keeps the first copy", keep: 64, segs: []segment{{seq: isn, syn: true}, d(0, "hello "), d(3, "LO world")}, data: "hello world", captured: 11},
		{name: "out of order", keep: 64, segs: []segment{{seq: isn, syn: true}, d(6, "world"), d(0, "hello ")}, data: "hello world", captured: 11},
		{name: "gap stays held", keep: 64, segs: []segment{{seq: isn, syn: true}, d(0, "ab"), d(4, "ef"), d(5, "fg"), d(9, "j")}, data: "ab", runs: []string{"efg", "j"}, captured: 6},
		{name: "mid-stream start", keep: 64, segs: []segment{d(10, "late"), d(14, " join")}, data: "late join", captured: 9},
		{name: "wraps", keep: 64, segs: []segment{{seq: 0xfffffffd, syn: true}, {seq: 0xfffffffe, payload: "ab"}, {seq: 0, payload: "cd"}}, data: "abcd", captured: 4},
		{name: "keep bounds data, not counting", keep: 4, segs: []segment{{seq: isn, syn: true}, d(0, "abcdef")}, data: "abcd", captured: 6},
		{name: "keep bounds held bytes", keep: 4, segs: []segment{{seq: isn, syn: true}, d(2, "cdef"), d(6, "g")}, data: "", runs: []string{"cdef"}, captured: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(tt.keep)
			for _, g := range tt.segs {
				s.Add(g.seq, g.syn, []byte(g.payload))
			}
			if got := string(s.Data()); got != tt.data {
				t.Errorf("Data = %q, want %q", got, tt.data)
			}
			var runs []string
			for _, r := range s.Runs()[1:] {
				runs = append(runs, string(r))
			}
			if strings.Join(runs, "|") != strings.Join(tt.runs, "|") {
				t.Errorf("held runs = %q, want %q", runs, tt.runs)
			}
			if s.Holding() != (len(tt.runs) > 0) {
				t.Errorf("Holding = %v", s.Holding())
			}
			if got := s.CapturedBytes(); got != tt.captured {
				t.Errorf("CapturedBytes = %d, want %d", got, tt.captured)
			}
		})
	}
}

func TestStreamFreshBytes(t *testing.T) {
	s := NewStream(64)
	s.Add(99, true, nil)
	if isn, ok := s.ISN(); !ok || isn != 99 || s.Next() != 100 || !s.Started() {
		t.Fatalf("after SYN: ISN %d %v, Next %d", isn, ok, s.Next())
	}
	if fresh, gap := s.Add(105, false, []byte("fgh")); fresh != nil || !gap {
		t.Errorf("beyond a gap: fresh %q gap %v", fresh, gap)
	}
	payload := []byte("abcdef")
	fresh, gap := s.Add(100, false, payload)
	if string(fresh) != "abcdefgh" || gap {
		t.Errorf("gap filled: fresh %q gap %v", fresh, gap)
	}
	if string(payload) != "abcdef" {
		t.Errorf("Add wrote into the caller's payload: %q", payload)
	}
	if fresh, gap := s.Add(100, false, []byte("abc")); fresh != nil || gap {
		t.Errorf("retransmission: fresh %q gap %v", fresh, gap)
	}
	if s.Delivered() != 8 {
		t.Errorf("Delivered = %d", s.Delivered())
	}
}

func TestZeroStreamHoldsNothing(t *testing.T) {
	var s Stream
	s.Add(0, true, nil)
	if _, gap := s.Add(5, false, []byte("x")); !gap {
		t.Error("a segment beyond a gap is not reported")
	}
	fresh, _ := s.Add(1, false, []byte("abcd"))
	if string(fresh) != "abcd" || len(s.Data()) != 0 || s.Holding() {
		t.Errorf("fresh %q, Data %q, Holding %v", fresh, s.Data(), s.Holding())
	}
}

package eavesdrop_test

import (
	"slices"
	"testing"

	"github.com/tlslab/tlslab/actors/eavesdrop"
)

// reportCheck inspects a Report; checks compose with all.
type reportCheck func(t *testing.T, r eavesdrop.Report)

func all(checks ...reportCheck) reportCheck {
	return func(t *testing.T, r eavesdrop.Report) {
		t.Helper()
		for _, c := range checks {
			c(t, r)
		}
	}
}

func found(want ...string) reportCheck {
	return func(t *testing.T, r eavesdrop.Report) {
		t.Helper()
		if !slices.Equal(r.Found, want) {
			t.Errorf("Found = %q, want %q", r.Found, want)
		}
	}
}

func payloadBytes(want int) reportCheck {
	return func(t *testing.T, r eavesdrop.Report) {
		t.Helper()
		if r.PayloadBytes != want {
			t.Errorf("PayloadBytes = %d, want %d", r.PayloadBytes, want)
		}
	}
}

func streams(want int) reportCheck {
	return func(t *testing.T, r eavesdrop.Report) {
		t.Helper()
		if r.Streams != want {
			t.Errorf("Streams = %d, want %d", r.Streams, want)
		}
	}
}

func counts(frames, segments, malformed int) reportCheck {
	return func(t *testing.T, r eavesdrop.Report) {
		t.Helper()
		if r.Frames != frames || r.Segments != segments || r.Malformed != malformed {
			t.Errorf("Frames, Segments, Malformed = %d, %d, %d; want %d, %d, %d", r.Frames, r.Segments, r.Malformed, frames, segments, malformed)
		}
	}
}

// data returns a client->server data segment at offset off from a stream
// whose SYN had sequence number isn.
func data(isn uint32, off int, payload string) seg {
	return seg{src: alice, dst: pool, seq: isn + 1 + uint32(off), payload: []byte(payload)}
}

func syn(isn uint32) seg { return seg{src: alice, dst: pool, seq: isn, syn: true} }

func TestReassembly(t *testing.T) {
	const isn = 5000
	const wrapISN = 0xFFFFFFF0 // the canary's bytes straddle sequence number 0
	tests := []struct {
		name  string
		segs  []seg
		check reportCheck
	}{
		{"canary straddles two segments",
			[]seg{syn(isn), data(isn, 0, "MSG cana"), data(isn, 8, "ry-7f3a9c\n")},
			all(found(canary), payloadBytes(18), streams(1))},
		{"out of order",
			[]seg{syn(isn), data(isn, 8, "ry-7f3a9c\n"), data(isn, 0, "MSG cana")},
			all(found(canary), payloadBytes(18))},
		{"three segments reversed",
			[]seg{syn(isn), data(isn, 9, "3a9c"), data(isn, 5, "y-7f"), data(isn, 5, "y-7f"), data(isn, 0, "canar")},
			all(found(canary), payloadBytes(13))},
		{"duplicate counted once",
			[]seg{syn(isn), data(isn, 0, "MSG cana"), data(isn, 0, "MSG cana"), data(isn, 8, "ry-7f3a9c\n"), data(isn, 8, "ry-7f3a9c\n")},
			all(found(canary), payloadBytes(18))},
		{"overlap contributes only new bytes",
			[]seg{syn(isn), data(isn, 0, "MSG canar"), data(isn, 6, "nary-7f3a9c\n")},
			all(found(canary), payloadBytes(18))},
		{"first copy of a byte wins",
			[]seg{syn(isn), data(isn, 0, "canary-7f3a"), data(isn, 0, "XXXXXXXXXXX"), data(isn, 11, "9c")},
			all(found(canary), payloadBytes(13))},
		{"split canary behind a gap",
			[]seg{syn(isn), data(isn, 0, "MSG "), data(isn, 100, "cana"), data(isn, 104, "ry-7f3a9c")},
			all(found(canary), payloadBytes(4+13))},
		{"gap keeps the halves apart",
			[]seg{syn(isn), data(isn, 0, "MSG cana"), data(isn, 9, "y-7f3a9c\n")},
			all(found(), payloadBytes(17))},
		{"tap attached mid-stream",
			[]seg{data(isn, 300, "MSG cana"), data(isn, 308, "ry-7f3a9c\n"), data(isn, 200, "old bytes")},
			all(found(canary), payloadBytes(18), streams(1))},
		{"sequence numbers wrap",
			[]seg{syn(wrapISN), data(wrapISN, 0, "0123456789abcd"), data(wrapISN, 14, canary)},
			all(found(canary), payloadBytes(14+len(canary)))},
		{"canary split across directions is not found",
			[]seg{syn(isn), data(isn, 0, "canary-"), {src: pool, dst: alice, seq: 77, payload: []byte("7f3a9c")}},
			all(found(), payloadBytes(13), streams(2))},
		{"empty canary is never found",
			[]seg{syn(isn), data(isn, 0, "x")},
			all(func(t *testing.T, r eavesdrop.Report) {
				if slices.Contains(r.Found, "") {
					t.Error(`Found holds ""`)
				}
			})},
		{"port reuse with a new ISN is a new connection",
			[]seg{syn(isn), data(isn, 0, "first"), syn(isn + 100000), data(isn+100000, 0, "second"), syn(isn + 100000)},
			all(payloadBytes(11), streams(2), counts(5, 5, 0))},
		{"Ethernet padding is not payload",
			[]seg{syn(isn), data(isn, 0, "hi")},
			all(payloadBytes(2), counts(2, 2, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := eavesdrop.New(eavesdrop.Config{})
			for _, f := range frames(t, tt.segs) {
				e.ObserveFrame(epoch, f)
			}
			tt.check(t, e.Report([]string{canary, ""}))
		})
	}
}

func TestMaxStreamBytes(t *testing.T) {
	e := eavesdrop.New(eavesdrop.Config{MaxStreamBytes: 8})
	for _, f := range frames(t, []seg{syn(1), data(1, 0, "MSG "), data(1, 4, canary), data(1, 100, "0123456789")}) {
		e.ObserveFrame(epoch, f)
	}
	// The canary lies beyond the 8 bytes kept, and the segment behind the
	// gap would exceed the bound: both are dropped from the search, but the
	// in-order bytes still count.
	all(found(), payloadBytes(4+len(canary)))(t, e.Report([]string{canary}))
}

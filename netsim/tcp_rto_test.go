package netsim

import (
	"bytes"
	"testing"
	"time"
)

// TestRTOEstimator checks RFC 6298's arithmetic and Linux's bounds.
func TestRTOEstimator(t *testing.T) {
	var e rtoEstimator
	if got := e.timeout(0); got != initialRTO {
		t.Errorf("RTO before any sample %v, want %v", got, initialRTO)
	}
	e.sample(100 * time.Millisecond) // SRTT 100 ms, RTTVAR 50 ms
	if got := e.timeout(0); got != 300*time.Millisecond {
		t.Errorf("RTO after one 100 ms sample %v, want 300ms", got)
	}
	e.sample(100 * time.Millisecond) // RTTVAR 37.5 ms
	if got := e.timeout(0); got != 250*time.Millisecond {
		t.Errorf("RTO after two 100 ms samples %v, want 250ms", got)
	}
	if got, want := e.timeout(3), 2*time.Second; got != want {
		t.Errorf("RTO backed off 3 times %v, want %v", got, want)
	}
	if got := e.timeout(20); got != maxRTO {
		t.Errorf("RTO backed off 20 times %v, want the %v cap", got, maxRTO)
	}
	var lan rtoEstimator
	lan.sample(0)
	if got := lan.timeout(0); got != minRTO {
		t.Errorf("RTO on a zero-RTT link %v, want the %v floor", got, minRTO)
	}
}

// TestSendRing stores bytes across the ring's wrap and through growth, and
// reads back each byte by its sequence number.
func TestSendRing(t *testing.T) {
	var r sendRing
	data := payload(14, 3*minSendRing)
	una := uint32(0xffffff00) // sequence numbers wrap too
	seq := una
	for off := 0; off < minSendRing; off += 1000 {
		end := min(off+1000, minSendRing)
		r.store(una, seq, data[off:end])
		seq += uint32(end - off)
	}
	una += minSendRing / 2 // half acknowledged: the rest fits without growing
	r.store(una, seq, data[minSendRing:minSendRing*3/2])
	if len(r.buf) != minSendRing {
		t.Fatalf("ring grew to %d bytes holding %d", len(r.buf), minSendRing)
	}
	seq += minSendRing / 2
	r.store(una, seq, data[minSendRing*3/2:]) // grows, keeping una onwards
	got := make([]byte, 5*minSendRing/2)
	r.load(una, got)
	if !bytes.Equal(got, data[minSendRing/2:]) {
		t.Error("bytes read back differ from the bytes stored")
	}
}

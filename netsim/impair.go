package netsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReorderHold is how long a reordered frame is held back on a link with
// no Delay or Jitter: long enough for the frames sent right after it to
// overtake it, short next to TCP's 200 ms minimum retransmission timeout.
const ReorderHold = time.Millisecond

// Impairment says what happens to frames crossing one point of the network,
// in the spirit of Linux netem: a segment (Segment.SetImpairment), or a NIC,
// which applies it to the frames it sends and, separately, to those it
// receives (NIC.SetImpairment). The zero value changes nothing.
//
// A frame crossing several impaired points faces each in turn, on its
// path: the sending NIC, then the segment, then the receiving NIC. Delays
// add up; every drop, duplication and corruption is decided at each point
// independently. Every random choice comes from the World's seeded source,
// so the same seed and the same order of frames affect the same frames.
type Impairment struct {
	// Loss is the probability in [0, 1] that a frame is dropped, whatever
	// it carries (ARP, TCP and UDP alike).
	Loss float64
	// Delay is added to every frame's one-way trip.
	Delay time.Duration
	// Jitter adds a uniformly random delay in [0, Jitter) to each frame on
	// top of Delay, so frames may overtake each other.
	Jitter time.Duration
	// Reorder is the probability in [0, 1] that a frame leaves its place in
	// the link's order. With Delay or Jitter, it skips them and is
	// delivered ahead of the frames still delayed (netem's reorder);
	// without, it is held back ReorderHold, so the frames sent after it
	// overtake it.
	Reorder float64
	// Duplicate is the probability in [0, 1] that a frame is delivered
	// twice.
	Duplicate float64
	// Corrupt is the probability in [0, 1] that one bit of an IPv4 frame is
	// flipped, in its IPv4 header or payload, so that the IPv4 or TCP/UDP
	// checksum no longer matches and the receiver drops it, as a real
	// stack does. Captures further down the path show the corrupted frame.
	// Frames that are not IPv4 (ARP) carry no checksum and are not
	// corrupted.
	Corrupt float64
	// Rate is how many bytes per second the point carries, counting whole
	// Ethernet frames; frames wait their turn in a FIFO queue. Zero means
	// unlimited. A segment's rate is shared by all its traffic (a
	// bottleneck); a NIC has one rate per direction (a full-duplex link).
	Rate int64
	// QueueLimit is how many frames may wait for Rate (besides the one
	// being transmitted); frames arriving at a full queue are dropped (tail
	// drop). Zero means DefaultQueueLimit. It only matters with Rate.
	QueueLimit int
	// Partition drops every frame, as a cut link does.
	Partition bool
}

// DefaultQueueLimit is the rate queue's length when Impairment.QueueLimit is
// zero: netem's default limit.
const DefaultQueueLimit = 1000

// ImpairmentError reports an Impairment field with an invalid value.
type ImpairmentError struct {
	Field   string // the Impairment field, e.g. "Loss"
	Value   string // its value as written by %v
	Problem string // what is wrong, e.g. "must be in [0, 1]"
}

func (e *ImpairmentError) Error() string {
	return "netsim: impairment " + e.Field + " " + e.Value + ": " + e.Problem
}

// Validate reports the first invalid field: probabilities must be in
// [0, 1] and durations, Rate and QueueLimit must not be negative.
func (imp Impairment) Validate() error {
	probs := []struct {
		name string
		p    float64
	}{{"Loss", imp.Loss}, {"Reorder", imp.Reorder}, {"Duplicate", imp.Duplicate}, {"Corrupt", imp.Corrupt}}
	for _, f := range probs {
		if !(f.p >= 0 && f.p <= 1) { // also rejects NaN
			return &ImpairmentError{Field: f.name, Value: fmt.Sprint(f.p), Problem: "must be a probability in [0, 1]"}
		}
	}
	if imp.Delay < 0 {
		return &ImpairmentError{Field: "Delay", Value: imp.Delay.String(), Problem: "must not be negative"}
	}
	if imp.Jitter < 0 {
		return &ImpairmentError{Field: "Jitter", Value: imp.Jitter.String(), Problem: "must not be negative"}
	}
	if imp.Rate < 0 {
		return &ImpairmentError{Field: "Rate", Value: fmt.Sprint(imp.Rate), Problem: "must not be negative (0 is unlimited)"}
	}
	if imp.QueueLimit < 0 {
		return &ImpairmentError{Field: "QueueLimit", Value: fmt.Sprint(imp.QueueLimit), Problem: "must not be negative (0 is the default)"}
	}
	return nil
}

// IsZero reports whether imp changes nothing.
func (imp Impairment) IsZero() bool { return imp == Impairment{} }

// String returns imp in the syntax ParseImpairSpec accepts, e.g.
// "loss=2%,delay=2ms"; the zero Impairment is "none".
func (imp Impairment) String() string {
	var parts []string
	pct := func(key string, p float64) {
		switch {
		case p == 0:
		case p*100/100 == p && strconv.FormatFloat(p*100, 'g', -1, 64) == strconv.FormatFloat(p*100, 'g', 8, 64):
			parts = append(parts, key+"="+strconv.FormatFloat(p*100, 'g', -1, 64)+"%")
		default: // a fraction, which reads back exactly
			parts = append(parts, key+"="+strconv.FormatFloat(p, 'g', -1, 64))
		}
	}
	if imp.Partition {
		parts = append(parts, "partition")
	}
	pct("loss", imp.Loss)
	if imp.Delay != 0 {
		parts = append(parts, "delay="+imp.Delay.String())
	}
	if imp.Jitter != 0 {
		parts = append(parts, "jitter="+imp.Jitter.String())
	}
	pct("reorder", imp.Reorder)
	pct("duplicate", imp.Duplicate)
	pct("corrupt", imp.Corrupt)
	if imp.Rate != 0 {
		parts = append(parts, "rate="+strconv.FormatInt(imp.Rate, 10)+"B/s")
	}
	if imp.QueueLimit != 0 {
		parts = append(parts, "queue="+strconv.Itoa(imp.QueueLimit))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// ImpairStats counts what impairments did to frames at one point. Counts
// accumulate across SetImpairment calls.
type ImpairStats struct {
	Lost       uint64 // dropped by Loss or Partition
	QueueDrops uint64 // tail-dropped because the Rate queue was full
	Corrupted  uint64 // had a bit flipped
	Duplicated uint64 // delivered twice
	Reordered  uint64 // skipped the delay, overtaking delayed frames
}

func (s ImpairStats) add(o ImpairStats) ImpairStats {
	return ImpairStats{
		Lost:       s.Lost + o.Lost,
		QueueDrops: s.QueueDrops + o.QueueDrops,
		Corrupted:  s.Corrupted + o.Corrupted,
		Duplicated: s.Duplicated + o.Duplicated,
		Reordered:  s.Reordered + o.Reordered,
	}
}

package netsim

import "time"

// Frame is one Ethernet frame passing a hook point.
//
// Frames are immutable once transmitted: the same bytes may be delivered to
// several receivers and taps. A hook that rewrites a frame assigns a new
// slice to Data (see CloneFrame) instead of writing into the old one.
type Frame struct {
	// Data is the whole Ethernet frame, header to payload, without FCS.
	Data []byte
	// Ingress is the NIC the frame entered through; nil for frames injected
	// with Segment.Inject.
	Ingress *NIC
	// Delay, set by a segment hook, holds the frame back this much longer
	// before the segment delivers it, as a switch's queue would: the
	// segment's taps see it at once, its receivers later. Zero passes it
	// on without delay.
	Delay time.Duration
}

// HookAction is what a FrameHook decides for a frame.
type HookAction int

const (
	// Pass lets the frame (possibly rewritten) continue.
	Pass HookAction = iota
	// Drop discards the frame silently, as a lossy or hostile link would.
	Drop
)

// FrameHook lets an on-path actor observe, drop or rewrite frames: the
// attackers' entry point into a segment or a router. Hooks run synchronously
// on the sender's goroutine, in the order they were added, before taps and
// delivery; they must be quick and must not block. To inject frames, a hook
// calls Segment.Inject, which does not run hooks again.
type FrameHook interface {
	HandleFrame(f *Frame) HookAction
}

// HookFunc adapts a function to FrameHook.
type HookFunc func(f *Frame) HookAction

// HandleFrame calls h(f).
func (h HookFunc) HandleFrame(f *Frame) HookAction { return h(f) }

// CloneFrame returns a copy of data that a hook may modify and assign to
// Frame.Data.
func CloneFrame(data []byte) []byte { return append([]byte(nil), data...) }

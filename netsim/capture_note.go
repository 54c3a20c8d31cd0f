package netsim

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// maxFrameNotes bounds the notes a World keeps for frames: the oldest is
// forgotten when a new one would exceed it. Captures on segments read a
// frame's note while its sender is still sending it, so only a capture
// point that sees the frame much later (a receiving NIC behind a long
// queue) can miss the note of a frame sent more than this many notes ago.
const maxFrameNotes = 1 << 12

// maxPendingNotes bounds the notes waiting for a frame (World.NoteNext):
// the oldest is dropped when a new one would exceed it.
const maxPendingNotes = 64

// frameNotes are the notes attached to frames (World.NoteFrame), keyed by
// the frame's first byte and checked against a hash of its bytes, since a
// frame buffer may be recycled for another frame once delivered; and the
// notes waiting for the next frame that matches (World.NoteNext).
type frameNotes struct {
	active atomic.Int32 // notes of either kind, so captures skip the lock when none

	mu      sync.Mutex
	seed    maphash.Seed
	byFrame map[*byte]frameNote
	ring    []*byte // keys in the order noted, a ring once full
	next    int     // where the next key goes in a full ring
	pending []pendingNote
}

type frameNote struct {
	sum  uint64 // maphash of the frame's bytes when noted
	note string
}

type pendingNote struct {
	match func(frame []byte) bool
	note  string
}

// NoteFrame attaches note to frame, a frame about to be sent, and returns
// frame: every Capture of this World that writes these bytes writes note
// with them, as a pcapng packet comment (Wireshark's frame.comment). By
// convention a note starts with the name of the host that sent or altered
// the frame: "mallory: spoofed ARP reply 10.0.0.11 is-at ...".
//
// frame must be complete: the note follows this slice holding these bytes,
// so a frame an impairment corrupts or a hook replaces loses it, and a
// frame duplicated on the wire carries it twice. A later note for the same
// frame replaces the earlier one. An empty note, or an empty frame, is
// ignored. The World keeps the last 4096 notes. Safe for concurrent use.
func (w *World) NoteFrame(frame []byte, note string) []byte {
	if len(frame) == 0 || note == "" {
		return frame
	}
	n := &w.notes
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addLocked(frame, note)
	return frame
}

// NoteNext attaches note to the next frame a Capture of this World writes
// for which match returns true, and to that frame's copies at the other
// capture points: for frames the noting actor does not build itself, such
// as the segments its TCP connection sends (match then picks the first
// segment with payload from its address). match runs for every frame
// captured until one matches, on the frame path, under the World's note
// lock: it must be quick, must not keep or modify the frame, and must not
// call the World's note methods. The World keeps the last 64 notes not
// yet matched. Safe for concurrent use.
func (w *World) NoteNext(match func(frame []byte) bool, note string) {
	if match == nil || note == "" {
		return
	}
	n := &w.notes
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.pending) == maxPendingNotes {
		n.pending = slices.Delete(n.pending, 0, 1)
		n.active.Add(-1)
	}
	n.pending = append(n.pending, pendingNote{match: match, note: note})
	n.active.Add(1)
}

// addLocked keeps note for frame, forgetting the oldest note when full.
func (n *frameNotes) addLocked(frame []byte, note string) {
	if n.byFrame == nil {
		n.byFrame = make(map[*byte]frameNote)
		n.seed = maphash.MakeSeed()
	}
	key := unsafe.SliceData(frame)
	if _, ok := n.byFrame[key]; !ok {
		if len(n.ring) < maxFrameNotes {
			n.ring = append(n.ring, key)
			n.active.Add(1)
		} else {
			delete(n.byFrame, n.ring[n.next])
			n.ring[n.next] = key
			n.next = (n.next + 1) % maxFrameNotes
		}
	}
	n.byFrame[key] = frameNote{sum: maphash.Bytes(n.seed, frame), note: note}
}

// frameNote returns the note attached to frame, or "": its own, or the
// first waiting note whose match takes it (which becomes its own).
func (w *World) frameNote(frame []byte) string {
	n := &w.notes
	if n.active.Load() == 0 || len(frame) == 0 {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if fn, ok := n.byFrame[unsafe.SliceData(frame)]; ok && fn.sum == maphash.Bytes(n.seed, frame) {
		return fn.note
	}
	for i, p := range n.pending {
		if p.match(frame) {
			n.pending = slices.Delete(n.pending, i, i+1)
			n.active.Add(-1)
			n.addLocked(frame, p.note)
			return p.note
		}
	}
	return ""
}

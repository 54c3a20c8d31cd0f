package netsim

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// maxFrameNotes bounds the notes a World keeps: the oldest is forgotten
// when a new one would exceed it. Captures on segments read a frame's note
// while its sender is still sending it, so only a capture point that sees
// the frame much later (a receiving NIC behind a long queue) can miss the
// note of a frame sent more than this many notes ago.
const maxFrameNotes = 1 << 12

// frameNotes are the notes senders attached to frames (World.NoteFrame),
// keyed by the frame's first byte: a noted frame is one its sender built
// and handed over unshared, which nothing recycles or rewrites in place,
// so the key names that frame alone for as long as the note holds it.
type frameNotes struct {
	count atomic.Int32 // len(byFrame), so captures skip the lock when none

	mu      sync.Mutex
	byFrame map[*byte]string
	ring    []*byte // keys in the order noted, a ring once full
	next    int     // where the next key goes in a full ring
}

// NoteFrame attaches note to frame, a frame about to be sent, and returns
// frame: every Capture of this World that writes these bytes writes note
// with them, as a pcapng packet comment (Wireshark's frame.comment). By
// convention a note starts with the name of the host that sent or altered
// the frame: "mallory: spoofed ARP reply 10.0.0.11 is-at ...".
//
// frame must be a frame the caller built for this one send, handed to
// NIC.WriteFrame, NIC.Inject or Segment.Inject (or assigned to Frame.Data
// by a hook) and never reused: the note follows the slice, so a frame an
// impairment corrupts or a hook replaces loses it, and a frame duplicated
// on the wire carries it twice. An empty note, or an empty frame, is
// ignored. The World keeps the last 4096 notes. Safe for concurrent use.
func (w *World) NoteFrame(frame []byte, note string) []byte {
	if len(frame) == 0 || note == "" {
		return frame
	}
	key := unsafe.SliceData(frame)
	n := &w.notes
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byFrame == nil {
		n.byFrame = make(map[*byte]string)
	}
	if _, ok := n.byFrame[key]; !ok {
		if len(n.ring) < maxFrameNotes {
			n.ring = append(n.ring, key)
		} else { // forget the oldest
			delete(n.byFrame, n.ring[n.next])
			n.ring[n.next] = key
			n.next = (n.next + 1) % maxFrameNotes
		}
	}
	n.byFrame[key] = note
	n.count.Store(int32(len(n.byFrame)))
	return frame
}

// frameNote returns the note attached to frame, or "".
func (w *World) frameNote(frame []byte) string {
	n := &w.notes
	if n.count.Load() == 0 || len(frame) == 0 {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.byFrame[unsafe.SliceData(frame)]
}

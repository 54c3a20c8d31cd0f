package netsim

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture writes the frames seen at one or more capture points (segments or
// NICs) to a pcapng stream, each capture point as its own interface, with
// timestamps from the World's clock taken under the capture's lock, so the
// stream is in strict time order even when several capture points see
// frames at once. Attach capture points before traffic flows; Close
// detaches them and flushes. Safe for concurrent use.
//
// A frame its sender noted (World.NoteFrame) is written with the note as a
// packet comment, and so is a frame noted after it was captured, when the
// capture holds its frames (CaptureOptions.Hold, Capture.NoteLast).
// Secrets written with WriteSecrets (a TLS key log, see KeyLogWriter) go
// into the stream as Decryption Secrets Blocks ahead of the frames captured
// after them, so Wireshark decrypts the capture with no separate key log.
type Capture struct {
	mu      sync.Mutex
	out     *bufio.Writer
	w       *pcapgo.NgWriter // created with the first interface
	hold    bool
	held    []heldFrame    // frames not yet written (Hold)
	secrets []secretsBlock // secrets not yet written
	err     error
	frames  int
	bytes   int
	removes []func()
	closed  bool
	last    time.Time // the latest timestamp written
}

// CaptureOptions change how a Capture writes.
type CaptureOptions struct {
	// Hold keeps every frame in memory until Close instead of writing it
	// at once, so NoteLast can still annotate frames captured earlier (a
	// defense's refusal is known only after the frame that carried it).
	// Memory grows with the capture: for captures of one scenario, not
	// for long-running taps. Secrets are still written as they come, ahead
	// of the held frames.
	Hold bool
}

// heldFrame is a frame a holding capture has not written yet.
type heldFrame struct {
	ci       gopacket.CaptureInfo
	data     []byte
	comments []string
}

// NewCapture starts a pcapng stream on w, writing each frame as it is
// captured. w is not closed by Close.
func NewCapture(w io.Writer) (*Capture, error) { return NewCaptureWith(w, CaptureOptions{}) }

// NewCaptureWith starts a pcapng stream on w with opts. w is not closed
// by Close.
func NewCaptureWith(w io.Writer, opts CaptureOptions) (*Capture, error) {
	if w == nil {
		return nil, errors.New("netsim: capture needs a writer")
	}
	return &Capture{out: bufio.NewWriterSize(w, captureBufferSize), hold: opts.Hold}, nil
}

// captureBufferSize batches capture writes: pcapgo's own 4 KiB buffer would
// otherwise cost a system call every few frames.
const captureBufferSize = 1 << 20

// addInterfaceLocked adds a pcapng interface, writing the section header
// with the first one (pcapgo writes both together).
func (c *Capture) addInterfaceLocked(intf pcapgo.NgInterface) (int, error) {
	intf.LinkType = layers.LinkTypeEthernet
	intf.TimestampResolution = 9
	intf.OS = runtime.GOOS
	if c.w != nil {
		return c.w.AddInterface(intf)
	}
	ng, err := pcapgo.NewNgWriterInterface(c.out, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          runtime.GOOS,
		Application: "tlslab netsim",
	}})
	if err != nil {
		return 0, err
	}
	c.w = ng
	return 0, nil
}

// AttachSegment captures every frame the segment carries, as a mirror port
// would, on a new interface named after the segment.
func (c *Capture) AttachSegment(s *Segment) error {
	return c.attach(s.name, "segment "+s.name, s.world, func(t Tap) func() { return s.AddTap(t) })
}

// AttachNIC captures the frames a NIC sends and receives on a new
// interface named "host/ethN".
func (c *Capture) AttachNIC(n *NIC) error {
	return c.attach(n.name, "NIC "+n.name+" ("+n.Prefix().String()+")", n.host.world, func(t Tap) func() { return n.AddTap(t) })
}

func (c *Capture) attach(name, description string, world *World, install func(Tap) func()) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("netsim: capture is closed")
	}
	id, err := c.addInterfaceLocked(pcapgo.NgInterface{Name: name, Description: description})
	if err != nil {
		return err
	}
	c.removes = append(c.removes, install(TapFunc(func(_ time.Time, frame []byte) { c.write(id, world, frame) })))
	return nil
}

// write appends frame to interface id, stamped with the time of world's
// clock read under the lock (frames are written in the order of their
// timestamps; a clock that went backwards, which none does, would be held
// at the last stamp) and with the note world keeps for it, if any.
// Secrets written since the last frame go out first.
func (c *Capture) write(id int, world *World, frame []byte) {
	note := world.frameNote(frame)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.err != nil {
		return
	}
	ts := world.clock.Now()
	if ts.Before(c.last) {
		ts = c.last
	}
	c.last = ts
	c.flushSecretsLocked()
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame), InterfaceIndex: id}
	var comments []string
	if note != "" {
		comments = []string{note}
	}
	c.frames++
	c.bytes += len(frame)
	if c.hold {
		c.held = append(c.held, heldFrame{ci: ci, data: bytes.Clone(frame), comments: comments})
		return
	}
	c.writePacketLocked(ci, frame, comments)
}

// writePacketLocked writes one enhanced packet block, keeping the first
// error.
func (c *Capture) writePacketLocked(ci gopacket.CaptureInfo, frame []byte, comments []string) {
	if c.err != nil {
		return
	}
	if err := c.w.WritePacketWithOptions(ci, frame, pcapgo.NgPacketOptions{Comments: comments}); err != nil {
		c.err = err
	}
}

// NoteLast adds note as a packet comment to the latest frame the capture
// holds (CaptureOptions.Hold) for which match returns true, and reports
// whether there was one. match sees the frame's bytes and must not keep
// or modify them; it runs under the capture's lock and must not call the
// capture. A frame may carry several notes, in the order added. Without
// Hold, or after Close, NoteLast does nothing and returns false.
func (c *Capture) NoteLast(match func(frame []byte) bool, note string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || note == "" {
		return false
	}
	for i := len(c.held) - 1; i >= 0; i-- {
		if match(c.held[i].data) {
			c.held[i].comments = append(c.held[i].comments, note)
			return true
		}
	}
	return false
}

// Frames returns how many frames have been captured: written, or held to
// be written at Close.
func (c *Capture) Frames() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// Close detaches every capture point and flushes the stream. It returns the
// first write error, if any. Further calls do nothing.
func (c *Capture) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	removes := c.removes
	c.mu.Unlock()
	for _, remove := range removes {
		remove()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.w == nil { // nothing attached: still leave a valid, empty capture
		if _, err := c.addInterfaceLocked(pcapgo.NgInterface{Name: "none", Description: "no capture point was attached"}); err != nil {
			return err
		}
	}
	c.flushSecretsLocked()
	for _, f := range c.held {
		c.writePacketLocked(f.ci, f.data, f.comments)
	}
	c.held = nil
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = err
	}
	if err := c.out.Flush(); err != nil && c.err == nil {
		c.err = err
	}
	return c.err
}

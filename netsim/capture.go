package netsim

import (
	"bufio"
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
type Capture struct {
	mu      sync.Mutex
	out     *bufio.Writer
	w       *pcapgo.NgWriter // created with the first interface
	err     error
	frames  int
	bytes   int
	removes []func()
	closed  bool
	last    time.Time // the latest timestamp written
}

// NewCapture starts a pcapng stream on w. w is not closed by Close.
func NewCapture(w io.Writer) (*Capture, error) {
	if w == nil {
		return nil, errors.New("netsim: capture needs a writer")
	}
	return &Capture{out: bufio.NewWriterSize(w, captureBufferSize)}, nil
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
	return c.attach(s.name, "segment "+s.name, s.world.clock, func(t Tap) func() { return s.AddTap(t) })
}

// AttachNIC captures the frames a NIC sends and receives on a new
// interface named "host/ethN".
func (c *Capture) AttachNIC(n *NIC) error {
	return c.attach(n.name, "NIC "+n.name+" ("+n.prefix.String()+")", n.host.world.clock, func(t Tap) func() { return n.AddTap(t) })
}

func (c *Capture) attach(name, description string, clock Clock, install func(Tap) func()) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("netsim: capture is closed")
	}
	id, err := c.addInterfaceLocked(pcapgo.NgInterface{Name: name, Description: description})
	if err != nil {
		return err
	}
	c.removes = append(c.removes, install(TapFunc(func(_ time.Time, frame []byte) { c.write(id, clock, frame) })))
	return nil
}

// write appends frame to interface id, stamped with clock's time read
// under the lock: frames are written in the order of their timestamps. A
// clock that went backwards (none does) would be held at the last stamp.
func (c *Capture) write(id int, clock Clock, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.err != nil {
		return
	}
	ts := clock.Now()
	if ts.Before(c.last) {
		ts = c.last
	}
	c.last = ts
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame), InterfaceIndex: id}
	if err := c.w.WritePacket(ci, frame); err != nil {
		c.err = err
		return
	}
	c.frames++
	c.bytes += len(frame)
}

// Frames returns how many frames have been written.
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
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = err
	}
	if err := c.out.Flush(); err != nil && c.err == nil {
		c.err = err
	}
	return c.err
}

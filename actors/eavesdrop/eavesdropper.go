package eavesdrop

import (
	"sync"
	"time"

	"github.com/tlslab/tlslab/internal/tcpstream"
)

// DefaultMaxStreamBytes is Config.MaxStreamBytes when zero.
const DefaultMaxStreamBytes = 16 << 20

// Config declares an eavesdropper.
type Config struct {
	// MaxStreamBytes bounds the payload kept per stream direction for
	// Report; bytes beyond it are still counted in Report.PayloadBytes but
	// not searched or parsed. Zero means DefaultMaxStreamBytes.
	MaxStreamBytes int
}

// Eavesdropper is a passive tap that reassembles TCP streams. It implements
// netsim.Tap. All methods are safe for concurrent use.
type Eavesdropper struct {
	maxKeep  int
	decoders sync.Pool // of *decoder

	mu        sync.Mutex
	conns     map[tcpstream.Key]*conn // the current connection per 4-tuple
	order     []*conn                 // every connection, in order first seen
	frames    int
	segments  int
	malformed int
}

// New returns an eavesdropper that has seen nothing.
func New(cfg Config) *Eavesdropper {
	e := &Eavesdropper{maxKeep: cfg.MaxStreamBytes, conns: make(map[tcpstream.Key]*conn)}
	if e.maxKeep <= 0 {
		e.maxKeep = DefaultMaxStreamBytes
	}
	e.decoders.New = func() any { return newDecoder() }
	return e
}

// ObserveFrame records one Ethernet frame as seen on the wire at ts. It does
// not retain or modify frame: the payload it keeps is copied before it
// returns. Frames that are not IPv4 TCP are counted and otherwise ignored.
// ts is accepted for the Tap contract and not used yet.
func (e *Eavesdropper) ObserveFrame(ts time.Time, frame []byte) {
	d := e.decoders.Get().(*decoder)
	defer func() {
		d.reset()
		e.decoders.Put(d)
	}()
	var seg segment
	kind := d.decode(frame, &seg)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.frames++
	switch kind {
	case frameMalformed:
		e.malformed++
	case frameTCP:
		e.segments++
		e.observeSegment(&seg)
	}
}

// observeSegment routes a segment to its stream; e.mu must be held.
func (e *Eavesdropper) observeSegment(seg *segment) {
	key, dir := tcpstream.KeyOf(seg.src, seg.dst)
	c := e.conns[key]
	initialSYN := seg.syn && !seg.ack
	if c == nil || (initialSYN && c.isNewConnection(dir, seg.seq)) {
		c = &conn{key: key, synFrom: -1}
		e.conns[key] = c
		e.order = append(e.order, c)
	}
	if initialSYN && c.synFrom < 0 {
		c.synFrom = dir
	}
	s := c.dirs[dir]
	if s == nil {
		s = tcpstream.NewStream(e.maxKeep)
		c.dirs[dir] = s
	}
	c.frames++
	s.Add(seg.seq, seg.syn, seg.payload)
}

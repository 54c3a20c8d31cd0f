package netsim

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// SegmentConfig describes an Ethernet segment.
type SegmentConfig struct {
	// MTU is the largest IPv4 packet the segment carries, in bytes. Zero
	// means 1500; at most 65535. TCP's MSS is derived from it.
	MTU int
}

// Segment is a switched Ethernet segment (one broadcast domain). Like a
// learning switch it delivers unicast frames to the port where the
// destination MAC was last seen as a source, and floods broadcast frames and
// frames for unknown MACs to every other port.
type Segment struct {
	world *World
	name  string
	mtu   int

	mu    sync.RWMutex
	ports []*NIC
	table map[[6]byte]*NIC // learned MAC -> port
	arp   arpSwitch        // where broadcast ARP requests go

	// observers is an immutable snapshot of hooks and taps, swapped on change
	// so the frame path reads it without locking.
	observers atomic.Pointer[segmentObservers]
	obsMu     sync.Mutex

	imp impairPoint // impairs every frame crossing the segment
}

type segmentObservers struct {
	hooks []FrameHook
	taps  []Tap
}

// NewSegment adds a segment to the World. Names are for people (captures,
// timelines) and should be unique.
func (w *World) NewSegment(name string, cfg SegmentConfig) *Segment {
	mtu := cfg.MTU
	if mtu <= 0 {
		mtu = 1500
	}
	if mtu > 65535 {
		mtu = 65535
	}
	s := &Segment{world: w, name: name, mtu: mtu, table: make(map[[6]byte]*NIC)}
	s.observers.Store(&segmentObservers{})
	w.mu.Lock()
	if imp, ok := w.impair.segment(name); ok {
		s.imp.set(imp, false)
	}
	w.segments = append(w.segments, s)
	w.mu.Unlock()
	return s
}

// Name returns the segment's name.
func (s *Segment) Name() string { return s.name }

// MTU returns the segment's MTU.
func (s *Segment) MTU() int { return s.mtu }

// NICs returns the NICs attached to the segment.
func (s *Segment) NICs() []*NIC {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*NIC(nil), s.ports...)
}

// AddHook installs h on the segment; remove uninstalls it.
func (s *Segment) AddHook(h FrameHook) (remove func()) {
	e := &hookEntry{h}
	s.updateObservers(func(o *segmentObservers) { o.hooks = append(o.hooks, e) })
	return sync.OnceFunc(func() {
		s.updateObservers(func(o *segmentObservers) { o.hooks = removeItem(o.hooks, FrameHook(e)) })
	})
}

// AddTap installs a passive tap that sees every frame the segment carries,
// as a switch mirror port would; remove uninstalls it.
func (s *Segment) AddTap(t Tap) (remove func()) {
	e := &tapEntry{t}
	s.updateObservers(func(o *segmentObservers) { o.taps = append(o.taps, e) })
	return sync.OnceFunc(func() {
		s.updateObservers(func(o *segmentObservers) { o.taps = removeItem(o.taps, Tap(e)) })
	})
}

func (s *Segment) updateObservers(change func(o *segmentObservers)) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	old := s.observers.Load()
	o := &segmentObservers{
		hooks: append([]FrameHook(nil), old.hooks...),
		taps:  append([]Tap(nil), old.taps...),
	}
	change(o)
	s.observers.Store(o)
}

// hookEntry and tapEntry give each installation a pointer identity, so
// removal works for non-comparable hooks such as HookFunc.
type hookEntry struct{ FrameHook }
type tapEntry struct{ Tap }

func removeItem[T comparable](list []T, item T) []T {
	for i, v := range list {
		if v == item {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// Inject transmits a frame onto the segment as if a hidden port sent it:
// the segment's impairment applies, taps see it and the switch delivers it,
// but hooks do not run. The frame
// must be a well-formed Ethernet frame; it is not copied and must not be
// modified afterwards. Inject after World.Close is a no-op.
func (s *Segment) Inject(frame []byte) {
	var k kicker
	s.forward(&k, frame, nil, s.observers.Load().taps, 0, 0)
	k.kick()
}

func (s *Segment) attach(n *NIC) {
	s.mu.Lock()
	s.ports = append(s.ports, n)
	s.table[[6]byte(n.mac)] = n
	s.mu.Unlock()
	s.attachARP(n)
}

// transmit carries a frame sent by from across the segment; st says
// whether the sender handed over its only reference, and delay how long the
// frame has been delayed so far. Hooks see the frame first, then the
// segment's impairment acts (see forward).
//
// Receivers are queued into k, which the caller kicks once its batch of
// frames is on the wire.
func (s *Segment) transmit(k *kicker, frame []byte, from *NIC, st frameState, delay time.Duration) {
	obs := s.observers.Load()
	if len(obs.hooks) > 0 {
		st &^= frameOwned // a hook may have kept or replaced it
		f := Frame{Data: frame, Ingress: from}
		for _, h := range obs.hooks {
			if h.HandleFrame(&f) == Drop {
				return
			}
		}
		frame, delay = f.Data, delay+max(f.Delay, 0)
	}
	s.forward(k, frame, from, obs.taps, st, delay)
}

// forward puts a frame through the segment's impairment, then shows it to
// the taps (so a capture has what crossed the segment: corrupted frames as
// corrupted, duplicated ones twice, lost ones not at all) and switches it.
func (s *Segment) forward(k *kicker, frame []byte, from *NIC, taps []Tap, st frameState, delay time.Duration) {
	if len(frame) < ethHeaderLen || s.world.closed() {
		return
	}
	if im := s.imp.cur.Load(); im != nil {
		v := im.pass(&s.imp, s.world, frame, delay)
		if v.drop {
			return
		}
		frame, st, delay = v.frame, v.state(st), delay+v.delay
		if v.dup {
			s.switchFrame(k, frame, from, taps, st, delay)
		}
	}
	s.switchFrame(k, frame, from, taps, st, delay)
}

// switchFrame shows a frame to the taps and switches it to its port, or
// floods it. A flooded frame is shared, so it is never recycled.
func (s *Segment) switchFrame(k *kicker, frame []byte, from *NIC, taps []Tap, st frameState, delay time.Duration) {
	if len(taps) > 0 {
		now := s.world.clock.Now()
		for _, t := range taps {
			t.ObserveFrame(now, frame)
		}
	}
	dst := [6]byte(frame[0:6])
	src := [6]byte(frame[6:12])
	s.mu.RLock()
	out, known := s.table[dst]
	learned := from == nil || s.table[src] == from
	s.mu.RUnlock()
	if !learned && src[0]&1 == 0 {
		s.mu.Lock()
		s.table[src] = from
		s.mu.Unlock()
	}
	isARP := frame[12] == 0x08 && frame[13] == 0x06
	if known && dst[0]&1 == 0 {
		if out != from {
			if isARP {
				s.routeARP(frame, from, out)
			}
			out.deliver(k, frame, from, st, delay)
		}
		return
	}
	st &^= frameOwned
	if isARP {
		// Decoded once here rather than by every port: a broadcast
		// request goes only where it can matter.
		if ports, narrowed := s.routeARP(frame, from, nil); narrowed {
			for _, p := range ports {
				p.deliver(k, frame, from, st, delay)
			}
			return
		}
	}
	s.mu.RLock()
	ports := s.ports
	s.mu.RUnlock()
	for _, p := range ports {
		if p != from {
			p.deliver(k, frame, from, st, delay)
		}
	}
}

// Tap passively observes frames at a capture point (a segment or a NIC).
// ObserveFrame is called synchronously on the frame path, possibly from
// several goroutines at once; it must not retain or modify frame after it
// returns (copy what it keeps) and must not block.
type Tap interface {
	ObserveFrame(ts time.Time, frame []byte)
}

// TapFunc adapts a function to Tap.
type TapFunc func(ts time.Time, frame []byte)

// ObserveFrame calls f(ts, frame).
func (f TapFunc) ObserveFrame(ts time.Time, frame []byte) { f(ts, frame) }

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

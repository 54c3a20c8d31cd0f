package netsim

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NICConfig describes a network interface and its link to a segment.
type NICConfig struct {
	// Addr is the interface's IPv4 address and prefix, e.g. 10.0.0.5/24.
	Addr netip.Prefix
	// MAC is the hardware address. Nil assigns a unique locally
	// administered address.
	MAC net.HardwareAddr
	// Latency delays every frame crossing this link, in each direction. A
	// frame between two NICs is delayed by the sum of both links' latency.
	// It must not be negative.
	Latency time.Duration
	// Loss is the probability in [0, 1] that a UDP datagram crossing this
	// link, in either direction, is lost (so a datagram between two lossy
	// links faces both). Unlike Impairment.Loss it spares every other
	// frame, TCP included, as it always has.
	//
	// Latency and Loss are the NIC's initial impairment. NIC.SetImpairment
	// replaces it, and so does the host's impairment (Host.SetImpairment,
	// World.ImpairHost) when the NIC is added to a host that has one.
	Loss float64
	// Promiscuous makes the NIC accept frames for any destination MAC, so
	// its host sees traffic the switch floods to it (as a sniffer would).
	Promiscuous bool
	// Unaddressed starts the NIC without an IPv4 address, as a DHCP client's
	// interface starts: Addr must be left zero, the NIC's address reads as
	// 0.0.0.0, it has no connected route, and its host can still send and
	// receive UDP broadcasts (see udp_broadcast.go). NIC.SetAddr gives it an
	// address later.
	Unaddressed bool
}

// maxQueuedFrames bounds a NIC's receive queue; frames beyond it are
// dropped as a real NIC's full ring would drop them.
const maxQueuedFrames = 1 << 16

// NIC is a host's network interface on one segment. Frames delivered to it
// are queued and processed in order by one goroutine per NIC.
type NIC struct {
	host   *Host
	seg    *Segment
	index  int
	name   string
	mac    net.HardwareAddr
	prefix atomic.Pointer[netip.Prefix] // see Prefix and SetAddr
	cfg    NICConfig

	mu       sync.Mutex
	queue    []queuedFrame
	spare    []queuedFrame
	arrivals uint64 // frames queued so far; guarded by mu
	kick     chan struct{}
	lastKick atomic.Uint64 // id of the kicker that last took this NIC
	drops    atomic.Uint64
	taps     atomic.Pointer[[]Tap]
	tapsMu   sync.Mutex

	// tx and rx impair the frames the NIC sends and those it receives.
	tx, rx impairPoint
}

// frameState travels with a frame from its sender to its receivers.
type frameState uint8

// frameOwned: the sender handed over its only reference, so the one
// receiver may recycle the buffer.
const frameOwned frameState = 1

func (st frameState) owned() bool { return st&frameOwned != 0 }

type queuedFrame struct {
	data  []byte
	at    time.Time // delivery time; zero means now
	state frameState
	// pristine means the frame is exactly as a host's own stack encoded it
	// (no hook, injection or router touched it), so its checksums are
	// right by construction and the receiver need not verify them.
	pristine bool
	seq      uint64 // arrival order, to keep equal delivery times in order
}

// AddNIC attaches a new interface to seg and starts its receive loop. The
// prefix's network becomes a directly connected route.
func (h *Host) AddNIC(seg *Segment, cfg NICConfig) (*NIC, error) {
	if cfg.Unaddressed {
		if cfg.Addr.IsValid() {
			return nil, &ConfigError{What: "NIC address of host " + h.name, Problem: "an unaddressed NIC takes no address; leave Addr zero"}
		}
		cfg.Addr = unaddressed
	} else if !cfg.Addr.IsValid() || !cfg.Addr.Addr().Is4() {
		return nil, &ConfigError{What: "NIC address of host " + h.name, Problem: "needs an IPv4 address with prefix, e.g. 10.0.0.5/24"}
	}
	if seg.world != h.world {
		return nil, &ConfigError{What: "NIC of host " + h.name, Problem: "segment " + seg.name + " belongs to another world"}
	}
	if err := (Impairment{Delay: cfg.Latency, Loss: cfg.Loss}).Validate(); err != nil {
		return nil, &ConfigError{What: "NIC of host " + h.name, Problem: err.Error()}
	}
	mac := cfg.MAC
	if mac == nil {
		mac = h.world.newMAC()
	}
	h.mu.Lock()
	n := &NIC{
		host:  h,
		seg:   seg,
		index: len(h.nics),
		mac:   append(net.HardwareAddr(nil), mac...),
		cfg:   cfg,
		kick:  make(chan struct{}, 1),
	}
	n.prefix.Store(&cfg.Addr)
	n.name = h.name + "/eth" + itoa(n.index)
	if h.imp != nil {
		n.setImpairment(*h.imp, false)
	} else {
		n.setImpairment(Impairment{Delay: cfg.Latency, Loss: cfg.Loss}, true)
	}
	h.nics = append(h.nics, n)
	if !cfg.Unaddressed {
		h.routes.addConnected(cfg.Addr.Masked(), n)
	}
	h.mu.Unlock()
	seg.attach(n)
	h.world.goTracked(n.receiveLoop)
	return n, nil
}

// Name returns "host/ethN".
func (n *NIC) Name() string { return n.name }

// Host returns the NIC's host.
func (n *NIC) Host() *Host { return n.host }

// Segment returns the segment the NIC is attached to.
func (n *NIC) Segment() *Segment { return n.seg }

// MAC returns the NIC's hardware address.
func (n *NIC) MAC() net.HardwareAddr { return n.mac }

// Addr returns the NIC's IPv4 address, 0.0.0.0 while it has none.
func (n *NIC) Addr() netip.Addr { return n.Prefix().Addr() }

// Prefix returns the NIC's address with its prefix length, 0.0.0.0/32
// while it has none.
func (n *NIC) Prefix() netip.Prefix { return *n.prefix.Load() }

// Dropped returns how many frames the NIC discarded because its receive
// queue was full.
func (n *NIC) Dropped() uint64 { return n.drops.Load() }

// AddTap installs a passive tap that sees every frame this NIC sends and
// every frame delivered to it; remove uninstalls it.
func (n *NIC) AddTap(t Tap) (remove func()) {
	e := &tapEntry{t}
	n.updateTaps(func(taps []Tap) []Tap { return append(taps, e) })
	return sync.OnceFunc(func() {
		n.updateTaps(func(taps []Tap) []Tap { return removeItem(taps, Tap(e)) })
	})
}

func (n *NIC) updateTaps(change func([]Tap) []Tap) {
	n.tapsMu.Lock()
	defer n.tapsMu.Unlock()
	var old []Tap
	if p := n.taps.Load(); p != nil {
		old = *p
	}
	taps := change(append([]Tap(nil), old...))
	n.taps.Store(&taps)
	n.seg.watchARP(n, len(taps) > 0) // a tapped NIC sees every broadcast
}

func (n *NIC) observe(frame []byte) {
	if p := n.taps.Load(); p != nil && len(*p) > 0 {
		now := n.host.world.clock.Now()
		for _, t := range *p {
			t.ObserveFrame(now, frame)
		}
	}
}

// WriteFrame sends a raw Ethernet frame from this NIC onto its segment, as
// a packet socket would. Segment hooks run; the frame is not copied and must
// not be modified afterwards.
func (n *NIC) WriteFrame(frame []byte) {
	var k kicker
	n.send(&k, frame, 0)
	k.kick()
}

// transmit sends a frame built by this NIC's host onto the segment, handing
// over the only reference to it.
func (n *NIC) transmit(frame []byte) {
	var k kicker
	n.send(&k, frame, frameOwned)
	k.kick()
}

// transmitBatch sends frames in order, each in state st, and wakes each
// receiver once, after the last: a receiver that keeps up with its sender
// then wakes once per batch instead of once per frame.
func (n *NIC) transmitBatch(frames [][]byte, st frameState) {
	var k kicker
	for _, f := range frames {
		n.send(&k, f, st)
	}
	k.kick()
}

// send puts a frame on the wire: the NIC's send impairment, then the
// segment. A host that is down sends nothing.
func (n *NIC) send(k *kicker, frame []byte, st frameState) {
	if n.host.down.Load() {
		return
	}
	n.observe(frame) // a capture on the sender sees frames the link then loses
	im := n.tx.cur.Load()
	if im == nil {
		n.seg.transmit(k, frame, n, st, 0)
		return
	}
	v := im.pass(&n.tx, n.host.world, frame, 0)
	if v.drop {
		return
	}
	st = v.state(st)
	n.seg.transmit(k, v.frame, n, st, v.delay)
	if v.dup {
		n.seg.transmit(k, v.frame, n, st, v.delay)
	}
}

// deliver hands a frame that the segment switched to this NIC (or that its
// host sent itself) to the NIC's receive impairment and then its receive
// queue, adding the NIC to k, whose kick wakes the receive loop. st says
// whether the receiver may recycle the frame; from is nil for injected
// frames and frames a host sends itself. delay is how long the frame has
// been delayed on its way so far. A host that is down receives nothing.
func (n *NIC) deliver(k *kicker, frame []byte, from *NIC, st frameState, delay time.Duration) {
	if !n.cfg.Promiscuous && frame[0]&1 == 0 && [6]byte(frame[0:6]) != [6]byte(n.mac) {
		return
	}
	if n.host.down.Load() {
		return
	}
	if im := n.rx.cur.Load(); im != nil {
		v := im.pass(&n.rx, n.host.world, frame, delay)
		if v.drop {
			return
		}
		frame, st, delay = v.frame, v.state(st), delay+v.delay
		if v.dup {
			n.enqueue(k, frame, from, st, delay)
		}
	}
	n.enqueue(k, frame, from, st, delay)
}

// enqueue adds a frame to the receive queue, to be processed delay from now.
func (n *NIC) enqueue(k *kicker, frame []byte, from *NIC, st frameState, delay time.Duration) {
	var at time.Time
	if delay > 0 {
		at = n.host.world.clock.Now().Add(delay)
	}
	n.mu.Lock()
	if len(n.queue) >= maxQueuedFrames {
		n.mu.Unlock()
		n.drops.Add(1)
		return
	}
	pristine := st.owned() && (from == nil || !from.host.cfg.Forwarding)
	n.arrivals++
	n.queue = append(n.queue, queuedFrame{data: frame, at: at, state: st, pristine: pristine, seq: n.arrivals})
	n.mu.Unlock()
	k.add(n)
}

// kicker collects the NICs that frames were queued to, so a sender wakes
// each receive loop once per batch.
//
// A kicker with a few NICs finds duplicates by scanning its list; one
// that grows past kickerScan (a flood reaches every port) takes a unique
// id and marks each NIC with it, so a NIC already in the list is
// recognised in O(1). When two senders interleave on one NIC the mark may
// be overwritten and the NIC listed twice: that only costs a spare
// wake-up, and no NIC that received a frame is ever left out.
type kicker struct {
	id   uint64
	nics []*NIC
	one  [2]*NIC
}

// kickerIDs numbers kickers; ids are never reused, unlike the addresses of
// the kickers themselves.
var kickerIDs atomic.Uint64

// kickerScan is how many NICs a kicker checks for duplicates by scanning
// its list. A unicast frame wakes one NIC, a small flood a few: a scan
// touches no shared state. Past it (a broadcast on a big segment) the
// kicker takes an id and marks each NIC, so the check stays O(1).
const kickerScan = 4

func (k *kicker) add(n *NIC) {
	switch {
	case k.nics == nil:
		k.nics = k.one[:0]
	case k.id != 0:
		if n.lastKick.Load() == k.id {
			return
		}
		n.lastKick.Store(k.id)
	case slices.Contains(k.nics, n):
		return
	case len(k.nics) == kickerScan:
		k.id = kickerIDs.Add(1)
		for _, m := range k.nics {
			m.lastKick.Store(k.id)
		}
		n.lastKick.Store(k.id)
	}
	k.nics = append(k.nics, n)
}

func (k *kicker) kick() {
	for _, n := range k.nics {
		kick(n.kick)
	}
}

// shrinkQueueCap is the capacity above which an idle NIC drops its receive
// queue's arrays, so a NIC that once queued thousands of frames (a server
// in a connection storm) does not keep them for good. It is above the
// frames a bulk stream keeps in flight (a 1 MiB window is about 700), so
// streams do not reallocate.
const shrinkQueueCap = 1024

// receiveLoop processes delivered frames until the World closes. Frames
// without latency are processed in arrival order; delayed frames wait in a
// queue ordered by delivery time, so a frame over a fast link is not held
// up behind one still crossing a slow link, while frames from one link keep
// their order (their delay is constant).
func (n *NIC) receiveLoop() {
	clock := n.host.world.clock
	done := n.host.world.done
	rx := newReceiver(n)
	var delayed delayQueue
	wake := make(chan struct{}, 1)
	var timer Timer
	var timerAt time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	process := func(f queuedFrame) {
		n.observe(f.data)
		if !rx.input(f.data, f.state.owned(), f.pristine) && f.state.owned() {
			n.host.world.frames.put(f.data)
		}
	}
	for {
		if len(delayed) > 0 && (timer == nil || !delayed[0].at.Equal(timerAt)) {
			if timer != nil {
				timer.Stop()
			}
			timerAt = delayed[0].at
			timer = clock.AfterFunc(timerAt.Sub(clock.Now()), func() { kick(wake) })
		}
		select {
		case <-n.kick:
		case <-wake:
			timer = nil
		case <-done:
			return
		}
		for {
			// Double buffering: the loop owns spare; deliver appends to
			// queue. Every batch taken becomes the next spare, so the two
			// never share an array. When the loop is about to sleep it
			// lets go of arrays a burst left large.
			n.mu.Lock()
			batch := n.queue
			n.queue = n.spare[:0]
			if len(batch) == 0 && cap(n.queue) > shrinkQueueCap {
				n.queue = nil
			}
			n.mu.Unlock()
			n.spare = batch
			if len(batch) == 0 {
				if cap(batch) > shrinkQueueCap {
					n.spare = nil
				}
				break
			}
			for i := range batch {
				f := batch[i]
				batch[i] = queuedFrame{}
				if f.at.IsZero() {
					process(f)
				} else {
					delayed.push(f)
				}
			}
			rx.notifyReaders()
		}
		if len(delayed) > 0 {
			now := clock.Now()
			for len(delayed) > 0 && !delayed[0].at.After(now) {
				process(delayed.pop())
			}
			if len(delayed) == 0 && cap(delayed) > shrinkQueueCap {
				delayed = nil
			}
			rx.notifyReaders()
		}
	}
}

// delayQueue is a min-heap of frames by delivery time; ties keep arrival
// order.
type delayQueue []queuedFrame

func (q *delayQueue) push(f queuedFrame) {
	*q = append(*q, f)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *delayQueue) pop() queuedFrame {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = queuedFrame{}
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h.less(l, least) {
			least = l
		}
		if r < len(h) && h.less(r, least) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
}

func (q delayQueue) less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

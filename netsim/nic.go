package netsim

import (
	"net"
	"net/netip"
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
	Latency time.Duration
	// Loss is the probability in [0, 1] that a UDP datagram sent through
	// this link is lost. TCP streams are never dropped by impairments: the
	// stream model is lossless.
	Loss float64
	// Promiscuous makes the NIC accept frames for any destination MAC, so
	// its host sees traffic the switch floods to it (as a sniffer would).
	Promiscuous bool
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
	prefix netip.Prefix
	cfg    NICConfig

	mu     sync.Mutex
	queue  []queuedFrame
	spare  []queuedFrame
	kick   chan struct{}
	drops  atomic.Uint64
	taps   atomic.Pointer[[]Tap]
	tapsMu sync.Mutex
}

type queuedFrame struct {
	data  []byte
	at    time.Time // delivery time; zero means now
	owned bool      // the receiver is the frame's only user and may recycle it
	// pristine means the frame is exactly as a host's own stack encoded it
	// (no hook, injection or router touched it), so its checksums are
	// right by construction and the receiver need not verify them.
	pristine bool
}

// AddNIC attaches a new interface to seg and starts its receive loop. The
// prefix's network becomes a directly connected route.
func (h *Host) AddNIC(seg *Segment, cfg NICConfig) (*NIC, error) {
	if !cfg.Addr.IsValid() || !cfg.Addr.Addr().Is4() {
		return nil, &ConfigError{What: "NIC address of host " + h.name, Problem: "needs an IPv4 address with prefix, e.g. 10.0.0.5/24"}
	}
	if seg.world != h.world {
		return nil, &ConfigError{What: "NIC of host " + h.name, Problem: "segment " + seg.name + " belongs to another world"}
	}
	mac := cfg.MAC
	if mac == nil {
		mac = h.world.newMAC()
	}
	h.mu.Lock()
	n := &NIC{
		host:   h,
		seg:    seg,
		index:  len(h.nics),
		mac:    append(net.HardwareAddr(nil), mac...),
		prefix: cfg.Addr,
		cfg:    cfg,
		kick:   make(chan struct{}, 1),
	}
	n.name = h.name + "/eth" + itoa(n.index)
	h.nics = append(h.nics, n)
	h.routes.addConnected(cfg.Addr.Masked(), n)
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

// Addr returns the NIC's IPv4 address.
func (n *NIC) Addr() netip.Addr { return n.prefix.Addr() }

// Prefix returns the NIC's address with its prefix length.
func (n *NIC) Prefix() netip.Prefix { return n.prefix }

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
	n.send(frame, false)
}

// transmit sends a frame built by this NIC's host onto the segment, handing
// over the only reference to it.
func (n *NIC) transmit(frame []byte) {
	n.send(frame, true)
}

func (n *NIC) send(frame []byte, owned bool) {
	if n.cfg.Loss > 0 && isUDPFrame(frame) && n.host.world.randFloat() < n.cfg.Loss {
		return
	}
	n.observe(frame)
	n.seg.transmit(frame, n, owned)
}

// deliver queues a frame that the segment switched to this NIC. owned
// means no one else holds the frame, so the receiver may recycle it; from is
// nil for injected frames and frames a host sends itself.
func (n *NIC) deliver(frame []byte, from *NIC, owned bool) {
	if !n.cfg.Promiscuous && frame[0]&1 == 0 && [6]byte(frame[0:6]) != [6]byte(n.mac) {
		return
	}
	var at time.Time
	latency := n.cfg.Latency
	if from != nil {
		latency += from.cfg.Latency
	}
	if latency > 0 {
		at = n.host.world.clock.Now().Add(latency)
	}
	n.mu.Lock()
	if len(n.queue) >= maxQueuedFrames {
		n.mu.Unlock()
		n.drops.Add(1)
		return
	}
	pristine := owned && (from == nil || !from.host.cfg.Forwarding)
	n.queue = append(n.queue, queuedFrame{data: frame, at: at, owned: owned, pristine: pristine})
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// receiveLoop processes delivered frames in order until the World closes.
func (n *NIC) receiveLoop() {
	done := n.host.world.done
	rx := newReceiver(n)
	for {
		select {
		case <-n.kick:
		case <-done:
			return
		}
		for {
			// Double buffering: the loop owns spare; deliver appends to
			// queue. Every batch taken becomes the next spare, so the two
			// never share an array.
			n.mu.Lock()
			batch := n.queue
			n.queue = n.spare[:0]
			n.mu.Unlock()
			n.spare = batch
			if len(batch) == 0 {
				break
			}
			for i := range batch {
				f := batch[i]
				batch[i] = queuedFrame{}
				if !f.at.IsZero() && !n.sleepUntil(f.at) {
					return
				}
				n.observe(f.data)
				if !rx.input(f.data, f.owned, f.pristine) && f.owned {
					n.host.world.frames.put(f.data)
				}
			}
		}
	}
}

// sleepUntil waits on the World's clock until t; false means the World
// closed first.
func (n *NIC) sleepUntil(t time.Time) bool {
	clock := n.host.world.clock
	wait := t.Sub(clock.Now())
	if wait <= 0 {
		return true
	}
	wake := make(chan struct{})
	timer := clock.AfterFunc(wait, func() { close(wake) })
	select {
	case <-wake:
		return true
	case <-n.host.world.done:
		timer.Stop()
		return false
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

package netsim

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// HostConfig describes a host or router.
type HostConfig struct {
	// ARPPolicy decides which ARP messages may change the host's ARP cache.
	// The zero value is ARPAcceptAny, the permissive behaviour of classic
	// stacks.
	ARPPolicy ARPPolicy
	// Forwarding makes the host a router: IPv4 packets for addresses that
	// are not its own are routed out of the matching NIC.
	Forwarding bool
	// ReceiveBuffer is each TCP connection's receive buffer in bytes, which
	// bounds the window it advertises. Zero means 1 MiB.
	ReceiveBuffer int
	// ListenBacklog bounds each listener's connections that are half-open
	// or established but not yet accepted; SYNs beyond it are dropped, as
	// Linux drops them. Zero means DefaultListenBacklog.
	ListenBacklog int
}

const defaultReceiveBuffer = 1 << 20

// DefaultListenBacklog is the listen backlog of a host whose config sets
// none: current Linux's default (net.core.somaxconn).
const DefaultListenBacklog = 4096

// listenBacklog is the host's listen backlog.
func (h *Host) listenBacklog() int {
	if h.cfg.ListenBacklog > 0 {
		return h.cfg.ListenBacklog
	}
	return DefaultListenBacklog
}

// Host is a machine on the simulated network with one or more NICs, a
// routing table, an ARP cache and TCP/UDP endpoints. Its methods are safe
// for concurrent use.
type Host struct {
	world *World
	name  string
	cfg   HostConfig

	mu     sync.RWMutex
	nics   []*NIC
	routes routeTable

	arp arpCache
	tcp tcpTable
	udp udpTable

	ipID         atomic.Uint32
	forwardHooks atomic.Pointer[[]FrameHook]
	hooksMu      sync.Mutex

	imp    *Impairment // set by SetImpairment, for NICs added later; guarded by mu
	down   atomic.Bool // see Down
	downMu sync.Mutex  // serializes Down and Up

	impairAs []string // other names World.ImpairHost matches; guarded by World.mu
}

// NewHost adds a host to the World. Give it NICs with AddNIC.
func (w *World) NewHost(name string, cfg HostConfig) *Host {
	if cfg.ReceiveBuffer <= 0 {
		cfg.ReceiveBuffer = defaultReceiveBuffer
	}
	h := &Host{world: w, name: name, cfg: cfg}
	h.arp.init(h)
	h.tcp.init()
	h.udp.init()
	h.ipID.Store(w.randUint32())
	w.mu.Lock()
	if imp, ok := w.impair.hosts[name]; ok {
		h.imp = &imp
	}
	w.hosts = append(w.hosts, h)
	w.mu.Unlock()
	return h
}

// NewRouter adds a host with forwarding on.
func (w *World) NewRouter(name string, cfg HostConfig) *Host {
	cfg.Forwarding = true
	return w.NewHost(name, cfg)
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// World returns the World the host lives in.
func (h *Host) World() *World { return h.world }

// NICs returns the host's interfaces in the order they were added.
func (h *Host) NICs() []*NIC {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return append([]*NIC(nil), h.nics...)
}

// Addr returns the address of the host's first NIC, or the zero Addr when it
// has none.
func (h *Host) Addr() netip.Addr {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.nics) == 0 {
		return netip.Addr{}
	}
	return h.nics[0].Prefix().Addr()
}

// nicFor returns the NIC that owns addr, or nil.
func (h *Host) nicFor(addr netip.Addr) *NIC {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, n := range h.nics {
		if n.Prefix().Addr() == addr {
			return n
		}
	}
	return nil
}

// isLocal reports whether addr belongs to one of the host's NICs.
func (h *Host) isLocal(addr netip.Addr) bool { return h.nicFor(addr) != nil }

// path is where a packet leaves the host: its NIC and next hop.
type path struct {
	nic     *NIC
	nextHop netip.Addr
	local   bool // the destination is the host itself
}

// lookupPath routes dst. It fails with ENETUNREACH when no route matches.
func (h *Host) lookupPath(dst netip.Addr) (path, error) {
	if n := h.nicFor(dst); n != nil {
		return path{nic: n, nextHop: dst, local: true}, nil
	}
	h.mu.RLock()
	r, ok := h.routes.lookup(dst)
	h.mu.RUnlock()
	if !ok {
		return path{}, syscallError("connect", syscall.ENETUNREACH)
	}
	p := path{nic: r.nic, nextHop: dst}
	if r.via.IsValid() {
		p.nextHop = r.via
	}
	return p, nil
}

// header returns the link and IPv4 header fields for a packet to dst on p,
// and whether the destination MAC is already known.
func (h *Host) header(p path, src, dst netip.Addr) (ipv4Header, bool) {
	hdr := ipv4Header{srcMAC: p.nic.mac, src: src, dst: dst, id: uint16(h.ipID.Add(1))}
	if p.local {
		hdr.dstMAC = p.nic.mac
		return hdr, true
	}
	mac, ok := h.arp.lookup(p.nextHop)
	if !ok {
		hdr.dstMAC = zeroMAC // patched once ARP resolves
	} else {
		hdr.dstMAC = mac
	}
	return hdr, ok
}

// send transmits a frame built for p. When the next hop's MAC was unknown
// (resolved false) the frame waits for ARP resolution.
func (h *Host) send(p path, frame []byte, resolved bool) {
	switch {
	case p.local:
		var k kicker
		p.nic.deliver(&k, frame, nil, frameOwned, 0)
		k.kick()
	case resolved:
		p.nic.transmit(frame)
	default:
		h.arp.enqueue(p.nic, p.nextHop, frame)
	}
}

// sendBatch is send for frames that leave in order on one path.
func (h *Host) sendBatch(p path, frames [][]byte, resolved bool) {
	st := frameOwned
	switch {
	case p.local:
		var k kicker
		for _, f := range frames {
			p.nic.deliver(&k, f, nil, st, 0)
		}
		k.kick()
	case resolved:
		p.nic.transmitBatch(frames, st)
	default:
		for _, f := range frames {
			h.arp.enqueue(p.nic, p.nextHop, f)
		}
	}
}

// shutdown wakes everything blocked on the host once the World is closed.
func (h *Host) shutdown() {
	h.arp.shutdown()
	h.tcp.shutdown()
	h.udp.shutdown()
}

// AddForwardHook installs a hook that sees every frame this router is about
// to forward, as received (before the TTL is decremented and the Ethernet
// header rewritten). It can drop or rewrite the frame; remove uninstalls it.
// Hooks on a host without forwarding never run.
func (h *Host) AddForwardHook(hook FrameHook) (remove func()) {
	e := &hookEntry{hook}
	h.updateForwardHooks(func(hs []FrameHook) []FrameHook { return append(hs, e) })
	return sync.OnceFunc(func() {
		h.updateForwardHooks(func(hs []FrameHook) []FrameHook { return removeItem(hs, FrameHook(e)) })
	})
}

func (h *Host) updateForwardHooks(change func([]FrameHook) []FrameHook) {
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	var old []FrameHook
	if p := h.forwardHooks.Load(); p != nil {
		old = *p
	}
	hooks := change(append([]FrameHook(nil), old...))
	h.forwardHooks.Store(&hooks)
}

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

package attacker

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// Flow is traffic between two other hosts that reached the attacker's
// interface: proof of an on-path position. Src sent IPv4 packets for Dst to
// the attacker's MAC, so Src's ARP cache or routing table points at the
// attacker for the next hop towards Dst.
type Flow struct {
	Src, Dst netip.Addr
	// Frames and Bytes count what arrived (IPv4 packet lengths).
	Frames int
	Bytes  int
	// First and Last are when the first and the latest frame arrived, on
	// the World's clock.
	First, Last time.Time
}

// PositionMonitor watches one of the attacker's interfaces for frames that
// other hosts addressed to it on behalf of a third address: the
// observable result of ARP spoofing or of a rogue gateway. It sees only what
// arrives; whether the attacker then forwards it is up to the attacker's
// host (HostConfig.Forwarding). Safe for concurrent use.
type PositionMonitor struct {
	mac    net.HardwareAddr
	own    map[netip.Addr]bool
	remove func()

	mu    sync.Mutex
	flows map[[2]netip.Addr]*Flow
	order [][2]netip.Addr
}

// NewPositionMonitor starts watching nic (a tap on it) until Close.
func NewPositionMonitor(nic *netsim.NIC) *PositionMonitor {
	m := &PositionMonitor{mac: nic.MAC(), own: map[netip.Addr]bool{}, flows: map[[2]netip.Addr]*Flow{}}
	for _, n := range nic.Host().NICs() {
		m.own[n.Addr()] = true
	}
	m.remove = nic.AddTap(m)
	return m
}

// ObserveFrame implements netsim.Tap.
func (m *PositionMonitor) ObserveFrame(ts time.Time, frame []byte) {
	p := decode(frame)
	if p == nil {
		return
	}
	defer p.put()
	if !p.isIPv4() || !sameMAC(p.eth.DstMAC, m.mac) || sameMAC(p.eth.SrcMAC, m.mac) {
		return
	}
	src, dst := p.src(), p.dst()
	if m.own[dst] || m.own[src] {
		return
	}
	key := [2]netip.Addr{src, dst}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.flows[key]
	if f == nil {
		f = &Flow{Src: src, Dst: dst, First: ts}
		m.flows[key] = f
		m.order = append(m.order, key)
	}
	f.Frames++
	f.Bytes += int(p.ip.Length)
	f.Last = ts
}

// Flows returns the flows seen so far, in the order first seen.
func (m *PositionMonitor) Flows() []Flow {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Flow, 0, len(m.order))
	for _, k := range m.order {
		out = append(out, *m.flows[k])
	}
	return out
}

// Flow returns the flow from src to dst and whether any frame of it
// arrived.
func (m *PositionMonitor) Flow(src, dst netip.Addr) (Flow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.flows[[2]netip.Addr{src, dst}]
	if !ok {
		return Flow{Src: src, Dst: dst}, false
	}
	return *f, true
}

// Close stops watching; the flows seen stay readable. Idempotent.
func (m *PositionMonitor) Close() { m.remove() }

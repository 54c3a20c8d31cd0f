package dhcp

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Lease is an address a server granted to a client until Expires (World
// clock).
type Lease struct {
	Addr    netip.Addr
	MAC     net.HardwareAddr
	Expires time.Time
}

// pool is a server's address range and the bindings in it: addresses
// offered (held until the REQUEST is due) and leased. A binding whose time
// has passed is free again: leases expire on the World clock without a
// timer, when the pool is next consulted.
type pool struct {
	first, last netip.Addr

	mu       sync.Mutex
	bindings map[netip.Addr]*binding
}

type binding struct {
	mac     string // net.HardwareAddr as a string, for comparison
	until   time.Time
	granted bool // an ACKed lease, not just an offer
}

func newPool(first, last netip.Addr) *pool {
	return &pool{first: first, last: last, bindings: make(map[netip.Addr]*binding)}
}

func (p *pool) contains(a netip.Addr) bool {
	return a.IsValid() && !a.Less(p.first) && !p.last.Less(a)
}

// live returns a's binding if it has not run out at now.
func (p *pool) live(a netip.Addr, now time.Time) *binding {
	b := p.bindings[a]
	if b == nil || !now.Before(b.until) {
		return nil
	}
	return b
}

// offer picks the address for mac: the one bound to it already, else the
// lowest free one, and holds it for mac until hold. It reports false when
// the pool is exhausted.
func (p *pool) offer(mac net.HardwareAddr, now, hold time.Time) (netip.Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var free netip.Addr
	for a := p.first; p.contains(a); a = a.Next() {
		b := p.live(a, now)
		if b != nil && b.mac == string(mac) {
			if !b.granted {
				b.until = hold
			}
			return a, true
		}
		if b == nil && !free.IsValid() {
			free = a
		}
	}
	if !free.IsValid() {
		return netip.Addr{}, false
	}
	p.bindings[free] = &binding{mac: string(mac), until: hold}
	return free, true
}

// grant leases a to mac until expires, if a is in the pool and not bound
// to another client at now.
func (p *pool) grant(mac net.HardwareAddr, a netip.Addr, now, expires time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.contains(a) {
		return false
	}
	if b := p.live(a, now); b != nil && b.mac != string(mac) {
		return false
	}
	// A client holds one address: drop any other binding it has.
	for other, b := range p.bindings {
		if other != a && b.mac == string(mac) {
			delete(p.bindings, other)
		}
	}
	p.bindings[a] = &binding{mac: string(mac), until: expires, granted: true}
	return true
}

// withdraw frees the address offered (not leased) to mac, which chose
// another server's offer, and returns it.
func (p *pool) withdraw(mac net.HardwareAddr, now time.Time) (netip.Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, b := range p.bindings {
		if b.mac == string(mac) && !b.granted && now.Before(b.until) {
			delete(p.bindings, a)
			return a, true
		}
	}
	return netip.Addr{}, false
}

// release frees a's lease if mac holds it.
func (p *pool) release(mac net.HardwareAddr, a netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.bindings[a]; b != nil && b.mac == string(mac) {
		delete(p.bindings, a)
		return true
	}
	return false
}

// leases returns the granted leases live at now, by address.
func (p *pool) leases(now time.Time) []Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Lease
	for a := range p.bindings {
		if b := p.live(a, now); b != nil && b.granted {
			out = append(out, Lease{Addr: a, MAC: net.HardwareAddr(b.mac), Expires: b.until})
		}
	}
	slices.SortFunc(out, func(x, y Lease) int { return x.Addr.Compare(y.Addr) })
	return out
}

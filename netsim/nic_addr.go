package netsim

import "net/netip"

// SetAddr gives the NIC the IPv4 address p, as a DHCP client configures
// its interface once it holds a lease: it replaces the NIC's address (or
// its lack of one, see NICConfig.Unaddressed) and its directly connected
// route; routes through gateways stay as they are. Sockets and connections
// bound to the old address keep it. Safe for concurrent use with the frame
// path; the new address applies to frames processed after it returns.
func (n *NIC) SetAddr(p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() || p.Addr().IsUnspecified() {
		return &ConfigError{What: "address of NIC " + n.name, Problem: "needs an IPv4 address with prefix, e.g. 10.0.0.5/24"}
	}
	h := n.host
	h.mu.Lock()
	old := n.Prefix()
	if old != unaddressed {
		h.routes.remove(route{dst: old.Masked(), nic: n})
	}
	n.prefix.Store(&p)
	h.routes.addConnected(p.Masked(), n)
	h.mu.Unlock()
	n.seg.readdressARP(n, old.Addr(), p.Addr())
	return nil
}

// remove deletes the route equal to r, if present.
func (t *routeTable) remove(r route) {
	for i := range t.routes {
		if t.routes[i] == r {
			t.routes = append(t.routes[:i:i], t.routes[i+1:]...)
			return
		}
	}
}

// readdressARP moves n in the segment's record of ports by address, so
// broadcast ARP requests for its new address reach it.
func (s *Segment) readdressARP(n *NIC, old, addr netip.Addr) {
	a := &s.arp
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byAddr == nil {
		return
	}
	a.byAddr[old] = removeItem(a.byAddr[old], n)
	if len(a.byAddr[old]) == 0 {
		delete(a.byAddr, old)
	}
	a.byAddr[addr] = append(a.byAddr[addr], n)
}

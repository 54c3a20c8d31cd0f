package netsim

import (
	"net/netip"
	"slices"
)

// route sends packets for dst through nic, to the gateway via when it is
// valid, or directly (on-link) otherwise.
type route struct {
	dst netip.Prefix
	via netip.Addr
	nic *NIC
}

// routeTable is a host's IPv4 routing table, kept sorted longest prefix
// first so the first match wins. It is guarded by its host's mutex.
type routeTable struct {
	routes []route
}

// add installs r, replacing any route for the same prefix (as
// "ip route replace" does).
func (t *routeTable) add(r route) {
	for i := range t.routes {
		if t.routes[i].dst == r.dst {
			t.routes[i] = r
			return
		}
	}
	t.routes = append(t.routes, r)
	slices.SortStableFunc(t.routes, func(a, b route) int { return b.dst.Bits() - a.dst.Bits() })
}

func (t *routeTable) addConnected(p netip.Prefix, nic *NIC) {
	t.add(route{dst: p, nic: nic})
}

func (t *routeTable) lookup(dst netip.Addr) (route, bool) {
	for _, r := range t.routes {
		if r.dst.Contains(dst) {
			return r, true
		}
	}
	return route{}, false
}

// AddRoute sends packets for dst through the gateway via, which must lie in
// the subnet of one of the host's NICs. A route for the same prefix is
// replaced, so a rogue-gateway position can take over an existing default
// route.
func (h *Host) AddRoute(dst netip.Prefix, via netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	gw, ok := h.routes.lookup(via)
	if !ok || gw.via.IsValid() {
		return &ConfigError{What: "route " + dst.String() + " on host " + h.name, Problem: "gateway " + via.String() + " is not on a directly connected subnet"}
	}
	h.routes.add(route{dst: dst.Masked(), via: via, nic: gw.nic})
	return nil
}

// SetDefaultGateway routes every destination without a more specific route
// through gw, replacing the previous default gateway.
func (h *Host) SetDefaultGateway(gw netip.Addr) error {
	return h.AddRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0), gw)
}

// Routes returns the routing table as lines "10.0.0.0/24 dev host/eth0" or
// "0.0.0.0/0 via 10.0.0.1 dev host/eth0", longest prefix first.
func (h *Host) Routes() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	for _, r := range h.routes.routes {
		line := r.dst.String()
		if r.via.IsValid() {
			line += " via " + r.via.String()
		}
		out = append(out, line+" dev "+r.nic.name)
	}
	return out
}

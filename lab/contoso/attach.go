package contoso

import (
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/netsim"
)

// AttachHost adds a host the preset does not plan, such as a scenario's
// attacker, to the segment named segment with address addr (a prefix, so
// the host knows its subnet); router makes it forward packets. The host's
// own ARP cache accepts any reply, as an attacker's would.
//
// When the world was built with ARPStaticOnly, the host is pinned like any
// other: every host on the segment gets a static entry for the new one and
// the new one for each of them, as an administrator adds a machine to a
// network with static ARP. Static entries are what stop ARP spoofing; they
// do not stop a legitimate exchange with the new host (a rogue DNS server
// the victim was configured to use, a partner on the Internet).
func (c *Deployment) AttachHost(name, segment string, addr netip.Prefix, router bool) (*netsim.Host, *netsim.NIC, error) {
	seg := c.Segment(segment)
	if seg == nil {
		return nil, nil, fmt.Errorf("lab: contoso: no segment %q for %s", segment, name)
	}
	var h *netsim.Host
	if router {
		h = c.env.World.NewRouter(name, netsim.HostConfig{})
	} else {
		h = c.env.World.NewHost(name, netsim.HostConfig{})
	}
	nic, err := h.AddNIC(seg, netsim.NICConfig{Addr: addr})
	if err != nil {
		return nil, nil, fmt.Errorf("lab: contoso: %s on %s as %v: %w", name, segment, addr, err)
	}
	if c.d.ARPPolicy == netsim.ARPStaticOnly {
		for _, other := range seg.NICs() {
			if other != nic {
				other.Host().SetStaticARP(nic.Addr(), nic.MAC())
				h.SetStaticARP(other.Addr(), other.MAC())
			}
		}
	}
	return h, nic, nil
}

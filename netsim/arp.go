package netsim

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/internal/notify"
)

// ARPPolicy decides which ARP messages may change a host's ARP cache. It is
// the defense against ARP spoofing: a poisoned cache sends the victim's
// frames to the attacker's MAC.
type ARPPolicy int

const (
	// ARPAcceptAny learns from every ARP request and reply, including
	// unsolicited replies and gratuitous ARP, as classic stacks do.
	ARPAcceptAny ARPPolicy = iota
	// ARPAcceptSolicited accepts only replies to a request the host sent
	// and is still waiting for; unsolicited replies, gratuitous ARP and the
	// sender fields of requests are ignored. The first reply wins.
	ARPAcceptSolicited
	// ARPStaticOnly uses only entries added with SetStaticARP: the host
	// sends no ARP requests and ignores every ARP message it receives
	// except requests for its own addresses, which it answers.
	ARPStaticOnly
)

// String returns the policy's name as used in reports.
func (p ARPPolicy) String() string {
	switch p {
	case ARPAcceptAny:
		return "accept-any"
	case ARPAcceptSolicited:
		return "accept-solicited"
	case ARPStaticOnly:
		return "static-only"
	}
	return "ARPPolicy(" + itoa(int(p)) + ")"
}

const (
	arpRetryInterval  = time.Second
	arpMaxTries       = 3
	arpMaxPendingPkts = 256
)

// arpCache maps IPv4 next hops to MAC addresses and holds packets waiting
// for resolution.
type arpCache struct {
	host *Host

	mu      sync.RWMutex
	entries map[netip.Addr]arpEntry
	pending map[netip.Addr]*arpPending
	ignored map[arpClaim]*ARPIgnored // claims the policy refused, by claim
	order   []arpClaim               // ignored's keys in first-seen order
	changed notify.Signal            // broadcast when an entry is learnt or a claim refused
}

// arpClaim is an ARP message's assertion "IP is at MAC".
type arpClaim struct {
	ip  netip.Addr
	mac string
}

// ARPIgnored counts the ARP messages that claimed IP is at MAC and that
// the host's cache refused to learn: the ARP policy's own refusal, seen
// where it is enforced.
type ARPIgnored struct {
	IP  netip.Addr
	MAC net.HardwareAddr
	// Reason is why the cache refused: "static entry" (a pinned mapping
	// never changes), "unsolicited" (ARPAcceptSolicited: no request of
	// the host's was waiting) or "static-only policy".
	Reason string
	Count  int
}

type arpEntry struct {
	mac    net.HardwareAddr
	static bool
}

type arpPending struct {
	nic    *NIC
	frames [][]byte
	tries  int
	timer  Timer
}

func (c *arpCache) init(h *Host) {
	c.host = h
	c.entries = make(map[netip.Addr]arpEntry)
	c.pending = make(map[netip.Addr]*arpPending)
}

// SetStaticARP pins ip to mac in the host's ARP cache. Static entries are
// never changed by ARP messages, whatever the policy.
func (h *Host) SetStaticARP(ip netip.Addr, mac net.HardwareAddr) {
	h.arp.mu.Lock()
	defer h.arp.mu.Unlock()
	h.arp.learnLocked(ip, arpEntry{mac: append(net.HardwareAddr(nil), mac...), static: true})
}

// ARPTable returns a copy of the host's ARP cache.
func (h *Host) ARPTable() map[netip.Addr]net.HardwareAddr {
	h.arp.mu.RLock()
	defer h.arp.mu.RUnlock()
	out := make(map[netip.Addr]net.HardwareAddr, len(h.arp.entries))
	for ip, e := range h.arp.entries {
		out[ip] = e.mac
	}
	return out
}

// ARPPolicy returns the host's ARP cache policy.
func (h *Host) ARPPolicy() ARPPolicy { return h.cfg.ARPPolicy }

func (c *arpCache) lookup(ip netip.Addr) (net.HardwareAddr, bool) {
	c.mu.RLock()
	e, ok := c.entries[ip]
	c.mu.RUnlock()
	return e.mac, ok
}

// enqueue holds frame until ip resolves, sending a request if none is
// outstanding. Under ARPStaticOnly, or when too many packets wait, the frame
// is dropped, as a kernel drops packets to an unresolvable neighbour.
func (c *arpCache) enqueue(nic *NIC, ip netip.Addr, frame []byte) {
	if c.host.cfg.ARPPolicy == ARPStaticOnly || c.host.world.closed() {
		return
	}
	c.mu.Lock()
	if e, ok := c.entries[ip]; ok { // resolved since the caller looked
		copy(frame[0:6], e.mac)
		nic.transmit(frame) // under mu, so it cannot overtake frames being flushed
		c.mu.Unlock()
		return
	}
	p := c.pending[ip]
	if p != nil {
		if len(p.frames) < arpMaxPendingPkts {
			p.frames = append(p.frames, frame)
		}
		c.mu.Unlock()
		return
	}
	p = &arpPending{nic: nic, frames: [][]byte{frame}, tries: 1}
	c.pending[ip] = p
	p.timer = c.host.world.clock.AfterFunc(arpRetryInterval, func() { c.retry(ip, p) })
	c.mu.Unlock()
	c.request(nic, ip)
}

func (c *arpCache) request(nic *NIC, ip netip.Addr) {
	nic.transmit(encodeARP(layers.ARPRequest, nic.mac, nic.prefix.Addr(), zeroMAC, ip, broadcastMAC))
}

// retry re-sends a request, or gives up and drops the waiting packets.
func (c *arpCache) retry(ip netip.Addr, p *arpPending) {
	if c.host.world.closed() {
		return
	}
	c.mu.Lock()
	if c.pending[ip] != p {
		c.mu.Unlock()
		return
	}
	if p.tries >= arpMaxTries {
		delete(c.pending, ip)
		c.mu.Unlock()
		return
	}
	p.tries++
	p.timer = c.host.world.clock.AfterFunc(arpRetryInterval, func() { c.retry(ip, p) })
	c.mu.Unlock()
	c.request(p.nic, ip)
}

// input handles an ARP message received on nic.
func (c *arpCache) input(nic *NIC, arp *layers.ARP) {
	if arp.Protocol != layers.EthernetTypeIPv4 || len(arp.SourceProtAddress) != 4 || len(arp.DstProtAddress) != 4 {
		return
	}
	sender := netip.AddrFrom4([4]byte(arp.SourceProtAddress))
	target := netip.AddrFrom4([4]byte(arp.DstProtAddress))
	senderMAC := net.HardwareAddr(arp.SourceHwAddress)
	if arp.Operation == layers.ARPRequest && target == nic.prefix.Addr() && sender != target {
		nic.transmit(encodeARP(layers.ARPReply, nic.mac, target, senderMAC, sender, senderMAC))
	}
	if !sender.IsValid() || sender.IsUnspecified() || !nic.prefix.Contains(sender) || sender == nic.prefix.Addr() {
		return
	}
	c.mu.Lock()
	if e, ok := c.entries[sender]; ok && e.static {
		if e.mac.String() != senderMAC.String() {
			c.ignoreLocked(sender, senderMAC, "static entry")
		}
		c.mu.Unlock()
		return
	}
	switch c.host.cfg.ARPPolicy {
	case ARPAcceptAny:
	case ARPAcceptSolicited:
		if arp.Operation != layers.ARPReply || c.pending[sender] == nil {
			if e, ok := c.entries[sender]; !ok || e.mac.String() != senderMAC.String() {
				c.ignoreLocked(sender, senderMAC, "unsolicited")
			}
			c.mu.Unlock()
			return
		}
	default:
		c.ignoreLocked(sender, senderMAC, "static-only policy")
		c.mu.Unlock()
		return
	}
	c.learnLocked(sender, arpEntry{mac: append(net.HardwareAddr(nil), senderMAC...)})
	c.mu.Unlock()
}

// maxARPIgnored bounds the distinct claims a host remembers refusing.
const maxARPIgnored = 1024

// ignoreLocked counts a refused claim.
func (c *arpCache) ignoreLocked(ip netip.Addr, mac net.HardwareAddr, reason string) {
	defer c.changed.Broadcast()
	k := arpClaim{ip: ip, mac: mac.String()}
	if n := c.ignored[k]; n != nil {
		n.Count++
		return
	}
	if len(c.order) >= maxARPIgnored {
		return
	}
	if c.ignored == nil {
		c.ignored = make(map[arpClaim]*ARPIgnored)
	}
	c.ignored[k] = &ARPIgnored{IP: ip, MAC: append(net.HardwareAddr(nil), mac...), Reason: reason, Count: 1}
	c.order = append(c.order, k)
}

// ARPChanged returns a channel that is closed when the host's ARP cache
// next learns an entry or refuses a claim (see ARPTable, ARPIgnored): take
// it, then read the cache, and wait on it if the answer is not there yet.
func (h *Host) ARPChanged() <-chan struct{} { return h.arp.changed.Next() }

// ARPIgnored returns the claims the host's ARP cache refused to learn
// (an address claimed for a MAC other than a pinned one, an unsolicited
// reply under ARPAcceptSolicited, any message under ARPStaticOnly), in
// the order first seen, at most 1024 distinct claims.
func (h *Host) ARPIgnored() []ARPIgnored {
	h.arp.mu.RLock()
	defer h.arp.mu.RUnlock()
	out := make([]ARPIgnored, 0, len(h.arp.order))
	for _, k := range h.arp.order {
		n := *h.arp.ignored[k]
		n.MAC = append(net.HardwareAddr(nil), n.MAC...)
		out = append(out, n)
	}
	return out
}

// learnLocked records e for ip and sends the packets that waited for it.
// Both happen under c.mu, so a sender that finds the new entry cannot
// overtake the waiting packets. Transmitting never re-enters the cache.
func (c *arpCache) learnLocked(ip netip.Addr, e arpEntry) {
	c.entries[ip] = e
	c.changed.Broadcast()
	p := c.pending[ip]
	if p == nil {
		return
	}
	delete(c.pending, ip)
	p.timer.Stop()
	for _, f := range p.frames {
		copy(f[0:6], e.mac)
		p.nic.transmit(f)
	}
}

func (c *arpCache) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ip, p := range c.pending {
		p.timer.Stop()
		delete(c.pending, ip)
	}
}

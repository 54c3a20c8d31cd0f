package netsim

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
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
	// ARPAcceptAny learns from every ARP reply, including unsolicited
	// ones, and from requests as Linux does: a request for one of the
	// host's addresses creates or updates the entry of its sender, while
	// any other request (a broadcast for someone else, gratuitous ARP)
	// only updates an entry that already exists or is being resolved,
	// possibly to a new MAC. A forged reply poisons the cache whether or
	// not it holds the address; a forged gratuitous ARP or request only
	// poisons an entry it already has.
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
	mac     net.HardwareAddr
	static  bool
	updated time.Time // when an ARP message last set it (World clock)
}

// ARPLockTime is Linux's neigh locktime: an entry set less than this long
// ago keeps its MAC against an ARP message that is not gratuitous (whose
// sender address is not also its target), so two answers racing for one
// address do not make the entry flap. A gratuitous ARP always overrides.
const ARPLockTime = time.Second

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
	h.arp.learnLocked(ip, arpEntry{mac: append(net.HardwareAddr(nil), mac...), static: true})
	h.arp.mu.Unlock()
	// Claims against the pinned entry must still reach the host, to be
	// refused and counted.
	for _, n := range h.NICs() {
		n.seg.noteARPInterest(h, ip)
	}
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
	nic.transmit(encodeARP(layers.ARPRequest, nic.mac, nic.Prefix().Addr(), zeroMAC, ip, broadcastMAC))
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
//
// Which messages may create an entry follows Linux (net/ipv4/arp.c,
// arp_process, with arp_accept=0 for requests): a request whose target is
// the receiving NIC's address creates or updates the entry of its sender,
// the host being about to talk to it; a request for another address,
// including gratuitous ARP (sender and target the same), only updates an
// entry that already exists or is being resolved (Linux's INCOMPLETE
// neighbour), and is otherwise ignored without counting as a refused
// claim. Replies are learned as the policy says. The policy then decides
// whether an update is allowed: ARPAcceptAny takes it, ARPAcceptSolicited
// only from a reply to a pending request, ARPStaticOnly never, and static
// entries never change. Linux's locktime (ignoring a second update within
// a second) is not modelled. On one flat segment this rule keeps each
// cache to the hosts it talks to, not every host that broadcasts a
// request, and it is what lets the segment deliver a broadcast request
// only to the hosts it can concern (see arpSwitch).
func (c *arpCache) input(nic *NIC, arp *layers.ARP) {
	if arp.Protocol != layers.EthernetTypeIPv4 || arp.AddrType != layers.LinkTypeEthernet ||
		len(arp.SourceProtAddress) != 4 || len(arp.DstProtAddress) != 4 ||
		len(arp.SourceHwAddress) != 6 || len(arp.DstHwAddress) != 6 ||
		(arp.Operation != layers.ARPRequest && arp.Operation != layers.ARPReply) {
		return // not Ethernet/IPv4 ARP, as Linux drops it
	}
	sender := netip.AddrFrom4([4]byte(arp.SourceProtAddress))
	target := netip.AddrFrom4([4]byte(arp.DstProtAddress))
	senderMAC := net.HardwareAddr(arp.SourceHwAddress)
	forUs := target == nic.Prefix().Addr()
	if arp.Operation == layers.ARPRequest && forUs && sender != target {
		nic.transmit(encodeARP(layers.ARPReply, nic.mac, target, senderMAC, sender, senderMAC))
	}
	if !sender.IsValid() || sender.IsUnspecified() || !nic.Prefix().Contains(sender) || sender == nic.Prefix().Addr() {
		return
	}
	c.mu.Lock()
	e, known := c.entries[sender]
	if known && e.static {
		if e.mac.String() != senderMAC.String() {
			c.ignoreLocked(sender, senderMAC, "static entry")
		}
		c.mu.Unlock()
		return
	}
	if arp.Operation == layers.ARPRequest && !forUs && !known && c.pending[sender] == nil {
		c.mu.Unlock() // someone else's request: nothing here to update
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
	now := c.host.world.clock.Now()
	gratuitous := sender == target
	if known && !bytes.Equal(e.mac, senderMAC) && !gratuitous && now.Sub(e.updated) < ARPLockTime {
		c.mu.Unlock() // locked: the entry was set a moment ago
		return
	}
	c.learnLocked(sender, arpEntry{mac: append(net.HardwareAddr(nil), senderMAC...), updated: now})
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

// arpSwitch is a segment's knowledge of ARP, kept so that a broadcast ARP
// request is decoded once by the segment and delivered only to the ports it
// can concern, instead of being decoded by every NIC on the segment: under
// the learning rule (see arpCache.input) a request changes nothing on a host
// unless it is for one of the host's addresses or the host already holds or
// is resolving an entry for its sender. The segment records which hosts may
// hold an entry for an address from the ARP frames it carries (before
// delivering them, so a later broadcast cannot overtake the frame that
// created the entry) and from static entries. The record only grows, which
// errs on the side of delivering. Broadcast replies, other broadcasts and
// unicast frames are switched as before.
type arpSwitch struct {
	mu       sync.Mutex
	byAddr   map[netip.Addr][]*NIC    // ports by their own address
	interest map[netip.Addr][]*Host   // hosts that may hold an entry for an address
	seen     map[arpInterest]struct{} // interest's pairs
	watchers map[*NIC]struct{}        // promiscuous or tapped ports: they see every broadcast
	picked   map[*NIC]struct{}        // scratch set of recipients, under mu
}

type arpInterest struct {
	ip netip.Addr
	h  *Host
}

// arpHeader holds the fields of an Ethernet/IPv4 ARP frame that switching
// needs.
type arpHeader struct {
	op             uint16
	sender, target netip.Addr
}

// parseARPFrame decodes frame's ARP header, once per frame on the segment,
// and reports whether it is a well-formed Ethernet/IPv4 ARP message.
func parseARPFrame(frame []byte) (arpHeader, bool) {
	if len(frame) < ethHeaderLen+28 || frame[12] != 0x08 || frame[13] != 0x06 {
		return arpHeader{}, false
	}
	a := frame[ethHeaderLen:]
	if a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0 || a[4] != 6 || a[5] != 4 {
		return arpHeader{}, false
	}
	return arpHeader{
		op:     uint16(a[6])<<8 | uint16(a[7]),
		sender: netip.AddrFrom4([4]byte(a[14:18])),
		target: netip.AddrFrom4([4]byte(a[24:28])),
	}, true
}

// attachARP records a new port.
func (s *Segment) attachARP(n *NIC) {
	h := n.host
	h.arp.mu.RLock()
	known := make([]netip.Addr, 0, len(h.arp.entries)+len(h.arp.pending))
	for ip := range h.arp.entries {
		known = append(known, ip)
	}
	for ip := range h.arp.pending {
		known = append(known, ip)
	}
	h.arp.mu.RUnlock()
	a := &s.arp
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byAddr == nil {
		a.byAddr = make(map[netip.Addr][]*NIC)
		a.interest = make(map[netip.Addr][]*Host)
		a.seen = make(map[arpInterest]struct{})
		a.watchers = make(map[*NIC]struct{})
		a.picked = make(map[*NIC]struct{})
	}
	addr := n.Prefix().Addr()
	a.byAddr[addr] = append(a.byAddr[addr], n)
	if n.cfg.Promiscuous {
		a.watchers[n] = struct{}{}
	}
	for _, ip := range known {
		a.noteLocked(h, ip)
	}
}

// watchARP makes n see every broadcast request (it has taps) or not.
func (s *Segment) watchARP(n *NIC, watch bool) {
	a := &s.arp
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.watchers == nil {
		return // not attached yet; attachARP decides
	}
	if watch || n.cfg.Promiscuous {
		a.watchers[n] = struct{}{}
	} else {
		delete(a.watchers, n)
	}
}

// noteARPInterest records that h may hold an entry for ip.
func (s *Segment) noteARPInterest(h *Host, ip netip.Addr) {
	s.arp.mu.Lock()
	defer s.arp.mu.Unlock()
	if s.arp.seen != nil {
		s.arp.noteLocked(h, ip)
	}
}

func (a *arpSwitch) noteLocked(h *Host, ip netip.Addr) {
	k := arpInterest{ip, h}
	if _, ok := a.seen[k]; ok {
		return
	}
	a.seen[k] = struct{}{}
	a.interest[ip] = append(a.interest[ip], h)
}

// routeARP is called for every ARP frame the segment switches, before it
// is delivered: out is the port a unicast frame goes to, nil for a frame
// that is flooded. It records who may learn from the frame and, for a
// broadcast request, returns the ports to deliver it to (narrowed true);
// otherwise the frame is switched as any other.
func (s *Segment) routeARP(frame []byte, from, out *NIC) (ports []*NIC, narrowed bool) {
	m, ok := parseARPFrame(frame)
	if !ok {
		return nil, false
	}
	a := &s.arp
	dst := [6]byte(frame[0:6])
	a.mu.Lock()
	if a.seen == nil { // no port attached yet
		a.mu.Unlock()
		return nil, false
	}
	if from != nil && m.op == layers.ARPRequest {
		a.noteLocked(from.host, m.target) // it is resolving the target
	}
	switch {
	case out != nil:
		a.noteLocked(out.host, m.sender)
		a.mu.Unlock()
		return nil, false
	case dst != [6]byte(broadcastMAC) || m.op != layers.ARPRequest:
		// A flooded reply, or a frame for an unknown or multicast MAC:
		// every port that accepts it may learn from it.
		s.mu.RLock()
		all := s.ports
		s.mu.RUnlock()
		for _, p := range all {
			if p != from && (dst[0]&1 != 0 || dst == [6]byte(p.mac) || p.cfg.Promiscuous) {
				a.noteLocked(p.host, m.sender)
			}
		}
		a.mu.Unlock()
		return nil, false
	}
	// A broadcast request: its target, the ports that watch everything,
	// and the ports of hosts that may hold an entry for its sender.
	add := func(p *NIC) {
		if _, dup := a.picked[p]; !dup && p != from && p.seg == s {
			a.picked[p] = struct{}{}
			ports = append(ports, p)
		}
	}
	for _, p := range a.byAddr[m.target] {
		add(p)
		if p != from {
			a.noteLocked(p.host, m.sender)
		}
	}
	for p := range a.watchers {
		add(p)
	}
	for _, h := range a.interest[m.sender] {
		h.mu.RLock()
		for _, p := range h.nics {
			add(p)
		}
		h.mu.RUnlock()
	}
	for _, p := range ports {
		delete(a.picked, p)
	}
	a.mu.Unlock()
	// Maps gave the order; deliver in a fixed one (by MAC, as the World
	// hands them out), so the draws of receive impairments replay alike
	// for a seed.
	slices.SortFunc(ports, func(x, y *NIC) int { return bytes.Compare(x.mac, y.mac) })
	return ports, true
}

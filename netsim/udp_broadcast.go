package netsim

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"

	"github.com/gopacket/gopacket/layers"
)

// UDP broadcast and multicast on a segment.
//
// A UDP socket may send to the limited broadcast address 255.255.255.255,
// to the directed broadcast address of a subnet its host is on (10.0.0.255
// for 10.0.0.0/24), or to an IPv4 multicast group (224.0.0.0/4). The frame
// goes out of one NIC (see groupNIC) to the Ethernet broadcast address
// ff:ff:ff:ff:ff:ff, or to the group's multicast MAC 01:00:5e plus the
// group's low 23 bits, and the segment floods it to every other port. As
// Go's net package does on Linux, every socket may send broadcasts (it sets
// SO_BROADCAST); multicast leaves with IP TTL 1, Linux's default
// IP_MULTICAST_TTL. The sender's own host does not receive its broadcast or
// multicast (as with IP_MULTICAST_LOOP off).
//
// A host receives a broadcast on the socket bound to the destination port
// with the wildcard address or the broadcast address itself; a socket bound
// to a unicast address does not see it. It receives a multicast datagram on
// the socket bound to the port that has joined the group (JoinGroup on the
// MulticastConn, or Host.ListenMulticastUDP), with the wildcard address or
// the group as its address; membership is per socket and not per NIC.
// Routers never forward broadcasts or multicasts, whatever the TTL: netsim
// has no multicast routing, and directed broadcasts are not forwarded
// (RFC 2644).
//
// A NIC added with NICConfig.Unaddressed has the address 0.0.0.0, so a
// socket bound to 0.0.0.0:68 on its host sends from 0.0.0.0, as a DHCP
// client does before it has a lease; NIC.SetAddr configures it afterwards.

// unaddressed is the prefix of a NIC without an address.
var unaddressed = netip.PrefixFrom(netip.IPv4Unspecified(), 32)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// multicastTTL is the IP TTL of multicast datagrams (IP_MULTICAST_TTL).
const multicastTTL = 1

// MulticastConn is the UDP socket that Host.ListenPacket and
// Host.ListenMulticastUDP return, seen with its group membership methods:
// type-assert a net.PacketConn from ListenPacket to it.
type MulticastConn interface {
	net.PacketConn
	// JoinGroup makes the socket receive datagrams sent to the IPv4
	// multicast group on any of its host's NICs. Joining twice is a no-op.
	JoinGroup(group netip.Addr) error
	// LeaveGroup undoes JoinGroup; leaving a group not joined is a no-op.
	LeaveGroup(group netip.Addr) error
}

var _ MulticastConn = (*udpConn)(nil)

// ListenMulticastUDP opens a UDP socket on the wildcard address and port
// that has joined group, as net.ListenMulticastUDP does. group must be an
// IPv4 multicast address.
func (h *Host) ListenMulticastUDP(group netip.Addr, port uint16) (MulticastConn, error) {
	c, err := h.bindUDP(netip.AddrPortFrom(netip.IPv4Unspecified(), port), netip.AddrPort{})
	if err != nil {
		return nil, opError("listen", "udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(group, port)), err)
	}
	if err := c.JoinGroup(group); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// JoinGroup implements MulticastConn.
func (c *udpConn) JoinGroup(group netip.Addr) error {
	if !group.Is4() || !group.IsMulticast() {
		return c.opErr("join", &net.AddrError{Err: "not an IPv4 multicast group", Addr: group.String()})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opErr("join", net.ErrClosed)
	}
	for _, g := range c.groups {
		if g == group {
			return nil
		}
	}
	c.groups = append(c.groups, group)
	return nil
}

// LeaveGroup implements MulticastConn.
func (c *udpConn) LeaveGroup(group netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, g := range c.groups {
		if g == group {
			c.groups = append(c.groups[:i:i], c.groups[i+1:]...)
			return nil
		}
	}
	return nil
}

// isGroupAddr reports whether dst is the limited broadcast address or a
// multicast group: a destination that needs no route.
func isGroupAddr(dst netip.Addr) bool {
	return dst == limitedBroadcast || dst.IsMulticast()
}

// isDirectedBroadcast reports whether dst is the broadcast address of the
// subnet p (which must have room for one: /30 or shorter).
func isDirectedBroadcast(p netip.Prefix, dst netip.Addr) bool {
	if p.Bits() > 30 || !dst.Is4() || !p.Contains(dst) {
		return false
	}
	a := dst.As4()
	host := ^uint32(0) >> p.Bits()
	return binary.BigEndian.Uint32(a[:])&host == host
}

// multicastMAC returns the Ethernet address of an IPv4 multicast group
// (RFC 1112): 01:00:5e followed by the group's low 23 bits.
func multicastMAC(group netip.Addr) net.HardwareAddr {
	a := group.As4()
	return net.HardwareAddr{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
}

// groupNIC picks the NIC a broadcast or multicast to dst leaves from: the
// NIC of the socket's own address, else the NIC of the route to dst (the
// default route for 255.255.255.255 and most groups), else the host's first
// NIC. It returns nil for a host without NICs.
func (h *Host) groupNIC(local, dst netip.Addr) *NIC {
	if !local.IsUnspecified() {
		if n := h.nicFor(local); n != nil {
			return n
		}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if r, ok := h.routes.lookup(dst); ok {
		return r.nic
	}
	if len(h.nics) > 0 {
		return h.nics[0]
	}
	return nil
}

// sourceAddr is the source address of a datagram from a socket bound to
// local that leaves from nic: local itself when it is a unicast address,
// otherwise (wildcard, broadcast or group) the NIC's address, which is
// 0.0.0.0 on an unaddressed NIC.
func sourceAddr(local netip.Addr, nic *NIC) netip.Addr {
	if local.IsUnspecified() || isGroupAddr(local) || isDirectedBroadcast(nic.Prefix(), local) {
		return nic.Addr()
	}
	return local
}

// writeGroup sends b from c to a broadcast or multicast destination out of
// nic, with the Ethernet destination that goes with it.
func (c *udpConn) writeGroup(b []byte, to netip.AddrPort, nic *NIC) (int, error) {
	if nic == nil {
		return 0, c.opErr("write", syscallError("sendto", syscall.ENETUNREACH))
	}
	if ipv4HeaderLen+udpHeaderLen+len(b) > nic.seg.mtu {
		return 0, c.opErr("write", syscallError("sendto", syscall.EMSGSIZE))
	}
	src := sourceAddr(c.local.Addr(), nic)
	h := c.host
	ip := ipv4Header{srcMAC: nic.mac, dstMAC: broadcastMAC, src: src, dst: to.Addr(), id: uint16(h.ipID.Add(1))}
	if to.Addr().IsMulticast() {
		ip.dstMAC = multicastMAC(to.Addr())
		ip.ttl = multicastTTL
	}
	c.encMu.Lock()
	frame := c.enc.encodeUDP(&ip, c.local.Port(), to.Port(), b)
	c.encMu.Unlock()
	nic.transmit(frame)
	return len(b), nil
}

// isGroupDst reports whether a packet to dst that arrived on the receiver's
// NIC is a broadcast or multicast for this host (and so never forwarded).
func (r *receiver) isGroupDst(dst netip.Addr) bool {
	return isGroupAddr(dst) || isDirectedBroadcast(r.nic.Prefix(), dst)
}

// inputGroup delivers a received broadcast or multicast IPv4 packet: UDP
// datagrams go to the sockets that accept them (see udpGroupInput); other
// protocols are ignored. The frame is shared by every port the segment
// flooded it to, so its checksum is verified unless it is pristine.
func (r *receiver) inputGroup(dst netip.Addr, pristine bool) (kept bool) {
	if len(r.decoded) < 3 || r.decoded[2] != layers.LayerTypeUDP ||
		r.ip.Flags&layers.IPv4MoreFragments != 0 || r.ip.FragOffset != 0 {
		return false
	}
	if !pristine && !transportChecksumOK(r.ip.Contents, r.ip.Payload, uint8(layers.IPProtocolUDP)) {
		return false
	}
	src := netip.AddrFrom4([4]byte(r.ip.SrcIP.To4()))
	return r.host.udpGroupInput(src, dst, uint16(r.udp.SrcPort), uint16(r.udp.DstPort), r.udp.Payload)
}

// udpGroupInput queues a broadcast or multicast datagram on the socket
// bound to its port, if that socket accepts it, and reports whether it did.
// payload aliases the immutable frame.
func (h *Host) udpGroupInput(src, dst netip.Addr, srcPort, dstPort uint16, payload []byte) bool {
	h.udp.mu.RLock()
	c := h.udp.socks[dstPort]
	h.udp.mu.RUnlock()
	if c == nil {
		return false
	}
	if a := c.local.Addr(); !a.IsUnspecified() && a != dst {
		return false
	}
	from := netip.AddrPortFrom(src, srcPort)
	if c.peer.IsValid() && c.peer != from {
		return false
	}
	if dst.IsMulticast() && !c.joined(dst) {
		return false
	}
	c.enqueue(from, payload)
	return true
}

// parseUDPBindAddr is parseBindAddr that also accepts, as Linux does for
// UDP, the limited broadcast address, the directed broadcast address of one
// of the host's subnets, and multicast groups.
func (h *Host) parseUDPBindAddr(address string) (netip.AddrPort, error) {
	if host, port, err := net.SplitHostPort(address); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && h.isGroupBindAddr(ip) {
			ap, err := h.parseBindAddr(":" + port)
			return netip.AddrPortFrom(ip, ap.Port()), err
		}
	}
	return h.parseBindAddr(address)
}

func (h *Host) isGroupBindAddr(ip netip.Addr) bool {
	if isGroupAddr(ip) {
		return true
	}
	for _, n := range h.NICs() {
		if isDirectedBroadcast(n.Prefix(), ip) {
			return true
		}
	}
	return false
}

func (c *udpConn) joined(group netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.groups {
		if g == group {
			return true
		}
	}
	return false
}

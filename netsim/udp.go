package netsim

import (
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

const (
	udpQueueDatagrams = 512
	udpQueueBytes     = 1 << 20
)

// udpTable holds a host's UDP sockets by local port.
type udpTable struct {
	mu    sync.RWMutex
	socks map[uint16]*udpConn
}

func (t *udpTable) init() { t.socks = make(map[uint16]*udpConn) }

func (t *udpTable) shutdown() {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range t.socks {
		s.rd.stop()
		s.wd.stop()
	}
}

// udpConn is a UDP socket on a host. Unconnected (from ListenPacket) it is a
// net.PacketConn; connected (from DialContext "udp") it is also a net.Conn
// that exchanges datagrams with one peer, like *net.UDPConn. Datagrams larger
// than the path MTU fail with "message too long"; received datagrams beyond
// the socket buffer are dropped. Safe for concurrent use.
type udpConn struct {
	host  *Host
	local netip.AddrPort
	peer  netip.AddrPort // valid when connected
	laddr *net.UDPAddr
	raddr *net.UDPAddr

	mu       sync.Mutex
	queue    []datagram
	queued   int
	closed   bool
	readable chan struct{}
	rd, wd   *deadline
	groups   []netip.Addr // multicast groups joined (udp_broadcast.go)

	encMu sync.Mutex
	enc   frameEncoder
}

type datagram struct {
	from netip.AddrPort
	data []byte
}

var (
	_ net.PacketConn = (*udpConn)(nil)
	_ net.Conn       = (*udpConn)(nil)
)

// ListenPacket opens a UDP socket. network is "udp" or "udp4"; address is
// ":port" or "ip:port" with one of the host's addresses, a broadcast
// address or a multicast group (port 0 picks one; see udp_broadcast.go).
// Datagrams larger than the path MTU fail with "message too long"; received
// datagrams beyond the socket's buffer are dropped. The socket is safe for
// concurrent use.
func (h *Host) ListenPacket(network, address string) (net.PacketConn, error) {
	if network != "udp" && network != "udp4" {
		return nil, opError("listen", network, nil, nil, net.UnknownNetworkError(network))
	}
	la := callerAddr{network, address}
	ap, err := h.parseUDPBindAddr(address)
	if err != nil {
		return nil, opError("listen", network, nil, la, err)
	}
	c, err := h.bindUDP(ap, netip.AddrPort{})
	if err != nil {
		return nil, opError("listen", network, nil, la, err)
	}
	return c, nil
}

func (h *Host) dialUDP(raddr netip.AddrPort) (net.Conn, error) {
	remote := net.UDPAddrFromAddrPort(raddr)
	p, err := h.lookupPath(raddr.Addr())
	if err != nil {
		return nil, opError("dial", "udp", nil, remote, err)
	}
	c, err := h.bindUDP(netip.AddrPortFrom(p.nic.Prefix().Addr(), 0), raddr)
	if err != nil {
		return nil, opError("dial", "udp", nil, remote, err)
	}
	return c, nil
}

func (h *Host) bindUDP(local, peer netip.AddrPort) (*udpConn, error) {
	h.udp.mu.Lock()
	defer h.udp.mu.Unlock()
	port := local.Port()
	if port == 0 {
		start := h.world.randUint32()
		for i := uint32(0); i < ephemeralCount; i++ {
			p := uint16(ephemeralFirst + (start+i)%ephemeralCount)
			if h.udp.socks[p] == nil {
				port = p
				break
			}
		}
		if port == 0 {
			return nil, syscallError("bind", syscall.EADDRINUSE)
		}
	} else if h.udp.socks[port] != nil {
		return nil, syscallError("bind", syscall.EADDRINUSE)
	}
	local = netip.AddrPortFrom(local.Addr(), port)
	c := &udpConn{
		host:     h,
		local:    local,
		peer:     peer,
		laddr:    net.UDPAddrFromAddrPort(local),
		readable: make(chan struct{}, 1),
		rd:       newDeadline(h.world.clock),
		wd:       newDeadline(h.world.clock),
	}
	if peer.IsValid() {
		c.raddr = net.UDPAddrFromAddrPort(peer)
	}
	h.udp.socks[port] = c
	return c, nil
}

// udpInput delivers a received datagram to the socket bound to its port.
// payload aliases the immutable frame.
func (h *Host) udpInput(src, dst netip.Addr, srcPort, dstPort uint16, payload []byte) {
	h.udp.mu.RLock()
	c := h.udp.socks[dstPort]
	h.udp.mu.RUnlock()
	if c == nil {
		return // netsim sends no ICMP port unreachable
	}
	from := netip.AddrPortFrom(src, srcPort)
	if a := c.local.Addr(); !a.IsUnspecified() && a != dst {
		return
	}
	if c.peer.IsValid() && c.peer != from {
		return
	}
	c.enqueue(from, payload)
}

// enqueue queues a received datagram unless the socket is closed or its
// buffer is full.
func (c *udpConn) enqueue(from netip.AddrPort, payload []byte) {
	c.mu.Lock()
	if !c.closed && len(c.queue) < udpQueueDatagrams && c.queued+len(payload) <= udpQueueBytes {
		c.queue = append(c.queue, datagram{from: from, data: payload})
		c.queued += len(payload)
		kick(c.readable)
	}
	c.mu.Unlock()
}

// ReadFrom reads one datagram; a datagram longer than b is truncated.
func (c *udpConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.readFrom(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

func (c *udpConn) readFrom(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, netip.AddrPort{}, c.opErr("read", net.ErrClosed)
		}
		if len(c.queue) > 0 {
			d := c.queue[0]
			c.queue[0] = datagram{}
			c.queue = c.queue[1:]
			c.queued -= len(d.data)
			c.mu.Unlock()
			return copy(b, d.data), d.from, nil
		}
		c.mu.Unlock()
		select {
		case <-c.readable:
		case <-c.rd.done():
			return 0, netip.AddrPort{}, c.opErr("read", deadlineError)
		case <-c.host.world.done:
			return 0, netip.AddrPort{}, c.opErr("read", ErrWorldClosed)
		}
	}
}

// WriteTo sends b as one datagram to addr, a *net.UDPAddr.
func (c *udpConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, c.opErr("write", &net.AddrError{Err: "not a *net.UDPAddr", Addr: addr.String()})
	}
	ap := ua.AddrPort()
	return c.writeTo(b, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

func (c *udpConn) writeTo(b []byte, to netip.AddrPort) (int, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, c.opErr("write", net.ErrClosed)
	}
	if isClosed(c.wd.done()) {
		return 0, c.opErr("write", deadlineError)
	}
	h := c.host
	if isGroupAddr(to.Addr()) {
		return c.writeGroup(b, to, h.groupNIC(c.local.Addr(), to.Addr()))
	}
	p, err := h.lookupPath(to.Addr())
	if err != nil {
		return 0, c.opErr("write", err)
	}
	if !p.local && p.nextHop == to.Addr() && isDirectedBroadcast(p.nic.Prefix(), p.nextHop) {
		return c.writeGroup(b, to, p.nic)
	}
	if ipv4HeaderLen+udpHeaderLen+len(b) > p.nic.seg.mtu {
		return 0, c.opErr("write", syscallError("sendto", syscall.EMSGSIZE))
	}
	src := sourceAddr(c.local.Addr(), p.nic)
	ip, resolved := h.header(p, src, to.Addr())
	c.encMu.Lock()
	frame := c.enc.encodeUDP(&ip, c.local.Port(), to.Port(), b)
	c.encMu.Unlock()
	h.send(p, frame, resolved)
	return len(b), nil
}

// Read reads a datagram from the connected peer.
func (c *udpConn) Read(b []byte) (int, error) {
	n, _, err := c.readFrom(b)
	return n, err
}

// Write sends b to the connected peer.
func (c *udpConn) Write(b []byte) (int, error) {
	if !c.peer.IsValid() {
		return 0, c.opErr("write", syscallError("write", syscall.EDESTADDRREQ))
	}
	return c.writeTo(b, c.peer)
}

// Close closes the socket; blocked reads return net.ErrClosed.
func (c *udpConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	h := c.host
	h.udp.mu.Lock()
	if h.udp.socks[c.local.Port()] == c {
		delete(h.udp.socks, c.local.Port())
	}
	h.udp.mu.Unlock()
	kick(c.readable)
	c.rd.stop()
	c.wd.stop()
	return nil
}

// LocalAddr returns the local *net.UDPAddr.
func (c *udpConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the connected peer's *net.UDPAddr, or nil.
func (c *udpConn) RemoteAddr() net.Addr {
	if c.raddr == nil {
		return nil
	}
	return c.raddr
}

// SetDeadline sets both deadlines against the World's clock.
func (c *udpConn) SetDeadline(t time.Time) error { c.rd.set(t); c.wd.set(t); return nil }

// SetReadDeadline sets the read deadline.
func (c *udpConn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline sets the write deadline.
func (c *udpConn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

func (c *udpConn) opErr(op string, err error) error {
	var remote net.Addr
	if c.raddr != nil {
		remote = c.raddr
	}
	return opError(op, "udp", c.laddr, remote, err)
}

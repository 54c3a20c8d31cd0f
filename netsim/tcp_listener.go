package netsim

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// tcpListener accepts TCP connections on a host's port: the net.Listener
// that Listen and ListenTransparent return. Safe for concurrent use.
type tcpListener struct {
	host  *Host
	addr  netip.AddrPort
	laddr *net.TCPAddr

	// transparent listeners accept connections addressed to any IP (see
	// ListenTransparent).
	transparent bool

	backlog int // the most handshakes in progress plus connections queued

	mu      sync.Mutex
	closed  bool
	pending int           // handshakes in progress
	queue   []*Conn       // established, waiting for Accept
	ready   chan struct{} // holds a token while queue may be non-empty
	done    chan struct{}
}

var _ net.Listener = (*tcpListener)(nil)

// Listen listens for TCP connections. network is "tcp" or "tcp4"; address is
// ":port" or "ip:port" with one of the host's addresses, and port 0 picks a
// free ephemeral port. The listener's connections are *Conn; closing it
// resets the connections not yet accepted. It is safe for concurrent use.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	return h.listen(network, address, false)
}

// ListenTransparent listens on ":port" for TCP connections addressed to ANY
// IPv4 address that reaches this host, as Linux's TPROXY does: frames that
// arrive for another host's address (because an ARP-spoofed cache or a route
// sent them here) are answered as that address. Accepted connections'
// LocalAddr is the address the client dialled, and everything sent on them
// leaves with that source address. It is the interception point of a
// transparent man in the middle; traffic to other ports is still forwarded
// or dropped as usual.
func (h *Host) ListenTransparent(network, address string) (net.Listener, error) {
	return h.listen(network, address, true)
}

func (h *Host) listen(network, address string, transparent bool) (net.Listener, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, opError("listen", network, nil, nil, net.UnknownNetworkError(network))
	}
	la := callerAddr{network, address}
	ap, err := h.parseBindAddr(address)
	if err != nil {
		return nil, opError("listen", network, nil, la, err)
	}
	if transparent && !ap.Addr().IsUnspecified() {
		return nil, opError("listen", network, nil, nil, &net.AddrError{Err: "a transparent listener takes \":port\"", Addr: address})
	}
	l := &tcpListener{host: h, transparent: transparent, backlog: h.listenBacklog(), ready: make(chan struct{}, 1), done: make(chan struct{})}
	h.tcp.mu.Lock()
	defer h.tcp.mu.Unlock()
	port := ap.Port()
	if port == 0 {
		var ok bool
		if port, ok = allocPort(h.tcp.ports, h.world.randUint32()); !ok {
			return nil, opError("listen", network, nil, la, syscallError("bind", syscall.EADDRINUSE))
		}
	} else if h.tcp.listeners[port] != nil {
		return nil, opError("listen", network, nil, la, syscallError("bind", syscall.EADDRINUSE))
	}
	l.addr = netip.AddrPortFrom(ap.Addr(), port)
	l.laddr = net.TCPAddrFromAddrPort(l.addr)
	h.tcp.listeners[port] = l
	h.tcp.ports[port]++
	return l, nil
}

// parseBindAddr parses ":port" or "ip:port" and checks the address is the
// host's own.
func (h *Host) parseBindAddr(address string) (netip.AddrPort, error) {
	hostPart, portPart, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip := netip.IPv4Unspecified()
	if hostPart != "" {
		if ip, err = netip.ParseAddr(hostPart); err != nil {
			return netip.AddrPort{}, &net.AddrError{Err: "netsim binds IP addresses only", Addr: address}
		}
		if !ip.IsUnspecified() && !h.isLocal(ip) {
			return netip.AddrPort{}, syscallError("bind", syscall.EADDRNOTAVAIL)
		}
	}
	port, err := net.LookupPort("tcp", portPart)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// Accept waits for the next connection whose handshake has completed.
func (l *tcpListener) Accept() (net.Conn, error) {
	for {
		if c := l.dequeue(); c != nil {
			return c, nil
		}
		select {
		case <-l.ready:
		case <-l.done:
			return nil, opError("accept", "tcp", l.laddr, nil, net.ErrClosed)
		case <-l.host.world.done:
			return nil, opError("accept", "tcp", l.laddr, nil, ErrWorldClosed)
		}
	}
}

// dequeue takes the oldest queued connection, or returns nil, passing the
// ready token on while more wait.
func (l *tcpListener) dequeue() *Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) == 0 {
		return nil
	}
	c := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	if len(l.queue) > 0 {
		l.signalReady()
	}
	return c
}

// signalReady leaves the ready token for a waiting Accept; l.mu is held.
func (l *tcpListener) signalReady() {
	select {
	case l.ready <- struct{}{}:
	default:
	}
}

// Close stops listening. Connections not yet accepted are reset.
func (l *tcpListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return opError("close", "tcp", l.laddr, nil, net.ErrClosed)
	}
	l.closed = true
	close(l.done)
	unaccepted := l.queue
	l.queue = nil
	l.mu.Unlock()
	t := &l.host.tcp
	t.mu.Lock()
	if t.listeners[l.addr.Port()] == l {
		delete(t.listeners, l.addr.Port())
		if t.ports[l.addr.Port()]--; t.ports[l.addr.Port()] <= 0 {
			delete(t.ports, l.addr.Port())
		}
	}
	t.mu.Unlock()
	for _, c := range unaccepted {
		c.abort()
	}
	return nil
}

// Addr returns the listening *net.TCPAddr.
func (l *tcpListener) Addr() net.Addr { return l.laddr }

// handleSYN starts a passive open: it registers a connection in SYN-RECEIVED
// and answers SYN-ACK. SYNs beyond the backlog are dropped.
func (l *tcpListener) handleSYN(key connKey, seg *tcpSegment) {
	l.mu.Lock()
	if l.closed || len(l.queue)+l.pending >= l.backlog {
		l.mu.Unlock()
		return
	}
	l.pending++
	l.mu.Unlock()
	h := l.host
	p, err := h.lookupPath(key.remote.Addr())
	if err != nil {
		l.handshakeDone()
		return
	}
	c := h.newConn(key, p, stateSynReceived)
	c.listener = l
	c.negotiateLocked(seg)
	c.rcvNxt = seg.seq + 1
	h.tcp.mu.Lock()
	if h.tcp.conns[key] != nil {
		h.tcp.mu.Unlock()
		l.handshakeDone()
		return
	}
	h.tcp.conns[key] = c
	h.tcp.ports[key.local.Port()]++
	h.tcp.mu.Unlock()
	c.mu.Lock()
	c.synSentAt = h.world.clock.Now()
	c.mu.Unlock()
	c.sendSynAck()
	c.mu.Lock()
	c.synTimer = h.world.clock.AfterFunc(synRetryFirst, c.retrySynAck)
	c.mu.Unlock()
}

// retrySynAck re-sends an unanswered SYN-ACK with exponential backoff and,
// after synMaxTries, drops the half-open connection and frees its backlog
// slot, so SYNs that are never completed (a spoofed flood, a peer that went
// away) cannot fill the backlog for good.
func (c *Conn) retrySynAck() {
	c.mu.Lock()
	if c.state != stateSynReceived || c.host.world.closed() {
		c.mu.Unlock()
		return
	}
	c.synTries++
	if c.synTries >= synMaxTries {
		c.state = stateClosed
		c.synTimer = nil
		closeOnce(c.established)
		c.mu.Unlock()
		c.listener.handshakeDone()
		c.release()
		return
	}
	c.synTimer = c.host.world.clock.AfterFunc(synRetryFirst<<c.synTries, c.retrySynAck)
	c.synSentAt = time.Time{} // Karn: no RTT sample from a retransmission
	c.mu.Unlock()
	c.sendSynAck()
}

// sendSynAck answers the peer's SYN, offering window scaling only when the
// peer did.
func (c *Conn) sendSynAck() {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	hdr := c.synHeaderLocked(flagSYN | flagACK)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
}

// synHeaderLocked builds a SYN or SYN-ACK: sequence number iss, the MSS our
// segment allows, the unscaled window, and the window-scale option.
func (c *Conn) synHeaderLocked(flags tcpFlags) tcpHeader {
	hdr := tcpHeader{
		srcPort: c.key.local.Port(),
		dstPort: c.key.remote.Port(),
		seq:     c.iss,
		ack:     c.rcvNxt,
		flags:   flags,
		window:  uint16(min(c.rcvCap, 0xffff)),
		mss:     uint16(c.path.nic.seg.mtu - ipv4HeaderLen - tcpHeaderLen),
		wscale:  int(c.rcvWScale),
	}
	if flags&flagACK != 0 && c.sndWScale == 0 && c.rcvWScale == 0 {
		hdr.wscale = -1
	}
	c.rcvAdvRight = c.rcvNxt + uint32(hdr.window)
	return hdr
}

// enqueue hands an established connection to Accept; false means the
// listener has closed.
func (l *tcpListener) enqueue(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	if l.closed {
		return false
	}
	l.queue = append(l.queue, c) // pending + queued never exceed the backlog
	l.signalReady()
	return true
}

func (l *tcpListener) handshakeDone() {
	l.mu.Lock()
	l.pending--
	l.mu.Unlock()
}

// Dial connects to address on the named network; see DialContext.
func (h *Host) Dial(network, address string) (net.Conn, error) {
	return h.DialContext(context.Background(), network, address)
}

// DialContext connects to address ("ip:port") on network "tcp"/"tcp4" or
// "udp"/"udp4". netsim resolves no names: resolve them first (with a DNS
// actor). A TCP dial fails with "connection refused" when the port is closed,
// retransmits its SYN when unanswered, and gives up when ctx ends or after
// five tries with "connection timed out"; the connection is a *Conn. A UDP
// "dial" binds a socket that exchanges datagrams with address only, like a
// connected *net.UDPConn, with ListenPacket's limits.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	raddr, err := netip.ParseAddrPort(address)
	if err != nil || !raddr.Addr().Is4() {
		return nil, opError("dial", network, nil, nil, &net.AddrError{Err: "netsim dials IPv4 addresses only (resolve names first)", Addr: address})
	}
	switch network {
	case "tcp", "tcp4":
		return h.dialTCP(ctx, raddr)
	case "udp", "udp4":
		return h.dialUDP(raddr)
	}
	return nil, opError("dial", network, nil, nil, net.UnknownNetworkError(network))
}

func (h *Host) dialTCP(ctx context.Context, raddr netip.AddrPort) (net.Conn, error) {
	remote := net.TCPAddrFromAddrPort(raddr)
	p, err := h.lookupPath(raddr.Addr())
	if err != nil {
		return nil, opError("dial", "tcp", nil, remote, err)
	}
	h.tcp.mu.Lock()
	port, ok := allocPort(h.tcp.ports, h.world.randUint32())
	if !ok {
		h.tcp.mu.Unlock()
		return nil, opError("dial", "tcp", nil, remote, syscallError("connect", syscall.EADDRNOTAVAIL))
	}
	key := connKey{local: netip.AddrPortFrom(p.nic.Prefix().Addr(), port), remote: raddr}
	c := h.newConn(key, p, stateSynSent)
	h.tcp.conns[key] = c
	h.tcp.ports[port]++
	h.tcp.mu.Unlock()

	c.sendSyn()
	// Dial errors carry no Source, as package net's do ("dial tcp
	// 10.0.0.2:81: connect: connection refused"): there Source is the local
	// address the caller asked for, and Dial asks for none.
	select {
	case <-c.established:
	case <-ctx.Done():
		c.abandon()
		return nil, opError("dial", "tcp", nil, remote, mapContextErr(ctx.Err()))
	case <-h.world.done:
		c.abandon()
		return nil, opError("dial", "tcp", nil, remote, ErrWorldClosed)
	}
	c.mu.Lock()
	err = c.err
	c.mu.Unlock()
	if err != nil {
		c.release()
		return nil, opError("dial", "tcp", nil, remote, err)
	}
	return c, nil
}

// sendSyn sends (or re-sends) the SYN and arms the retransmission timer with
// exponential backoff.
func (c *Conn) sendSyn() {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	if c.state != stateSynSent {
		c.mu.Unlock()
		return
	}
	c.synTries++
	if c.synTries > synMaxTries {
		c.err = syscallError("connect", syscall.ETIMEDOUT)
		c.state = stateClosed
		closeOnce(c.established)
		c.mu.Unlock()
		return
	}
	hdr := c.synHeaderLocked(flagSYN)
	c.synSentAt = time.Time{} // Karn: no RTT sample from a retransmission
	if c.synTries == 1 {
		c.synSentAt = c.host.world.clock.Now()
	}
	c.synTimer = c.host.world.clock.AfterFunc(synRetryFirst<<(c.synTries-1), c.sendSyn)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
}

// abandon drops a connection whose dial was cancelled.
func (c *Conn) abandon() {
	c.mu.Lock()
	c.state = stateClosed
	c.mu.Unlock()
	c.release()
}

// mapContextErr turns a context's deadline into the timeout error package
// net uses, so callers can test it with net.Error.Timeout.
func mapContextErr(err error) error {
	if err == context.DeadlineExceeded {
		return deadlineError
	}
	return err
}

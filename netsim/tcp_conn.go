package netsim

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

type tcpState uint8

const (
	stateSynSent tcpState = iota
	stateSynReceived
	stateEstablished
	stateClosed // reset, refused, or fully closed
)

const (
	delayedACKTimeout = 40 * time.Millisecond
	synRetryFirst     = time.Second
	synMaxTries       = 5
)

// Conn is a TCP stream between two hosts: a three-way handshake, MSS-sized
// segments with consistent sequence and acknowledgement numbers, a receive
// window that stalls a writer whose peer stops reading, FIN half-close,
// RST, and deadlines. Lost segments are recovered as a real stack recovers
// them (see tcp_retransmit.go): retransmission on timeout and on three
// duplicate ACKs, zero-window probes, and an abort with ETIMEDOUT once the
// peer has acknowledged nothing for TCPUserTimeout. Conn implements
// net.Conn; it is safe for concurrent use.
type Conn struct {
	host         *Host
	key          connKey
	laddr, raddr *net.TCPAddr
	path         path
	mss          int          // largest payload we send
	listener     *tcpListener // for passive opens: where the handshake delivers

	readMu  sync.Mutex // serializes Read calls
	writeMu sync.Mutex // serializes Write calls, keeping each Write's bytes contiguous
	txMu    sync.Mutex // orders transmissions: held from sequence assignment to send
	enc     frameEncoder
	txBatch [][]byte // frames of one Write batch, reused; guarded by txMu

	mu    sync.Mutex
	state tcpState
	err   error // terminal error: reset or refused

	// send side
	iss       uint32
	sndUna    uint32
	sndNxt    uint32
	sndRight  uint32 // right edge of the peer's advertised window
	sndWScale uint8
	finSent   bool
	finAcked  bool
	synTries  int
	synSentAt time.Time // when the SYN or SYN-ACK went out; zero once retransmitted

	// loss recovery (tcp_retransmit.go)
	sndRing      sendRing // unacknowledged stream bytes; guarded by txMu
	rtxScratch   []byte   // a retransmitted segment's payload; guarded by txMu
	rtt          rtoEstimator
	rttTiming    bool      // a segment is being timed: rttSeq sent at rttStart
	rttSeq       uint32    // first sequence number of the timed segment
	rttStart     time.Time // when it was sent
	rtxTimer     Timer     // the one retransmission / persist timer
	rtxTimerAt   time.Time // when rtxTimer fires
	rtxGen       uint64    // arming count; a stopped timer that fires anyway sees it changed
	rtxDeadline  time.Time // when retransmission or a probe is due; zero when neither is
	rtxShift     int       // exponential backoff applied to the RTO
	rtxStart     time.Time // first timeout since the peer last acknowledged; zero if none
	dupAcks      int       // duplicate ACKs in a row
	lastAckWnd   uint16    // the window field of the last ACK processed, to tell duplicates
	inRecovery   bool      // retransmitting after loss until recoverSeq is acknowledged
	recoverSeq   uint32    // sndNxt when recovery began (RFC 6582's "recover")
	writeWaiting bool      // a Write is blocked on a closed window

	// receive side
	rcvNxt      uint32
	rcvQueue    []rcvChunk // in-order payloads; rcvQueue[rcvHead:] not yet read
	rcvHead     int
	rcvQueued   int
	ooo         []oooSegment // out-of-order segments, sorted by seq
	oooBytes    int
	rcvCap      int
	rcvWScale   uint8
	rcvAdvRight uint32 // right edge of the window we last advertised
	finRcvd     bool
	ackPending  bool
	// readerNotify: data or a FIN arrived since the reader was last woken.
	// The receive loop wakes the reader once per batch of frames (see
	// receiver.notifyReaders), not once per segment.
	readerNotify bool
	ackTimer     Timer
	synTimer     Timer

	// application side
	closed      bool // Close or Abort called
	readClosed  bool
	writeClosed bool

	established chan struct{} // closed when the handshake ends, either way
	readable    chan struct{} // kicked when Read may make progress
	writable    chan struct{} // kicked when Write may make progress
	rd, wd      *deadline
}

type oooSegment struct {
	seq   uint32
	data  []byte
	fin   bool
	frame []byte // recyclable frame data aliases, or nil
}

// rcvChunk is received payload waiting to be read, and the recyclable
// frame it aliases (nil when the frame is not the connection's alone).
type rcvChunk struct {
	data  []byte
	frame []byte
}

var _ net.Conn = (*Conn)(nil)

func (h *Host) newConn(key connKey, p path, state tcpState) *Conn {
	mtu := p.nic.seg.mtu
	c := &Conn{
		host:        h,
		key:         key,
		laddr:       net.TCPAddrFromAddrPort(key.local),
		raddr:       net.TCPAddrFromAddrPort(key.remote),
		path:        p,
		mss:         mtu - ipv4HeaderLen - tcpHeaderLen,
		state:       state,
		iss:         h.world.randUint32(),
		rcvCap:      h.cfg.ReceiveBuffer,
		established: make(chan struct{}),
		readable:    make(chan struct{}, 1),
		writable:    make(chan struct{}, 1),
		rd:          newDeadline(h.world.clock),
		wd:          newDeadline(h.world.clock),
	}
	for c.rcvCap>>c.rcvWScale > 0xffff {
		c.rcvWScale++
	}
	c.sndUna = c.iss
	c.sndNxt = c.iss + 1 // the SYN
	return c
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// LocalAddr returns the local *net.TCPAddr.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the remote *net.TCPAddr.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both deadlines; see net.Conn. Deadlines are read against
// the World's clock.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; see net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline sets the write deadline; see net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

func (c *Conn) opErr(op string, err error) error {
	return opError(op, "tcp", c.laddr, c.raddr, err)
}

// Read reads stream data. It returns io.EOF once the peer's FIN has been
// received and every byte before it read, a timeout net.Error when the read
// deadline passes, "connection reset by peer" after a RST, "connection timed
// out" (syscall.ETIMEDOUT) once retransmissions went unanswered for
// TCPUserTimeout, and net.ErrClosed after Close.
func (c *Conn) Read(b []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	// An expired deadline fails the call even when data is queued, as
	// package net and net.Pipe do (net.Conn: "fail instead of blocking").
	if isClosed(c.rd.done()) && !c.isClosed() {
		return 0, c.opErr("read", deadlineError)
	}
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return 0, c.opErr("read", net.ErrClosed)
		case c.rcvQueued > 0 && len(b) > 0:
			n := c.dequeueLocked(b)
			update := c.windowUpdateDueLocked()
			c.mu.Unlock()
			if update {
				c.sendControl(flagACK)
			}
			return n, nil
		case len(b) == 0 && c.err == nil:
			c.mu.Unlock()
			return 0, nil
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return 0, c.opErr("read", err)
		case c.finRcvd || c.readClosed:
			c.mu.Unlock()
			return 0, io.EOF
		}
		c.mu.Unlock()
		select {
		case <-c.readable:
		case <-c.rd.done():
			return 0, c.opErr("read", deadlineError)
		case <-c.host.world.done:
			return 0, c.opErr("read", ErrWorldClosed)
		}
	}
}

// dequeueLocked copies queued payload into b.
func (c *Conn) dequeueLocked(b []byte) int {
	n := 0
	for n < len(b) && c.rcvHead < len(c.rcvQueue) {
		head := &c.rcvQueue[c.rcvHead]
		m := copy(b[n:], head.data)
		n += m
		if m == len(head.data) {
			if head.frame != nil {
				c.host.world.frames.put(head.frame)
			}
			*head = rcvChunk{}
			c.rcvHead++
		} else {
			head.data = head.data[m:]
		}
	}
	switch {
	case c.rcvHead == len(c.rcvQueue): // reuse the array from the start
		c.rcvQueue, c.rcvHead = c.rcvQueue[:0], 0
	case c.rcvHead >= 64 && c.rcvHead > len(c.rcvQueue)/2: // a reader that never drains
		m := copy(c.rcvQueue, c.rcvQueue[c.rcvHead:])
		clear(c.rcvQueue[m:])
		c.rcvQueue, c.rcvHead = c.rcvQueue[:m], 0
	}
	c.rcvQueued -= n
	return n
}

// advertisedWindowLocked returns the window field to send and records the
// right edge it advertises. The window is the buffer space not taken by
// unread in-order data: out-of-order data already lies inside it, so
// holding some does not shrink the window, and the duplicate ACKs sent
// for it carry an unchanged window, as fast retransmit requires.
func (c *Conn) advertisedWindowLocked() uint16 {
	free := max(c.rcvCap-c.rcvQueued, 0)
	w := free >> c.rcvWScale
	if w > 0xffff {
		w = 0xffff
	}
	c.rcvAdvRight = c.rcvNxt + uint32(w<<c.rcvWScale)
	return uint16(w)
}

// windowUpdateDueLocked reports whether reading has opened the window far
// enough past what was last advertised that the peer should hear of it. A
// writer stalled on a full window is always released: when the reader has
// drained the buffer the window has grown by the whole buffer.
func (c *Conn) windowUpdateDueLocked() bool {
	if c.state != stateEstablished || c.finRcvd {
		return false
	}
	free := max(c.rcvCap-c.rcvQueued, 0)
	right := c.rcvNxt + uint32((free>>c.rcvWScale)<<c.rcvWScale)
	return int32(right-c.rcvAdvRight) >= int32(max(c.rcvCap/4, 1))
}

// Write writes b to the stream in MSS-sized segments, blocking while the
// peer's receive window is full; the connection keeps a copy of the bytes
// in flight until the peer acknowledges them, to retransmit them. It
// returns a timeout net.Error when the write deadline passes (with the
// count of bytes already sent), "broken pipe" after CloseWrite, "connection
// reset by peer" after a RST, "connection timed out" after the
// retransmissions were abandoned, and net.ErrClosed after Close.
func (c *Conn) Write(b []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// An expired deadline fails the call before anything is sent, even
	// when the peer's window is open, as package net does.
	if isClosed(c.wd.done()) && !c.isClosed() {
		return 0, c.opErr("write", deadlineError)
	}
	written := 0
	for written < len(b) {
		c.txMu.Lock()
		c.mu.Lock()
		var err error
		switch {
		case c.closed:
			err = net.ErrClosed
		case c.err != nil:
			err = c.err
			if errno := syscall.Errno(0); errors.As(err, &errno) {
				// c.err names the read side; a kernel fails write(2).
				err = syscallError("write", errno)
			}
		case c.writeClosed:
			err = syscallError("write", syscall.EPIPE)
		}
		if err != nil {
			c.mu.Unlock()
			c.txMu.Unlock()
			return written, c.opErr("write", err)
		}
		avail := int(int32(c.sndRight - c.sndNxt))
		if avail <= 0 {
			c.writeWaiting = true
			if c.sndUna == c.sndNxt {
				c.armPersistLocked()
			}
			c.mu.Unlock()
			c.txMu.Unlock()
			select {
			case <-c.writable:
				continue
			case <-c.wd.done():
				c.stopWaitingForWindow()
				return written, c.opErr("write", deadlineError)
			case <-c.host.world.done:
				return written, c.opErr("write", ErrWorldClosed)
			}
		}
		c.writeWaiting = false
		// Reserve up to a batch of segments' worth of sequence space, then
		// encode and send them without holding mu, so ACKs for this
		// connection are processed meanwhile.
		n := min(len(b)-written, avail, maxBatchSegments*c.mss)
		hdr := tcpHeader{
			srcPort: c.key.local.Port(),
			dstPort: c.key.remote.Port(),
			seq:     c.sndNxt,
			ack:     c.rcvNxt,
			flags:   flagACK,
			window:  c.advertisedWindowLocked(),
			wscale:  -1,
		}
		c.noteSendLocked(hdr.seq)
		c.sndNxt += uint32(n)
		c.ackPending = false
		una := c.sndUna
		c.mu.Unlock()
		c.sndRing.store(una, hdr.seq, b[written:written+n])
		c.transmitDataLocked(&hdr, b[written:written+n], written+n == len(b))
		c.txMu.Unlock()
		written += n
	}
	return written, nil
}

// maxBatchSegments bounds how many segments one Write sends as a batch.
const maxBatchSegments = 64

// transmitDataLocked sends data as MSS-sized segments starting at hdr.seq,
// all carrying hdr's acknowledgement and window, with PSH on the last one
// when push is set. The caller holds txMu.
//
// It segments the way Linux's generic segmentation offload does: gopacket
// encodes the batch's first frame, and every further segment starts as a
// copy of that header with its IPv4 length and ID, TCP sequence number,
// flags and checksums rewritten.
func (c *Conn) transmitDataLocked(hdr *tcpHeader, data []byte, push bool) {
	h := c.host
	ip, resolved := h.header(c.path, c.key.local.Addr(), c.key.remote.Addr())
	frames := c.txBatch[:0]
	var template []byte
	for off := 0; off < len(data); off += c.mss {
		end := min(off+c.mss, len(data))
		seg := *hdr
		seg.seq = hdr.seq + uint32(off)
		if push && end == len(data) {
			seg.flags |= flagPSH
		}
		var frame []byte
		if template == nil || dataHeaderLen+end-off < minFrameLen {
			if off > 0 {
				ip.id = uint16(h.ipID.Add(1))
			}
			frame = c.enc.encodeTCP(&h.world.frames, &ip, &seg, data[off:end])
			template = frame[:dataHeaderLen]
		} else {
			frame = segmentFromTemplate(&h.world.frames, template, uint16(h.ipID.Add(1)), &seg, data[off:end])
		}
		frames = append(frames, frame)
	}
	h.sendBatch(c.path, frames, resolved)
	clear(frames)
	c.txBatch = frames[:0]
}

// transmitLocked builds and sends one segment. The caller holds txMu.
func (c *Conn) transmitLocked(hdr *tcpHeader, payload []byte) {
	ip, resolved := c.host.header(c.path, c.key.local.Addr(), c.key.remote.Addr())
	c.host.send(c.path, c.enc.encodeTCP(&c.host.world.frames, &ip, hdr, payload), resolved)
}

// sendControl sends a segment without payload carrying the current
// acknowledgement and window, plus flags (FIN consumes a sequence number).
func (c *Conn) sendControl(flags tcpFlags) {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	hdr := c.controlHeaderLocked(flags)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
}

func (c *Conn) controlHeaderLocked(flags tcpFlags) tcpHeader {
	hdr := tcpHeader{
		srcPort: c.key.local.Port(),
		dstPort: c.key.remote.Port(),
		seq:     c.sndNxt,
		ack:     c.rcvNxt,
		flags:   flags,
		window:  c.advertisedWindowLocked(),
		wscale:  -1,
	}
	if flags&flagFIN != 0 {
		c.noteSendLocked(c.sndNxt)
		c.sndNxt++
		c.finSent = true
	}
	c.ackPending = false
	return hdr
}

// Close closes the connection. With unread data in the receive buffer it
// aborts with RST, as Linux does; otherwise it sends FIN and the connection
// lingers until the peer's FIN. Further calls return net.ErrClosed.
func (c *Conn) Close() error {
	c.txMu.Lock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.txMu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	var hdr tcpHeader
	send, reset := false, false
	switch {
	case c.state != stateEstablished:
	case c.rcvQueued > 0 || c.oooBytes > 0:
		hdr = c.controlHeaderLocked(flagRST | flagACK)
		send, reset = true, true
		c.state = stateClosed
	case !c.finSent:
		hdr = c.controlHeaderLocked(flagFIN | flagACK)
		send = true
	}
	if reset || c.state == stateClosed || (c.finRcvd && c.finAcked) {
		c.state = stateClosed
	}
	done := c.state == stateClosed
	c.mu.Unlock()
	if send {
		c.transmitLocked(&hdr, nil)
	}
	c.txMu.Unlock()
	if done {
		c.release()
	}
	c.wakeAll()
	c.rd.stop()
	c.wd.stop()
	return nil
}

// CloseWrite shuts down the sending side: the peer reads io.EOF once it has
// read everything sent before.
func (c *Conn) CloseWrite() error {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.writeClosed = true
	if c.finSent || c.state != stateEstablished {
		c.mu.Unlock()
		return nil
	}
	hdr := c.controlHeaderLocked(flagFIN | flagACK)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
	kick(c.writable)
	return nil
}

// CloseRead shuts down the receiving side: Read returns io.EOF and data
// that arrives later is discarded.
func (c *Conn) CloseRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opErr("close", net.ErrClosed)
	}
	c.readClosed = true
	c.rcvQueue, c.rcvHead, c.rcvQueued = nil, 0, 0
	kick(c.readable)
	return nil
}

// Abort resets the connection at once, as close(2) on a socket with
// SO_LINGER set to zero does: it sends RST instead of FIN, drops whatever is
// queued either way, and releases the connection. The peer's Read and Write
// then fail with "connection reset by peer" (syscall.ECONNRESET). Abort
// closes the Conn as Close does: blocked calls and later ones return
// net.ErrClosed, and so does a second Abort or Close. On a connection the
// peer has already reset, or that timed out, it sends nothing.
func (c *Conn) Abort() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	c.mu.Unlock()
	c.abort()
	c.wakeAll()
	c.rd.stop()
	c.wd.stop()
	return nil
}

// isClosed reports whether Close or Abort has been called.
func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Conn) wakeAll() {
	kick(c.readable)
	kick(c.writable)
}

// release removes the connection from its host and stops its timers.
func (c *Conn) release() {
	c.host.tcp.remove(c)
	c.stopTimers()
}

func (c *Conn) stopTimers() {
	c.mu.Lock()
	if c.ackTimer != nil {
		c.ackTimer.Stop()
		c.ackTimer = nil
	}
	if c.synTimer != nil {
		c.synTimer.Stop()
		c.synTimer = nil
	}
	c.stopRetransmitTimerLocked()
	c.mu.Unlock()
	c.rd.stop()
	c.wd.stop()
}

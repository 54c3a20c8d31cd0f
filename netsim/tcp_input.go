package netsim

import (
	"syscall"
	"time"
)

// input processes a segment for this connection on its NIC's receive
// goroutine. Replies are sent after c.mu is released.
func (c *Conn) input(seg *tcpSegment) {
	c.mu.Lock()
	if seg.flags&flagRST != 0 {
		c.inputReset(seg)
		return
	}
	switch c.state {
	case stateSynSent:
		c.inputSynSent(seg)
		return
	case stateSynReceived:
		if seg.flags&flagSYN != 0 { // our SYN-ACK was lost or the SYN repeated
			c.synSentAt = time.Time{} // Karn: no RTT sample from a resent SYN-ACK
			c.mu.Unlock()
			c.sendSynAck()
			return
		}
		if seg.flags&flagACK == 0 || seg.ack != c.iss+1 {
			c.mu.Unlock()
			return
		}
		c.state = stateEstablished
		c.sndUna = seg.ack
		c.sndRight = seg.ack + uint32(seg.window)<<c.sndWScale
		c.sampleHandshakeRTTLocked()
		if c.synTimer != nil {
			c.synTimer.Stop()
			c.synTimer = nil
		}
		close(c.established)
		c.mu.Unlock()
		if !c.listener.enqueue(c) {
			c.abort()
			return
		}
		c.mu.Lock()
	case stateClosed:
		c.mu.Unlock()
		return
	}
	c.inputEstablished(seg)
}

// inputReset handles an RST. c.mu is held on entry and released.
func (c *Conn) inputReset(seg *tcpSegment) {
	if c.state == stateSynSent {
		if seg.flags&flagACK == 0 || seg.ack != c.iss+1 {
			c.mu.Unlock()
			return
		}
		c.err = syscallError("connect", syscall.ECONNREFUSED)
	} else {
		// Accept a reset anywhere in the receive window (RFC 793); a
		// blind attacker must guess the sequence number.
		if int32(seg.seq-c.rcvNxt) < 0 || int32(seg.seq-c.rcvNxt) > int32(c.rcvCap) {
			c.mu.Unlock()
			return
		}
		c.err = syscallError("read", syscall.ECONNRESET)
	}
	wasOpen := c.state != stateClosed
	halfOpen := c.state == stateSynReceived
	if c.state == stateSynSent || c.state == stateSynReceived {
		closeOnce(c.established)
	}
	c.state = stateClosed
	c.mu.Unlock()
	if halfOpen {
		// Give back the backlog slot handleSYN took; without this every
		// reset handshake shrank the backlog until the listener took no
		// more connections.
		c.listener.handshakeDone()
	}
	if wasOpen {
		c.release()
		c.wakeAll()
	}
}

// inputSynSent completes an active open. c.mu is held on entry and released.
func (c *Conn) inputSynSent(seg *tcpSegment) {
	if seg.flags&(flagSYN|flagACK) != flagSYN|flagACK || seg.ack != c.iss+1 {
		c.mu.Unlock()
		return
	}
	c.negotiateLocked(seg)
	c.rcvNxt = seg.seq + 1
	c.sndUna = seg.ack
	c.sndRight = seg.ack + uint32(seg.window) // windows in SYNs are never scaled
	c.state = stateEstablished
	c.sampleHandshakeRTTLocked()
	if c.synTimer != nil {
		c.synTimer.Stop()
		c.synTimer = nil
	}
	close(c.established)
	c.mu.Unlock()
	c.sendControl(flagACK)
}

// negotiateLocked applies the peer's SYN options: the MSS we may send and
// window scaling, which is on only when both sides offered it.
func (c *Conn) negotiateLocked(seg *tcpSegment) {
	if seg.mss != 0 {
		c.mss = min(c.mss, int(seg.mss))
	} else {
		c.mss = min(c.mss, 536) // RFC 1122 default
	}
	if seg.wscale >= 0 {
		c.sndWScale = uint8(seg.wscale)
	} else {
		c.sndWScale, c.rcvWScale = 0, 0
	}
}

// inputEstablished handles ACKs, data and FIN. c.mu is held on entry and
// released.
func (c *Conn) inputEstablished(seg *tcpSegment) {
	retransmit := false
	if seg.flags&flagACK != 0 {
		retransmit = c.processACKLocked(seg)
		if seqLEQ(seg.ack, c.sndNxt) {
			if right := seg.ack + uint32(seg.window)<<c.sndWScale; seqLT(c.sndRight, right) {
				c.sndRight = right
				kick(c.writable)
			}
			c.afterWindowUpdateLocked()
		}
	}
	hasData := len(seg.payload) > 0 || seg.flags&flagFIN != 0
	if len(seg.payload) > 0 && c.closed && seqLT(c.rcvNxt, seg.seq+uint32(len(seg.payload))) {
		// New data for a socket the application closed: abort (RFC 1122
		// 4.2.2.13). A retransmission of data already received is only
		// acknowledged below.
		hdr := c.controlHeaderLocked(flagRST | flagACK)
		c.state = stateClosed
		c.mu.Unlock()
		c.txMu.Lock()
		c.transmitLocked(&hdr, nil)
		c.txMu.Unlock()
		c.release()
		c.wakeAll()
		return
	}
	ackNow := false
	if hasData {
		ackNow = c.acceptDataLocked(seg)
	} else if seg.seq == c.rcvNxt-1 {
		// The byte before the next expected one, without data: a
		// zero-window probe, a keepalive, or a repeated SYN-ACK whose ACK
		// was lost. They want an ACK (RFC 793, RFC 1122 4.2.2.17). An
		// older pure ACK, reordered on the way, is taken silently, as
		// Linux does: answering it would count as a duplicate ACK.
		ackNow = true
	}
	done := c.finRcvd && c.finSent && c.finAcked
	if done {
		c.state = stateClosed
	}
	if ackNow {
		c.ackPending = true // paid by sendACKIfPending or an earlier segment
	}
	startTimer := !ackNow && c.ackPending && c.ackTimer == nil
	if startTimer {
		c.ackTimer = c.host.world.clock.AfterFunc(delayedACKTimeout, c.delayedACK)
	}
	c.mu.Unlock()
	if ackNow {
		c.sendACKIfPending()
	}
	if retransmit {
		c.retransmitHead()
	}
	if done {
		c.release()
	}
}

// sendACKIfPending sends a pure ACK unless a segment built since the
// acknowledgement fell due already carried it (Write, Close and CloseWrite
// clear ackPending). Without the check, an ACK for the peer's FIN that
// waited for txMu behind a Write went out after our own FIN, acknowledging
// nothing new, and reached a peer that had already released the
// connection, which answered it with a RST.
func (c *Conn) sendACKIfPending() {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	if !c.ackPending {
		c.mu.Unlock()
		return
	}
	hdr := c.controlHeaderLocked(flagACK)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
}

// acceptDataLocked queues in-order payload, holds out-of-order payload, and
// reports whether an immediate ACK is due (a FIN, a gap, or a duplicate).
func (c *Conn) acceptDataLocked(seg *tcpSegment) (ackNow bool) {
	seq, data, fin, frame := seg.seq, seg.payload, seg.flags&flagFIN != 0, seg.frame
	if seqLT(seq, c.rcvNxt) { // retransmitted or overlapping: keep only the new part
		skip := c.rcvNxt - seq
		if int(skip) >= len(data) {
			if !fin || seq+uint32(len(data)) != c.rcvNxt {
				return true // a pure duplicate
			}
			data = nil
		} else {
			data = data[skip:]
		}
		seq = c.rcvNxt
	}
	if seq != c.rcvNxt {
		seg.kept = c.holdLocked(oooSegment{seq: seq, data: data, fin: fin, frame: frame})
		return true
	}
	var fin1 bool
	seg.kept, fin1 = c.appendLocked(data, fin, frame)
	// Filling a gap is acknowledged at once (RFC 5681 section 4.2), so a
	// sender in recovery learns of it without waiting for a delayed ACK.
	ackNow = fin1 || len(c.ooo) > 0
	for len(c.ooo) > 0 && seqLEQ(c.ooo[0].seq, c.rcvNxt) {
		o := c.ooo[0]
		c.ooo[0] = oooSegment{}
		c.ooo = c.ooo[1:]
		c.oooBytes -= len(o.data)
		kept := false
		if skip := c.rcvNxt - o.seq; int(skip) <= len(o.data) && (int(skip) < len(o.data) || o.fin) {
			var finNow bool
			kept, finNow = c.appendLocked(o.data[skip:], o.fin, o.frame)
			ackNow = ackNow || finNow
		}
		if !kept && o.frame != nil {
			c.host.world.frames.put(o.frame)
		}
	}
	return ackNow
}

// appendLocked queues in-order data and a FIN. It reports whether it kept
// data (and so frame, which the queue recycles once read) and whether a
// FIN needs an immediate ACK.
func (c *Conn) appendLocked(data []byte, fin bool, frame []byte) (kept, finAck bool) {
	if c.finRcvd {
		return false, false
	}
	if len(data) > 0 {
		c.rcvNxt += uint32(len(data))
		if !c.readClosed {
			c.rcvQueue = append(c.rcvQueue, rcvChunk{data: data, frame: frame})
			c.rcvQueued += len(data)
			kept = true
		}
		c.ackPending = true
		c.readerNotify = true
	}
	if fin {
		c.rcvNxt++
		c.finRcvd = true
		c.readerNotify = true
		return kept, true
	}
	return kept, false
}

// holdLocked keeps an out-of-order segment until the gap before it fills,
// if it lies within the receive buffer's free space, and reports whether
// it kept it. Segments beyond are dropped; the sender resends them.
func (c *Conn) holdLocked(o oooSegment) bool {
	if int32(o.seq+uint32(len(o.data))-c.rcvNxt) > int32(c.rcvCap-c.rcvQueued) {
		return false
	}
	i := 0
	for i < len(c.ooo) && seqLT(c.ooo[i].seq, o.seq) {
		i++
	}
	if i < len(c.ooo) && c.ooo[i].seq == o.seq && len(c.ooo[i].data) >= len(o.data) {
		return false
	}
	c.ooo = append(c.ooo, oooSegment{})
	copy(c.ooo[i+1:], c.ooo[i:])
	c.ooo[i] = o
	c.oooBytes += len(o.data)
	return true
}

// delayedACK acknowledges data that no outgoing segment has carried an ACK
// for since it arrived.
func (c *Conn) delayedACK() {
	c.mu.Lock()
	c.ackTimer = nil
	due := c.ackPending && c.state == stateEstablished && !c.host.world.closed()
	c.mu.Unlock()
	if due {
		c.sendControl(flagACK)
	}
}

// abort resets the connection and releases it.
func (c *Conn) abort() {
	c.txMu.Lock()
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		c.txMu.Unlock()
		return
	}
	hdr := c.controlHeaderLocked(flagRST | flagACK)
	c.state = stateClosed
	c.err = syscallError("read", syscall.ECONNRESET)
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
	c.txMu.Unlock()
	c.release()
	c.wakeAll()
}

func closeOnce(ch chan struct{}) {
	if !isClosed(ch) {
		close(ch)
	}
}

// sampleHandshakeRTTLocked takes the connection's first RTT sample from
// its SYN or SYN-ACK, unless that was retransmitted (Karn's algorithm).
func (c *Conn) sampleHandshakeRTTLocked() {
	if !c.synSentAt.IsZero() {
		c.rtt.sample(c.host.world.clock.Now().Sub(c.synSentAt))
		c.synSentAt = time.Time{}
	}
}

package netsim

import (
	"syscall"
	"time"
)

// Loss recovery. Each connection has one timer, rtxTimer, on the World's
// clock, which serves as the retransmission timer while data or a FIN is
// unacknowledged and as the persist timer while a writer waits on a zero
// window with nothing in flight (as Linux's ICSK_TIME_RETRANS and
// ICSK_TIME_PROBE0 share one timer).
//
// The timer is lazy: rtxDeadline says when it is due, and restarting it
// for an ACK (RFC 6298 5.3) only moves rtxDeadline; a timer that fires
// before the deadline re-arms itself for the rest. A lossless stream thus
// arms about one timer per RTO while ACKs keep coming, not one per
// segment or ACK; once everything is acknowledged, the last one armed
// fires once and finds nothing to do.
//
// On timeout the oldest unacknowledged segment is retransmitted, the RTO
// backed off, and recovery entered; three duplicate ACKs retransmit it at
// once (fast retransmit, RFC 5681). While in recovery each partial ACK
// retransmits the next unacknowledged segment, as NewReno does (RFC 6582),
// until everything sent before recovery began is acknowledged. There is no
// congestion window: the sender is limited by the peer's receive window
// only, as before, and a retransmission does not shrink it.

// noteSendLocked records that new sequence space starting at seq is about
// to be sent: it starts timing a segment for an RTT sample when none is
// being timed, and starts the retransmission timer when nothing was in
// flight (RFC 6298 5.1). c.mu is held.
func (c *Conn) noteSendLocked(seq uint32) {
	idle := c.sndUna == c.sndNxt
	if c.rttTiming && !idle {
		return
	}
	now := c.host.world.clock.Now()
	if !c.rttTiming {
		c.rttTiming, c.rttSeq, c.rttStart = true, seq, now
	}
	if idle {
		c.rtxStart = time.Time{}
		c.scheduleLocked(now.Add(c.rtt.timeout(c.rtxShift)), now)
	}
}

// scheduleLocked makes the timer due at `at`, re-arming the clock timer
// only when it would fire later than that. c.mu is held.
func (c *Conn) scheduleLocked(at, now time.Time) {
	c.rtxDeadline = at
	if c.rtxTimer != nil && !c.rtxTimerAt.After(at) {
		return
	}
	c.stopRetransmitTimerLocked()
	c.rtxGen++
	gen := c.rtxGen
	c.rtxTimerAt = at
	c.rtxTimer = c.host.world.clock.AfterFunc(at.Sub(now), func() { c.onRetransmitTimer(gen) })
}

// stopRetransmitTimerLocked stops the timer; a callback already running
// sees rtxGen changed and does nothing. c.mu is held.
func (c *Conn) stopRetransmitTimerLocked() {
	if c.rtxTimer != nil {
		c.rtxTimer.Stop()
		c.rtxTimer = nil
		c.rtxGen++
	}
}

// processACKLocked applies the acknowledgement a segment carries: it
// advances sndUna, takes an RTT sample, restarts or clears the timer,
// counts duplicate ACKs and drives recovery. It reports whether the
// segment at sndUna should be retransmitted now. c.mu is held.
func (c *Conn) processACKLocked(seg *tcpSegment) (retransmit bool) {
	ack := seg.ack
	sameWindow := seg.window == c.lastAckWnd
	c.lastAckWnd = seg.window
	switch {
	case seqLT(c.sndUna, ack) && seqLEQ(ack, c.sndNxt):
		c.sndUna = ack
		if c.finSent && ack == c.sndNxt {
			c.finAcked = true
		}
		now := c.host.world.clock.Now()
		if c.rttTiming && seqLT(c.rttSeq, ack) {
			c.rtt.sample(now.Sub(c.rttStart))
			c.rttTiming = false
		}
		c.rtxShift, c.rtxStart, c.dupAcks = 0, time.Time{}, 0
		if c.inRecovery {
			if seqLT(ack, c.recoverSeq) {
				retransmit = true // a partial ACK: the next hole
			} else {
				c.inRecovery = false
			}
		}
		if ack != c.sndNxt {
			c.scheduleLocked(now.Add(c.rtt.timeout(0)), now)
		} else {
			c.rtxDeadline = time.Time{}
		}
	case ack == c.sndUna && c.sndUna != c.sndNxt && len(seg.payload) == 0 &&
		seg.flags&(flagSYN|flagFIN) == 0 && sameWindow:
		// A duplicate ACK (RFC 5681 section 2: no data, the same
		// acknowledgement and the same window as the last ACK): the peer
		// got a segment beyond a hole.
		c.dupAcks++
		if c.dupAcks == dupAckThreshold && !c.inRecovery {
			c.inRecovery, c.recoverSeq = true, c.sndNxt
			c.rttTiming = false // Karn: the timed segment may be resent
			retransmit = true
		}
	case c.sndUna == c.sndNxt && !c.rtxStart.IsZero():
		c.rtxStart = time.Time{} // a zero-window probe was answered
	}
	return retransmit
}

// afterWindowUpdateLocked arms the persist timer when the peer's window is
// closed, a writer waits and nothing is in flight whose ACK could open it.
// c.mu is held.
func (c *Conn) afterWindowUpdateLocked() {
	if c.sndUna != c.sndNxt || !c.writeWaiting {
		return
	}
	if int32(c.sndRight-c.sndNxt) > 0 {
		c.rtxShift, c.rtxStart = 0, time.Time{} // the window opened
		return
	}
	c.armPersistLocked()
}

// armPersistLocked starts the persist timer unless it is running. c.mu is
// held.
func (c *Conn) armPersistLocked() {
	if !c.rtxDeadline.IsZero() || c.state != stateEstablished {
		return
	}
	now := c.host.world.clock.Now()
	c.scheduleLocked(now.Add(c.rtt.timeout(c.rtxShift)), now)
}

// stopWaitingForWindow records that a Write gave up waiting for the window,
// so the persist timer stops probing for it.
func (c *Conn) stopWaitingForWindow() {
	c.mu.Lock()
	c.writeWaiting = false
	c.mu.Unlock()
}

// onRetransmitTimer runs when the timer armed as generation gen fires.
func (c *Conn) onRetransmitTimer(gen uint64) {
	c.mu.Lock()
	if gen != c.rtxGen {
		c.mu.Unlock()
		return
	}
	c.rtxTimer = nil
	if c.state != stateEstablished || c.rtxDeadline.IsZero() || c.host.world.closed() {
		c.rtxDeadline = time.Time{}
		c.mu.Unlock()
		return
	}
	now := c.host.world.clock.Now()
	if now.Before(c.rtxDeadline) { // restarted by ACKs since it was armed
		c.scheduleLocked(c.rtxDeadline, now)
		c.mu.Unlock()
		return
	}
	probe := false
	switch {
	case c.sndUna != c.sndNxt:
		c.inRecovery, c.recoverSeq = true, c.sndNxt
		c.rttTiming = false // Karn's algorithm
		c.dupAcks = 0
	case c.writeWaiting && int32(c.sndRight-c.sndNxt) <= 0:
		probe = true
	default:
		c.rtxDeadline = time.Time{}
		c.mu.Unlock()
		return
	}
	if c.rtxStart.IsZero() {
		c.rtxStart = now
	} else if now.Sub(c.rtxStart) >= TCPUserTimeout {
		c.timeOutLocked()
		return
	}
	c.rtxShift++
	wait := min(c.rtt.timeout(c.rtxShift), c.rtxStart.Add(TCPUserTimeout).Sub(now))
	c.scheduleLocked(now.Add(wait), now)
	c.mu.Unlock()
	if probe {
		c.sendZeroWindowProbe()
	} else {
		c.retransmitHead()
	}
}

// timeOutLocked aborts a connection whose peer stopped acknowledging:
// Read and Write fail with ETIMEDOUT. Like Linux it sends no RST. c.mu is
// held on entry and released.
func (c *Conn) timeOutLocked() {
	c.err = syscallError("read", syscall.ETIMEDOUT)
	c.state = stateClosed
	c.rtxDeadline = time.Time{}
	c.mu.Unlock()
	c.release()
	c.wakeAll()
}

// retransmitHead resends the oldest unacknowledged segment with the same
// sequence number and payload as before: up to an MSS of data from sndUna
// (with the FIN when the data ends there), or the FIN alone. It carries the
// current acknowledgement and window, and a fresh IPv4 ID as every
// transmission does.
func (c *Conn) retransmitHead() {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	if c.state != stateEstablished || c.sndUna == c.sndNxt {
		c.mu.Unlock()
		return
	}
	dataEnd := c.sndNxt
	if c.finSent {
		dataEnd--
	}
	seq := c.sndUna
	n := min(int(int32(dataEnd-seq)), c.mss)
	flags := flagACK
	if n > 0 && seq+uint32(n) == dataEnd {
		flags |= flagPSH
	}
	if c.finSent && seq+uint32(n) == dataEnd {
		flags |= flagFIN
	}
	hdr := tcpHeader{
		srcPort: c.key.local.Port(),
		dstPort: c.key.remote.Port(),
		seq:     seq,
		ack:     c.rcvNxt,
		flags:   flags,
		window:  c.advertisedWindowLocked(),
		wscale:  -1,
	}
	c.ackPending = false
	c.mu.Unlock()
	if cap(c.rtxScratch) < n {
		c.rtxScratch = make([]byte, c.mss)
	}
	data := c.rtxScratch[:n]
	c.sndRing.load(seq, data)
	c.transmitLocked(&hdr, data)
}

// sendZeroWindowProbe sends what Linux sends to a peer advertising a zero
// window: a bare ACK with the already-acknowledged sequence number
// sndUna-1, which the peer must answer with an ACK carrying its current
// window.
func (c *Conn) sendZeroWindowProbe() {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	c.mu.Lock()
	if c.state != stateEstablished {
		c.mu.Unlock()
		return
	}
	hdr := c.controlHeaderLocked(flagACK)
	hdr.seq = c.sndUna - 1
	c.mu.Unlock()
	c.transmitLocked(&hdr, nil)
}

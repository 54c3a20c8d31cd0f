package netsim

import "time"

// Retransmission timing, after RFC 6298 with Linux's bounds.
const (
	// initialRTO is the retransmission timeout before the first RTT
	// sample (RFC 6298 2.1).
	initialRTO = time.Second
	// minRTO is the floor Linux applies (TCP_RTO_MIN) instead of RFC
	// 6298's one second; on netsim's sub-millisecond links every RTO sits
	// on it. It also exceeds the peer's delayed-ACK timeout, so a delayed
	// ACK never triggers a spurious retransmission.
	minRTO = 200 * time.Millisecond
	// maxRTO caps the backed-off timeout (Linux's TCP_RTO_MAX).
	maxRTO = 120 * time.Second
	// clockGranularity is G in RFC 6298's RTO = SRTT + max(G, 4*RTTVAR).
	clockGranularity = time.Millisecond
	// dupAckThreshold duplicate ACKs trigger fast retransmit (RFC 5681).
	dupAckThreshold = 3
)

// TCPUserTimeout bounds how long a connection keeps retransmitting (or
// probing a zero window) without the peer acknowledging anything: counted
// from the first retransmission timeout, after which the connection is
// aborted and Read and Write fail with syscall.ETIMEDOUT, as Linux's
// TCP_USER_TIMEOUT socket option makes a connection do.
//
// Linux's default bound, tcp_retries2 = 15, lets a dead peer go unnoticed
// for about 15 minutes; netsim's 30 seconds of World time rides out the
// seconds-long outages a scenario stages (a hook dropping traffic for a
// while, a host going down and up) while a real partition still ends as an
// error well within a run's budget. With the 200 ms minimum RTO that is
// about seven retransmissions, backing off 0.2, 0.4, ... 12.8 s.
const TCPUserTimeout = 30 * time.Second

// rtoEstimator is the RFC 6298 round-trip estimator of one connection.
// Callers feed it only samples from segments that were never retransmitted
// (Karn's algorithm).
type rtoEstimator struct {
	srtt, rttvar time.Duration
	rto          time.Duration // zero before the first sample means initialRTO
	sampled      bool
}

// sample folds one round-trip measurement into SRTT and RTTVAR and
// recomputes the RTO (RFC 6298 2.2 and 2.3).
func (e *rtoEstimator) sample(r time.Duration) {
	r = max(r, 0)
	if !e.sampled {
		e.srtt, e.rttvar, e.sampled = r, r/2, true
	} else {
		diff := e.srtt - r
		if diff < 0 {
			diff = -diff
		}
		e.rttvar = (3*e.rttvar + diff) / 4
		e.srtt = (7*e.srtt + r) / 8
	}
	e.rto = min(max(e.srtt+max(clockGranularity, 4*e.rttvar), minRTO), maxRTO)
}

// timeout returns the RTO backed off shift times (RFC 6298 5.5), at most
// maxRTO.
func (e *rtoEstimator) timeout(shift int) time.Duration {
	rto := e.rto
	if rto == 0 {
		rto = initialRTO
	}
	for ; shift > 0 && rto < maxRTO; shift-- {
		rto *= 2
	}
	return min(rto, maxRTO)
}

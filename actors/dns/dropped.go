package dns

import (
	"fmt"
	"net/netip"
	"time"

	miekg "github.com/miekg/dns"
)

// DropReason is why a Resolver dropped a datagram that arrived on a
// query's socket.
type DropReason int

const (
	// DropWrongSource: the datagram did not come from the address and port
	// the query was sent to.
	DropWrongSource DropReason = iota + 1
	// DropMalformed: it is not a DNS message.
	DropMalformed
	// DropNotResponse: it is a DNS message without the QR bit.
	DropNotResponse
	// DropTXIDMismatch: a response whose ID is not the query's: what an
	// off-path forgery that guessed the source port but not the ID gets.
	DropTXIDMismatch
	// DropQuestionMismatch: a response with the query's ID but another
	// question.
	DropQuestionMismatch
	// DropValidation: a matching response that DNSSEC validation rejected
	// (Err is the *ValidationError): what an on-path forgery of a signed
	// zone gets.
	DropValidation
)

func (r DropReason) String() string {
	switch r {
	case DropWrongSource:
		return "not from the server asked"
	case DropMalformed:
		return "not a DNS message"
	case DropNotResponse:
		return "not a response"
	case DropTXIDMismatch:
		return "query ID mismatch"
	case DropQuestionMismatch:
		return "question mismatch"
	case DropValidation:
		return "DNSSEC validation failed"
	}
	return fmt.Sprintf("DropReason(%d)", int(r))
}

// DroppedAnswer is a UDP datagram a Resolver read on one of its query
// sockets and dropped instead of accepting it as the answer: the resolver's
// side of a spoofing attempt that reached it. A datagram sent to a port on
// which no query was waiting reaches no socket of the resolver and is
// never reported (netsim drops it in the host's stack, as a kernel does).
type DroppedAnswer struct {
	// At is the resolver's clock (ResolverConfig.Now) when it was dropped.
	At time.Time
	// From is the datagram's source; Server the name server the query was
	// sent to; Port the query's source port, where the datagram arrived.
	From, Server netip.AddrPort
	Port         uint16
	// QueryID, QueryName (fully qualified) and QueryType are the query's.
	QueryID   uint16
	QueryName string
	QueryType uint16
	// Msg is the datagram parsed; nil for DropMalformed.
	Msg *miekg.Msg
	// Reason is why it was dropped; Err, for DropValidation, the
	// validation error (a *ValidationError, or a *LookupError when the
	// zone's keys could not be fetched), nil otherwise.
	Reason DropReason
	Err    error
}

// String describes the drop: "response from 10.0.0.53:53 to port 53000
// (ID 7) for query A pool01.contoso.com (ID 2): query ID mismatch".
func (d DroppedAnswer) String() string {
	id := ""
	if d.Msg != nil {
		id = fmt.Sprintf(" (ID %d)", d.Msg.Id)
	}
	s := fmt.Sprintf("response from %v to port %d%s for query %s %s (ID %d): %v",
		d.From, d.Port, id, miekg.Type(d.QueryType), trimDot(d.QueryName), d.QueryID, d.Reason)
	if d.Err != nil {
		s += ": " + d.Err.Error()
	}
	return s
}

// Dropped returns a copy of every datagram the resolver has dropped on its
// query sockets so far, in order. The record grows by one entry per
// dropped datagram for the resolver's lifetime (a lab run's).
func (r *Resolver) Dropped() []DroppedAnswer {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	return append([]DroppedAnswer(nil), r.dropped...)
}

// drop records d and hands it to ResolverConfig.OnDropped.
func (r *Resolver) drop(d DroppedAnswer) {
	d.At = r.now()
	r.dropMu.Lock()
	r.dropped = append(r.dropped, d)
	r.dropMu.Unlock()
	if r.cfg.OnDropped != nil {
		r.cfg.OnDropped(d)
	}
}

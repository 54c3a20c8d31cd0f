// Package tcpstream is the lab's one TCP reassembly: a connection key that
// both directions of a connection share, and a bounded reassembler that
// puts one direction's payload back in sequence order.
//
// # Contracts
//
// Key names a connection by its two endpoints, the lower first, so that a
// segment and its answer find the same entry; KeyOf also says which
// direction a segment travels.
//
// Stream compares sequence numbers modulo 2^32 (RFC 9293 section 3.4), so
// a stream may wrap. A segment that repeats or overlaps bytes already
// delivered contributes only its new bytes (the first copy of a byte
// wins); a segment beyond a gap is held, as a private copy, until the gap
// fills. Memory is bounded: at most Keep bytes of in-order payload are
// kept and at most Keep bytes are held behind gaps; in-order bytes beyond
// the bound are still counted, held bytes beyond it are dropped. Payload
// passed to Add is never retained. A Stream is not safe for concurrent
// use.
package tcpstream

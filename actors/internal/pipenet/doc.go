// Package pipenet provides in-memory, buffered connections and a listener for
// actor tests that must not open real sockets. It stands in until the
// simulated network (netsim) is used instead.
//
// Unlike net.Pipe, a Write never waits for the peer to read: bytes are
// buffered as a TCP socket would, so protocols where both ends write at once
// (a TLS alert sent while the peer is still flushing its flight) behave as on
// a real network. Deadlines use time.AfterFunc, so the conns work inside a
// testing/synctest bubble.
package pipenet

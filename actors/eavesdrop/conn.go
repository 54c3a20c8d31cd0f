package eavesdrop

import "net/netip"

// connKey names a TCP connection by its endpoints, lower endpoint first, so
// both directions share a key.
type connKey struct{ lo, hi netip.AddrPort }

// keyOf returns the connection key of a segment from src to dst, and the
// direction index: 0 for lo->hi, 1 for hi->lo.
func keyOf(src, dst netip.AddrPort) (connKey, int) {
	if src.Compare(dst) <= 0 {
		return connKey{src, dst}, 0
	}
	return connKey{dst, src}, 1
}

// conn is one TCP connection: two directional streams, created as segments
// in each direction are seen.
type conn struct {
	key     connKey
	dirs    [2]*stream
	synFrom int // direction that sent the initial SYN; -1 if not seen
	frames  int // TCP segments seen, both directions
}

// endpoint returns the sender of direction dir.
func (c *conn) endpoint(dir int) netip.AddrPort {
	if dir == 0 {
		return c.key.lo
	}
	return c.key.hi
}

// isNewConnection reports whether a SYN without ACK starts a new connection
// on a reused 4-tuple rather than repeating this connection's SYN.
func (c *conn) isNewConnection(dir int, seq uint32) bool {
	s := c.dirs[dir]
	if s == nil || !s.started {
		return false
	}
	return !s.synSeen || s.isn != seq
}

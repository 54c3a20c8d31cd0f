package eavesdrop

import (
	"net/netip"

	"github.com/tlslab/tlslab/internal/tcpstream"
)

// conn is one TCP connection: two directional streams, indexed by
// direction (0: from key.Lo), created as segments in each direction are
// seen.
type conn struct {
	key     tcpstream.Key
	dirs    [2]*tcpstream.Stream
	synFrom int // direction that sent the initial SYN; -1 if not seen
	frames  int // TCP segments seen, both directions
}

// endpoint returns the sender of direction dir.
func (c *conn) endpoint(dir int) netip.AddrPort { return c.key.Sender(dir) }

// isNewConnection reports whether a SYN without ACK starts a new connection
// on a reused 4-tuple rather than repeating this connection's SYN.
func (c *conn) isNewConnection(dir int, seq uint32) bool {
	s := c.dirs[dir]
	if s == nil || !s.Started() {
		return false
	}
	isn, synSeen := s.ISN()
	return !synSeen || isn != seq
}

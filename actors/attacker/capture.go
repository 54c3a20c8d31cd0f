package attacker

import (
	"bytes"
	"net/netip"
	"sync"
	"time"

	"github.com/tlslab/tlslab/internal/tcpstream"
)

// StreamCapture is a passive tap that keeps the payload of every TCP
// connection it sees, both directions reassembled in sequence order, for
// offline work such as decryption with a stolen key. It implements
// netsim.Tap; attach it to a segment (a mirror port) or a NIC. Safe for
// concurrent use.
//
// (actors/eavesdrop reassembles streams too, but its API reports only
// counts, canaries and handshake facts, not the bytes.)
type StreamCapture struct {
	max int

	mu    sync.Mutex
	conns map[tcpstream.Key]*tcpConn
	order []*tcpConn
}

// NewStreamCapture returns a capture keeping up to maxBytes per direction
// of each connection (zero means DefaultMaxCapture).
func NewStreamCapture(maxBytes int) *StreamCapture {
	return &StreamCapture{max: maxCapture(maxBytes), conns: map[tcpstream.Key]*tcpConn{}}
}

type tcpConn struct {
	client, server netip.AddrPort       // client: the SYN's sender (else the first seen)
	dirs           [2]*tcpstream.Stream // 0: client to server
}

// ObserveFrame implements netsim.Tap. It copies what it keeps.
func (c *StreamCapture) ObserveFrame(_ time.Time, frame []byte) {
	p := decode(frame)
	if p == nil {
		return
	}
	defer p.put()
	if !p.isTCP() || p.ip.Flags&1 != 0 || p.ip.FragOffset != 0 {
		return
	}
	src := netip.AddrPortFrom(p.src(), uint16(p.tcp.SrcPort))
	dst := netip.AddrPortFrom(p.dst(), uint16(p.tcp.DstPort))
	key, _ := tcpstream.KeyOf(src, dst)
	c.mu.Lock()
	defer c.mu.Unlock()
	tc := c.conns[key]
	if tc == nil || (p.tcp.SYN && !p.tcp.ACK && tc.client == src && tc.dirs[0] != nil && tc.dirs[0].Started() && tc.dirs[0].Next() != p.tcp.Seq+1) {
		tc = &tcpConn{client: src, server: dst}
		if p.tcp.SYN && p.tcp.ACK { // saw the SYN-ACK first: its sender is the server
			tc.client, tc.server = dst, src
		}
		c.conns[key] = tc
		c.order = append(c.order, tc)
	}
	dir := 0
	if src != tc.client {
		dir = 1
	}
	s := tc.dirs[dir]
	if s == nil {
		s = tcpstream.NewStream(c.max)
		tc.dirs[dir] = s
	}
	s.Add(p.tcp.Seq, p.tcp.SYN, p.tcp.Payload)
}

// CapturedConn is one TCP connection's payload as captured.
type CapturedConn struct {
	// Client sent the SYN (failing that, the first segment seen); Server
	// is the other end.
	Client, Server netip.AddrPort
	// ClientData and ServerData are what each side sent, in order, up to
	// the capture's limit.
	ClientData, ServerData []byte
}

// Conns returns copies of the connections captured so far, in the order
// first seen.
func (c *StreamCapture) Conns() []CapturedConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CapturedConn, 0, len(c.order))
	for _, tc := range c.order {
		cc := CapturedConn{Client: tc.client, Server: tc.server}
		if s := tc.dirs[0]; s != nil {
			cc.ClientData = bytes.Clone(s.Data())
		}
		if s := tc.dirs[1]; s != nil {
			cc.ServerData = bytes.Clone(s.Data())
		}
		out = append(out, cc)
	}
	return out
}

package attacker

import (
	"bytes"
	"net/netip"
	"sync"
	"time"
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
	conns map[[2]netip.AddrPort]*tcpConn // keyed lower endpoint first
	order []*tcpConn
}

// NewStreamCapture returns a capture keeping up to maxBytes per direction
// of each connection (zero means DefaultMaxCapture).
func NewStreamCapture(maxBytes int) *StreamCapture {
	return &StreamCapture{max: maxCapture(maxBytes), conns: map[[2]netip.AddrPort]*tcpConn{}}
}

type tcpConn struct {
	client, server netip.AddrPort // client: the SYN's sender (else the first seen)
	dirs           [2]*tcpStream  // 0: client to server
}

type tcpStream struct {
	started bool
	next    uint32
	data    []byte
	pending map[uint32][]byte
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
	key := [2]netip.AddrPort{src, dst}
	if src.Compare(dst) > 0 {
		key = [2]netip.AddrPort{dst, src}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tc := c.conns[key]
	if tc == nil || (p.tcp.SYN && !p.tcp.ACK && tc.client == src && tc.dirs[0] != nil && tc.dirs[0].started && tc.dirs[0].next != p.tcp.Seq+1) {
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
		s = &tcpStream{pending: map[uint32][]byte{}}
		tc.dirs[dir] = s
	}
	s.add(p.tcp.Seq, p.tcp.SYN, p.tcp.Payload, c.max)
}

func (s *tcpStream) add(seq uint32, syn bool, payload []byte, max int) {
	if syn {
		if !s.started {
			s.started, s.next = true, seq+1
		}
		seq++
	}
	if len(payload) == 0 {
		return
	}
	if !s.started {
		s.started, s.next = true, seq
	}
	if d := int32(s.next - seq); d > 0 { // repeats bytes already kept
		if int(d) >= len(payload) {
			return
		}
		seq, payload = s.next, payload[d:]
	}
	if seq != s.next {
		if _, ok := s.pending[seq]; !ok && len(s.pending) < 1024 {
			s.pending[seq] = bytes.Clone(payload)
		}
		return
	}
	s.deliver(payload, max)
	for {
		more, ok := s.pending[s.next]
		if !ok {
			return
		}
		delete(s.pending, s.next)
		s.deliver(more, max)
	}
}

func (s *tcpStream) deliver(p []byte, max int) {
	s.next += uint32(len(p))
	if room := max - len(s.data); room > 0 {
		s.data = append(s.data, p[:min(room, len(p))]...)
	}
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
			cc.ClientData = bytes.Clone(s.data)
		}
		if s := tc.dirs[1]; s != nil {
			cc.ServerData = bytes.Clone(s.data)
		}
		out = append(out, cc)
	}
	return out
}

package netsim

import (
	"encoding/binary"
	"net/netip"
	"sync"

	"github.com/gopacket/gopacket/layers"
)

// tcpSegment is a received TCP segment, detached from the decoder that
// parsed it. payload aliases the received frame, which is immutable.
type tcpSegment struct {
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            tcpFlags
	window           uint16
	mss              uint16 // 0 when absent
	wscale           int    // -1 when absent
	payload          []byte

	// frame is the received frame payload aliases, when the receiver owns
	// it; kept is set when the connection holds on to payload, and with it
	// the frame, which it recycles once the data has been read.
	frame []byte
	kept  bool
	// conn is the connection the segment was for, if any.
	conn *Conn
}

func segmentFromLayer(t *layers.TCP) tcpSegment {
	s := tcpSegment{
		srcPort: uint16(t.SrcPort),
		dstPort: uint16(t.DstPort),
		seq:     t.Seq,
		ack:     t.Ack,
		window:  t.Window,
		wscale:  -1,
		payload: t.Payload,
	}
	if t.FIN {
		s.flags |= flagFIN
	}
	if t.SYN {
		s.flags |= flagSYN
	}
	if t.RST {
		s.flags |= flagRST
	}
	if t.PSH {
		s.flags |= flagPSH
	}
	if t.ACK {
		s.flags |= flagACK
	}
	if t.SYN {
		for _, o := range t.Options {
			switch {
			case o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2:
				s.mss = binary.BigEndian.Uint16(o.OptionData)
			case o.OptionType == layers.TCPOptionKindWindowScale && len(o.OptionData) == 1:
				s.wscale = min(int(o.OptionData[0]), 14)
			}
		}
	}
	return s
}

// seqLen is how much sequence space s occupies: payload, SYN and FIN.
func (s *tcpSegment) seqLen() uint32 {
	n := uint32(len(s.payload))
	if s.flags&flagSYN != 0 {
		n++
	}
	if s.flags&flagFIN != 0 {
		n++
	}
	return n
}

// seqLT reports a < b in sequence-number arithmetic (RFC 793).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// seqLEQ reports a <= b in sequence-number arithmetic.
func seqLEQ(a, b uint32) bool { return int32(a-b) <= 0 }

// connKey identifies a connection from its host's point of view.
type connKey struct {
	local, remote netip.AddrPort
}

// tcpTable holds a host's listeners and connections.
type tcpTable struct {
	mu        sync.RWMutex
	listeners map[uint16]*tcpListener
	conns     map[connKey]*Conn
	ports     map[uint16]int // local port -> users, for ephemeral allocation
}

func (t *tcpTable) init() {
	t.listeners = make(map[uint16]*tcpListener)
	t.conns = make(map[connKey]*Conn)
	t.ports = make(map[uint16]int)
}

const (
	ephemeralFirst = 49152
	ephemeralCount = 65536 - ephemeralFirst
)

// allocPortLocked picks a free ephemeral port starting from a random one.
func allocPort(ports map[uint16]int, start uint32) (uint16, bool) {
	for i := uint32(0); i < ephemeralCount; i++ {
		p := uint16(ephemeralFirst + (start+i)%ephemeralCount)
		if ports[p] == 0 {
			return p, true
		}
	}
	return 0, false
}

func (t *tcpTable) lookup(k connKey) *Conn {
	t.mu.RLock()
	c := t.conns[k]
	t.mu.RUnlock()
	return c
}

func (t *tcpTable) remove(c *Conn) {
	t.mu.Lock()
	if t.conns[c.key] == c {
		delete(t.conns, c.key)
		if t.ports[c.key.local.Port()]--; t.ports[c.key.local.Port()] <= 0 {
			delete(t.ports, c.key.local.Port())
		}
	}
	t.mu.Unlock()
}

func (t *tcpTable) shutdown() {
	t.mu.RLock()
	conns := make([]*Conn, 0, len(t.conns))
	for _, c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.RUnlock()
	for _, c := range conns {
		c.stopTimers()
	}
}

// tcpInput demultiplexes a received segment to its connection or listener,
// answering with RST when neither exists (a closed port).
// It reports whether the connection kept a reference to the segment's frame.
func (h *Host) tcpInput(src, dst netip.Addr, seg *tcpSegment) (kept bool) {
	key := connKey{local: netip.AddrPortFrom(dst, seg.dstPort), remote: netip.AddrPortFrom(src, seg.srcPort)}
	if c := h.tcp.lookup(key); c != nil {
		seg.conn = c
		c.input(seg)
		return seg.kept
	}
	if seg.flags&(flagSYN|flagACK|flagRST) == flagSYN {
		h.tcp.mu.RLock()
		l := h.tcp.listeners[seg.dstPort]
		h.tcp.mu.RUnlock()
		if l != nil && (l.transparent || !l.addr.Addr().IsValid() || l.addr.Addr().IsUnspecified() || l.addr.Addr() == dst) {
			l.handleSYN(key, seg)
			return false
		}
	}
	if seg.flags&flagRST == 0 {
		h.sendReset(key, seg)
	}
	return false
}

// sendReset answers a segment that belongs to no connection (RFC 793 p.36).
func (h *Host) sendReset(key connKey, seg *tcpSegment) {
	p, err := h.lookupPath(key.remote.Addr())
	if err != nil {
		return
	}
	hdr := tcpHeader{srcPort: key.local.Port(), dstPort: key.remote.Port(), wscale: -1}
	if seg.flags&flagACK != 0 {
		hdr.seq = seg.ack
		hdr.flags = flagRST
	} else {
		hdr.ack = seg.seq + seg.seqLen()
		hdr.flags = flagRST | flagACK
	}
	ip, resolved := h.header(p, key.local.Addr(), key.remote.Addr())
	var enc frameEncoder
	h.send(p, enc.encodeTCP(nil, &ip, &hdr, nil), resolved)
}

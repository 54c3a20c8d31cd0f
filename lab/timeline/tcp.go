package timeline

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tlslab/tlslab/internal/tcpstream"
	"github.com/tlslab/tlslab/internal/tlswire"
)

// maxStreamBuffer bounds the bytes a stream direction holds while waiting
// for the rest of a TLS record or DNS message; a direction that needs more
// is not parsed further.
const maxStreamBuffer = 1 << 17

// tcpConn is one TCP connection, from its SYN. Copies of its frames seen
// again on another segment (forwarded by a router) carry sequence numbers
// already consumed and add nothing.
type tcpConn struct {
	client, server netip.AddrPort
	isn            uint32           // the client's initial sequence number
	accepted       bool             // a SYN-ACK was seen
	clientMAC      net.HardwareAddr // who sent the SYN
	serverMAC      net.HardwareAddr // who sent the SYN-ACK: the host that really answers
	dirs           [2]*tcpDir       // client to server, server to client
	tls            tlsConnState
}

// streamMode is what a direction's payload turned out to be.
type streamMode int

const (
	streamUnknown streamMode = iota // no payload yet
	streamTLS
	streamDNS  // DNS over TCP: messages with a two-byte length
	streamDone // plaintext (first line reported) or unparseable: ignored
)

// tcpDir reassembles one direction of a connection in order.
type tcpDir struct {
	in   *tcpstream.Stream // hands out in-order bytes; holds what a loss put behind a gap
	mode streamMode
	buf  []byte // bytes not yet parsed (an incomplete record or message)
	tls  tlsDirState
}

// newTCPDir starts a direction at its SYN.
func newTCPDir(isn uint32) *tcpDir {
	d := &tcpDir{in: tcpstream.NewHoldingStream(maxHeldBytes)}
	d.in.Add(isn, true, nil)
	return d
}

// maxHeldBytes bounds what one direction holds behind a gap, waiting for
// a lost segment's retransmission.
const maxHeldBytes = 1 << 20

// take returns the bytes of a segment at seq not delivered before, or nil.
// A segment beyond a gap (one lost on an impaired network, whose
// retransmission will fill it) is held and handed back, with the bytes it
// joins, once the gap is filled. A gap wider than maxHeldBytes ends the
// direction's parsing.
func (d *tcpDir) take(seq uint32, p []byte) []byte {
	if d.mode == streamDone {
		return nil
	}
	fresh, gap := d.in.Add(seq, false, p)
	if gap && !d.in.Holding() {
		d.mode, d.buf = streamDone, nil
		return nil
	}
	return fresh
}

func (r *recorder) observeTCP(ts time.Time, src net.HardwareAddr) {
	t := &r.tcp
	srcIP := addr4(r.ip4.SrcIP)
	from := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
	to := netip.AddrPortFrom(addr4(r.ip4.DstIP), uint16(t.DstPort))
	key, _ := tcpstream.KeyOf(from, to)
	c := r.conns[key]
	ev := func(text func(n *namer) string) *wireEvent {
		return &wireEvent{at: ts, srcMAC: src, srcIP: srcIP, peerMAC: dstMAC(&r.eth), peerIP: to.Addr(), kind: TCP, text: text}
	}
	seq := t.Seq
	switch {
	case t.SYN && !t.ACK:
		if c == nil || c.client != from || c.isn != seq {
			c = &tcpConn{client: from, server: to, isn: seq, clientMAC: src}
			c.dirs[0] = newTCPDir(seq)
			r.conns[key] = c
		}
		r.add(fmt.Sprintf("syn|%v|%v|%d", from, to, seq), ev(func(n *namer) string {
			return "TCP SYN -> " + n.addrPort(to)
		}))
		return
	case t.SYN && t.ACK:
		if c != nil && c.server == from && c.dirs[1] == nil {
			c.dirs[1] = newTCPDir(seq)
			c.accepted = true
			c.serverMAC = src
		}
		r.add(fmt.Sprintf("synack|%v|%v|%d", from, to, seq), ev(func(n *namer) string {
			return fmt.Sprintf("TCP SYN-ACK -> %s: %v accepts", n.addrPort(to), from)
		}))
		return
	case t.RST:
		refused := c != nil && !c.accepted && c.server == from
		r.add(fmt.Sprintf("rst|%v|%v|%d", from, to, seq), ev(func(n *namer) string {
			if refused {
				return fmt.Sprintf("TCP RST -> %s: connection to %v refused", n.addrPort(to), from)
			}
			return fmt.Sprintf("TCP RST -> %s: connection reset", n.addrPort(to))
		}))
		return
	}
	if c == nil {
		return
	}
	dir := 0
	if from != c.client {
		dir = 1
	}
	if d := c.dirs[dir]; d != nil {
		if p := d.take(seq, t.Payload); len(p) > 0 {
			r.stream(ts, src, c, dir, p)
		}
	}
	if t.FIN {
		r.add(fmt.Sprintf("fin|%v|%v|%d", from, to, seq+uint32(len(t.Payload))), ev(func(n *namer) string {
			return fmt.Sprintf("TCP FIN -> %s: %v closes its side", n.addrPort(to), from)
		}))
	}
}

// stream parses new in-order bytes of one direction.
func (r *recorder) stream(ts time.Time, src net.HardwareAddr, c *tcpConn, dir int, p []byte) {
	d := c.dirs[dir]
	from, to := c.client, c.server
	if dir == 1 {
		from, to = to, from
	}
	if d.mode == streamUnknown {
		switch {
		case from.Port() == 53 || to.Port() == 53:
			d.mode = streamDNS
		case tlswire.MayStartRecord(p):
			d.mode = streamTLS
		default:
			d.mode = streamDone
			line := firstLine(p)
			r.add("", &wireEvent{at: ts, srcMAC: src, srcIP: from.Addr(), peerMAC: dstMAC(&r.eth), peerIP: to.Addr(), kind: Data, text: func(n *namer) string {
				return fmt.Sprintf("TCP data -> %s: %s", n.addrPort(to), line)
			}})
			return
		}
	}
	if d.mode == streamDone {
		return
	}
	d.buf = append(d.buf, p...)
	if len(d.buf) > maxStreamBuffer {
		d.mode, d.buf = streamDone, nil
		return
	}
	w := wireCtx{r: r, at: ts, order: r.frames, src: src, c: c, dir: dir, from: from, to: to}
	switch d.mode {
	case streamDNS:
		for len(d.buf) >= 2 {
			n := int(d.buf[0])<<8 | int(d.buf[1])
			if len(d.buf) < 2+n {
				break
			}
			r.observeDNS(ts, src, from, to, d.buf[2:2+n], "TCP")
			d.buf = d.buf[2+n:]
		}
	case streamTLS:
		w.records()
	}
	d.buf = append([]byte(nil), d.buf...) // do not pin what was parsed
}

// wireCtx is where bytes of a stream came from, for the events they make:
// the frame that brought them (when, which, from whom) and the connection
// and direction (0: from the client, 1: from the server).
type wireCtx struct {
	r        *recorder
	at       time.Time
	order    int
	src      net.HardwareAddr
	c        *tcpConn
	dir      int
	from, to netip.AddrPort
}

func (w wireCtx) emit(kind Kind, text func(n *namer) string) {
	peerMAC, peerIP := w.c.serverMAC, w.c.server.Addr()
	if w.dir == 1 {
		peerMAC, peerIP = w.c.clientMAC, w.c.client.Addr()
	}
	w.r.add("", &wireEvent{at: w.at, order: w.order, srcMAC: w.src, srcIP: w.from.Addr(), peerMAC: peerMAC, peerIP: peerIP, kind: kind, text: text})
}

// firstLine quotes the first line of a plaintext payload, up to 80 bytes,
// or describes binary data.
func firstLine(p []byte) string {
	end := len(p)
	for i, b := range p {
		if b == '\r' || b == '\n' {
			end = i
			break
		}
	}
	line := p[:end]
	if !utf8.Valid(line) {
		return fmt.Sprintf("%d bytes of binary data", len(p))
	}
	for _, b := range line {
		if b < 0x20 && b != '\t' {
			return fmt.Sprintf("%d bytes of binary data", len(p))
		}
	}
	s := string(line)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return strconv.Quote(s)
}

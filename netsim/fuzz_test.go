package netsim

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// Bits of FuzzInjectedFrame's how argument.
const (
	fuzzToServerMAC = 1 << iota // Ethernet destination: the server's MAC
	fuzzToFlow                  // IPv4 addresses and ports of the live flow
	fuzzFixSums                 // recompute the IPv4 and TCP/UDP checksums
	fuzzFromNIC                 // NIC.WriteFrame on the client, not Segment.Inject
	fuzzTwice                   // send the frame twice
	fuzzToUDP                   // the flow is the UDP socket's, not the TCP connection's
)

// FuzzInjectedFrame injects an attacker-crafted frame into a World with a
// live TCP connection and a UDP socket. how optionally aims the frame at
// the live flow (MAC, addresses, ports, checksums) so that mutations reach
// TCP and UDP input. Whatever the frame, nothing panics, the World's
// goroutines all end at Close (synctest fails on any left), and the
// connection and the socket either still work or fail cleanly; a frame the
// receiver must drop (an IPv4 frame with a bad checksum, a fragment, an
// unknown EtherType) must leave both working.
//
// The seed corpus (testdata/fuzz/FuzzInjectedFrame) covers truncated
// frames, bad lengths and IHL, IP options, fragments, odd TCP options,
// zero and huge windows, ARP with wrong hardware lengths and UDP length
// mismatches:
//
//	go test -run '^$' -fuzz FuzzInjectedFrame -fuzztime 3m ./netsim
func FuzzInjectedFrame(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, frame []byte, how uint8) {
		synctest.Test(t, func(t *testing.T) { fuzzInjectedFrame(t, frame, how) })
	})
}

func fuzzInjectedFrame(t *testing.T, input []byte, how uint8) {
	p := newPair(t, pairConfig{})
	c, s := connect(t, p.a, p.b, "80")
	defer c.Close()
	defer s.Close()
	pcB, err := p.b.ListenPacket("udp", ":9")
	if err != nil {
		t.Fatal(err)
	}
	defer pcB.Close()
	if !fuzzExchange(c, s, []byte("hello")) {
		t.Fatal("the connection does not work before the injection")
	}

	frame := append([]byte(nil), input...)
	aimFrame(frame, how, p, c)
	strict := mustBeDropped(frame)
	if how&fuzzFromNIC != 0 && len(frame) >= ethHeaderLen && [6]byte(frame[6:12]) != [6]byte(p.na.MAC()) {
		// The switch learns the source MAC of any frame a port sends, as
		// a real one does: a frame from a's port claiming b's MAC steals
		// b's traffic until b next sends (CAM table poisoning).
		strict = false
	}
	for range 1 + int(how>>4&1) {
		f := append([]byte(nil), frame...) // Inject keeps the frame
		if how&fuzzFromNIC != 0 {
			p.na.WriteFrame(f)
		} else {
			p.lan.Inject(f)
		}
	}
	synctest.Wait()

	tcpOK := fuzzExchange(c, s, []byte("ping"))
	udpOK := sendUDP(t, p.a, "10.0.0.2:9", pcB)
	if strict && (!tcpOK || !udpOK) {
		t.Errorf("a frame the receiver must drop broke the live flows (tcp %v, udp %v): % x", tcpOK, udpOK, frame)
	}
}

// fuzzExchange sends msg each way and reports whether it arrived. Data an
// injected segment slipped into the stream may precede it; a connection
// that was reset or stalled reports false within the deadline.
func fuzzExchange(c, s *Conn, msg []byte) bool {
	deadline := time.Now().Add(10 * time.Second)
	for _, d := range [][2]*Conn{{c, s}, {s, c}} {
		w, r := d[0], d[1]
		w.SetDeadline(deadline)
		r.SetDeadline(deadline)
		if _, err := w.Write(msg); err != nil {
			return false
		}
		var got []byte
		buf := make([]byte, 256)
		for !bytes.HasSuffix(got, msg) {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil || len(got) > 1<<20 {
				return false
			}
		}
	}
	return true
}

// aimFrame rewrites frame in place as how says.
func aimFrame(frame []byte, how uint8, p *pair, c *Conn) {
	if len(frame) < ethHeaderLen {
		return
	}
	if how&fuzzToServerMAC != 0 {
		copy(frame[0:6], p.nb.MAC())
	}
	ip := frame[ethHeaderLen:]
	if binary.BigEndian.Uint16(frame[12:14]) != 0x0800 || len(ip) < ipv4HeaderLen {
		return
	}
	if how&fuzzToFlow != 0 {
		src, dst := p.a.Addr().As4(), p.b.Addr().As4()
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		if ihl := int(ip[0]&0x0f) * 4; ihl >= ipv4HeaderLen && len(ip) >= ihl+4 {
			sport, dport := c.LocalAddr().(*net.TCPAddr).Port, 80
			ip[9] = 6
			if how&fuzzToUDP != 0 {
				sport, dport, ip[9] = 1234, 9, 17
			}
			binary.BigEndian.PutUint16(ip[ihl:], uint16(sport))
			binary.BigEndian.PutUint16(ip[ihl+2:], uint16(dport))
		}
	}
	if how&fuzzFixSums != 0 {
		fixSums(ip)
	}
}

// ipv4Parts splits an IPv4 packet into header and transport segment as a
// receiver would, or reports that it is malformed.
func ipv4Parts(ip []byte) (hdr, seg []byte, ok bool) {
	if len(ip) < ipv4HeaderLen || ip[0]>>4 != 4 {
		return nil, nil, false
	}
	ihl, total := int(ip[0]&0x0f)*4, int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < ipv4HeaderLen || total < ihl || total > len(ip) {
		return nil, nil, false
	}
	return ip[:ihl], ip[ihl:total], true
}

// fixSums recomputes the IPv4 header checksum and, for TCP and UDP, the
// transport checksum, where the lengths allow.
func fixSums(ip []byte) {
	hdr, seg, ok := ipv4Parts(ip)
	if !ok {
		return
	}
	hdr[10], hdr[11] = 0, 0
	binary.BigEndian.PutUint16(hdr[10:], internetChecksum(onesSum(0, hdr)))
	off := map[byte]int{6: 16, 17: 6}[hdr[9]]
	if off == 0 || len(seg) < off+2 || (hdr[9] == 6 && len(seg) < tcpHeaderLen) || (hdr[9] == 17 && len(seg) < udpHeaderLen) {
		return
	}
	seg[off], seg[off+1] = 0, 0
	sum := internetChecksum(onesSum(pseudoHeaderSum(hdr[12:16], hdr[16:20], hdr[9], len(seg)), seg))
	if sum == 0 && hdr[9] == 17 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], sum)
}

// mustBeDropped reports whether every receiver must drop frame without
// effect: an IPv4 packet with a bad header or transport checksum, or a
// fragment, or a frame of an EtherType netsim does not speak. ARP and
// well-formed IPv4 may legitimately change things (poison a cache, reset
// the connection).
func mustBeDropped(frame []byte) bool {
	if len(frame) < ethHeaderLen {
		return true
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case 0x0806:
		return false
	case 0x0800:
	default:
		return true
	}
	hdr, seg, ok := ipv4Parts(frame[ethHeaderLen:])
	if !ok || foldSum(onesSum(0, hdr)) != 0xffff {
		return true
	}
	if binary.BigEndian.Uint16(hdr[6:8])&0x3fff != 0 {
		return true // MF or an offset: netsim reassembles nothing
	}
	switch hdr[9] {
	case 6, 17:
		return !transportChecksumOK(hdr, seg, hdr[9])
	}
	return true
}

package eavesdrop_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	alice = netip.MustParseAddrPort("10.0.0.2:49152")
	pool  = netip.MustParseAddrPort("10.0.0.5:5061")
)

// seg describes one TCP segment to put on the wire.
type seg struct {
	src, dst          netip.AddrPort
	seq, ack          uint32
	syn, fin, ackFlag bool
	payload           []byte
}

// mac derives a stable MAC from an IPv4 address.
func mac(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

// serialize builds a frame from layers with lengths and checksums fixed, the
// way netsim puts frames on the wire.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (s seg) frame(t testing.TB) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: mac(s.src.Addr()), DstMAC: mac(s.dst.Addr()), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice()}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Ack: s.ack, SYN: s.syn, FIN: s.fin, ACK: s.ackFlag || !s.syn, Window: 65535,
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, eth, ip, tcp, gopacket.Payload(s.payload))
}

// tcpConn writes a connection's segments with consistent sequence numbers.
type tcpConn struct {
	client, server netip.AddrPort
	cseq, sseq     uint32 // next sequence number of each side
	mss            int
}

func newTCPConn(client, server netip.AddrPort, cisn, sisn uint32) *tcpConn {
	return &tcpConn{client: client, server: server, cseq: cisn, sseq: sisn, mss: 536}
}

// handshake returns SYN, SYN-ACK and ACK.
func (c *tcpConn) handshake() []seg {
	out := []seg{
		{src: c.client, dst: c.server, seq: c.cseq, syn: true},
		{src: c.server, dst: c.client, seq: c.sseq, ack: c.cseq + 1, syn: true, ackFlag: true},
		{src: c.client, dst: c.server, seq: c.cseq + 1, ack: c.sseq + 1},
	}
	c.cseq++
	c.sseq++
	return out
}

// send splits data from one side into MSS-sized segments.
func (c *tcpConn) send(fromClient bool, data []byte) []seg {
	src, dst, seq, ack := c.client, c.server, &c.cseq, c.sseq
	if !fromClient {
		src, dst, seq, ack = c.server, c.client, &c.sseq, c.cseq
	}
	var out []seg
	for len(data) > 0 {
		n := min(c.mss, len(data))
		out = append(out, seg{src: src, dst: dst, seq: *seq, ack: ack, payload: data[:n]})
		*seq += uint32(n)
		data = data[n:]
	}
	return out
}

// frames serializes segments in order.
func frames(t testing.TB, segs []seg) [][]byte {
	t.Helper()
	out := make([][]byte, len(segs))
	for i, s := range segs {
		out[i] = s.frame(t)
	}
	return out
}

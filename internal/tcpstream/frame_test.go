package tcpstream

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpFrame serializes an Ethernet/IPv4/TCP frame with gopacket.
func tcpFrame(t *testing.T, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), ACK: true, PSH: true, Window: 1024,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseFrame(t *testing.T) {
	src, dst := netip.MustParseAddrPort("10.0.0.10:50000"), netip.MustParseAddrPort("10.0.0.11:5061")
	frame := tcpFrame(t, src, dst, []byte("\x16\x03\x01hello"))
	s, ok := ParseFrame(frame)
	if !ok || s.Src != src || s.Dst != dst || string(s.Payload) != "\x16\x03\x01hello" {
		t.Fatalf("ParseFrame = %+v, %v", s, ok)
	}
	// Ethernet padding past the IPv4 total length is not payload.
	if s, ok := ParseFrame(append(frame, 0, 0, 0, 0)); !ok || string(s.Payload) != "\x16\x03\x01hello" {
		t.Errorf("padded frame: %+v, %v", s, ok)
	}
	for name, f := range map[string][]byte{
		"truncated":  frame[:40],
		"not IPv4":   append([]byte{}, append(frame[:12:12], append([]byte{0x86, 0xdd}, frame[14:]...)...)...),
		"bad offset": func() []byte { b := append([]byte(nil), frame...); b[14+20+12] = 0xf0; return b }(),
	} {
		if _, ok := ParseFrame(f); ok {
			t.Errorf("%s: parsed", name)
		}
	}
}

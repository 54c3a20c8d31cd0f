package attacker

import (
	"net"
	"net/netip"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// packet is one decoded frame: the layers the attackers look at. Fields
// alias the frame's bytes; copy what outlives the callback.
type packet struct {
	eth     layers.Ethernet
	arp     layers.ARP
	ip      layers.IPv4
	udp     layers.UDP
	tcp     layers.TCP
	payload gopacket.Payload
	parser  *gopacket.DecodingLayerParser
	types   []gopacket.LayerType
}

var packets = sync.Pool{New: func() any {
	p := &packet{}
	p.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &p.eth, &p.arp, &p.ip, &p.udp, &p.tcp, &p.payload)
	p.parser.IgnoreUnsupported = true
	p.types = make([]gopacket.LayerType, 0, 4)
	return p
}}

// decode parses frame into a pooled packet; release it with put. It
// returns nil for frames that are not Ethernet.
func decode(frame []byte) *packet {
	p := packets.Get().(*packet)
	if err := p.parser.DecodeLayers(frame, &p.types); err != nil && len(p.types) == 0 {
		packets.Put(p)
		return nil
	}
	return p
}

func (p *packet) put() { packets.Put(p) }

func (p *packet) has(t gopacket.LayerType) bool {
	for _, have := range p.types {
		if have == t {
			return true
		}
	}
	return false
}

func (p *packet) isARP() bool  { return p.has(layers.LayerTypeARP) }
func (p *packet) isIPv4() bool { return p.has(layers.LayerTypeIPv4) }
func (p *packet) isUDP() bool  { return p.has(layers.LayerTypeUDP) }
func (p *packet) isTCP() bool  { return p.has(layers.LayerTypeTCP) }

// src and dst are the IPv4 addresses; valid only when isIPv4.
func (p *packet) src() netip.Addr { return addrOf(p.ip.SrcIP) }
func (p *packet) dst() netip.Addr { return addrOf(p.ip.DstIP) }

func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip.To4())
	return a
}

func sameMAC(a, b net.HardwareAddr) bool {
	return len(a) == 6 && len(b) == 6 && [6]byte(a) == [6]byte(b)
}

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zeroMAC      = net.HardwareAddr{0, 0, 0, 0, 0, 0}
)

// serialize builds a frame from layers, computing lengths and checksums as
// a raw socket's user would.
func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic("attacker: building frame: " + err.Error()) // only on a bug in the layer values
	}
	return buf.Bytes()
}

// arpFrame builds an ARP message. ethDst is the Ethernet destination.
func arpFrame(op uint16, srcMAC net.HardwareAddr, srcIP netip.Addr, dstMAC net.HardwareAddr, dstIP netip.Addr, ethDst net.HardwareAddr) []byte {
	s4, d4 := srcIP.As4(), dstIP.As4()
	return serialize(
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: ethDst, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
			SourceHwAddress: srcMAC, SourceProtAddress: s4[:],
			DstHwAddress: dstMAC, DstProtAddress: d4[:],
		},
	)
}

// udpFrame builds an Ethernet/IPv4/UDP frame with any source address: the
// forger's tool.
func udpFrame(srcMAC, dstMAC net.HardwareAddr, src, dst netip.AddrPort, id uint16, payload []byte) []byte {
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: id, Protocol: layers.IPProtocolUDP, SrcIP: s4[:], DstIP: d4[:]}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = udp.SetNetworkLayerForChecksum(ip)
	return serialize(
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4},
		ip, udp, gopacket.Payload(payload),
	)
}

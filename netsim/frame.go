package netsim

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

const (
	ethHeaderLen  = 14
	ipv4HeaderLen = 20
	tcpHeaderLen  = 20
	udpHeaderLen  = 8
	defaultTTL    = 64
)

// serializeOptions fixes lengths with gopacket; checksums are computed by
// finishIPv4 with the word-at-a-time onesSum, which is several times faster
// than gopacket's byte-pair loop on full-size segments.
var serializeOptions = gopacket.SerializeOptions{FixLengths: true}

// frameEncoder holds reusable gopacket layers for building frames. It is not
// safe for concurrent use; each sender owns one and uses it under its lock.
type frameEncoder struct {
	eth  layers.Ethernet
	ip   layers.IPv4
	tcp  layers.TCP
	udp  layers.UDP
	opts [2]layers.TCPOption
	mss  [2]byte
	ws   [1]byte
	buf  frameBuffer
	src  [4]byte
	dst  [4]byte
}

// ipv4Header holds what varies between IPv4 packets a host sends.
type ipv4Header struct {
	srcMAC, dstMAC net.HardwareAddr
	src, dst       netip.Addr
	id             uint16
	ttl            uint8 // zero means defaultTTL
}

func (e *frameEncoder) setIPv4(h *ipv4Header, proto layers.IPProtocol) {
	e.eth = layers.Ethernet{SrcMAC: h.srcMAC, DstMAC: h.dstMAC, EthernetType: layers.EthernetTypeIPv4}
	e.src, e.dst = h.src.As4(), h.dst.As4()
	ttl := h.ttl
	if ttl == 0 {
		ttl = defaultTTL
	}
	e.ip = layers.IPv4{
		Version:  4,
		TTL:      ttl,
		Id:       h.id,
		Flags:    layers.IPv4DontFragment,
		Protocol: proto,
		SrcIP:    net.IP(e.src[:]),
		DstIP:    net.IP(e.dst[:]),
	}
}

// tcpHeader is the TCP header a connection sends.
type tcpHeader struct {
	srcPort, dstPort uint16
	seq, ack         uint32
	flags            tcpFlags
	window           uint16
	mss              uint16 // MSS option on SYNs; 0 omits it
	wscale           int    // window-scale option on SYNs; -1 omits it
}

type tcpFlags uint8

const (
	flagFIN tcpFlags = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

// encodeTCP builds a complete Ethernet/IPv4/TCP frame carrying payload, in
// a buffer from pool (nil allocates).
func (e *frameEncoder) encodeTCP(pool *framePool, ip *ipv4Header, h *tcpHeader, payload []byte) []byte {
	e.setIPv4(ip, layers.IPProtocolTCP)
	e.tcp = layers.TCP{
		SrcPort: layers.TCPPort(h.srcPort),
		DstPort: layers.TCPPort(h.dstPort),
		Seq:     h.seq,
		Ack:     h.ack,
		FIN:     h.flags&flagFIN != 0,
		SYN:     h.flags&flagSYN != 0,
		RST:     h.flags&flagRST != 0,
		PSH:     h.flags&flagPSH != 0,
		ACK:     h.flags&flagACK != 0,
		Window:  h.window,
	}
	optLen := 0
	if h.mss != 0 {
		binary.BigEndian.PutUint16(e.mss[:], h.mss)
		e.opts[0] = layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: e.mss[:]}
		e.tcp.Options = e.opts[:1]
		optLen = 4
		if h.wscale >= 0 {
			e.ws[0] = byte(h.wscale)
			e.opts[1] = layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: e.ws[:]}
			e.tcp.Options = e.opts[:2]
			optLen = 8 // 4 + 3, padded to a multiple of 4
		}
	}
	hdrLen := ethHeaderLen + ipv4HeaderLen + tcpHeaderLen + optLen
	frame := e.serialize(pool, hdrLen, payload, &e.eth, &e.ip, &e.tcp)
	finishIPv4(frame, 16)
	return frame
}

// dataHeaderLen is the Ethernet, IPv4 and TCP header length of a data
// segment, which carries no TCP options.
const dataHeaderLen = ethHeaderLen + ipv4HeaderLen + tcpHeaderLen

// segmentFromTemplate builds a data segment from the header of another
// segment of the same connection (GSO style): the header bytes are copied
// and the fields that differ between segments rewritten: IPv4 total length,
// identification and header checksum, TCP sequence number, flags and
// checksum. payload must make the frame at least minFrameLen long, so no
// Ethernet padding is needed.
func segmentFromTemplate(pool *framePool, template []byte, id uint16, h *tcpHeader, payload []byte) []byte {
	frame := pool.get(dataHeaderLen + len(payload))
	copy(frame, template)
	copy(frame[dataHeaderLen:], payload)
	ipHdr := frame[ethHeaderLen : ethHeaderLen+ipv4HeaderLen]
	binary.BigEndian.PutUint16(ipHdr[2:], uint16(ipv4HeaderLen+tcpHeaderLen+len(payload)))
	binary.BigEndian.PutUint16(ipHdr[4:], id)
	ipHdr[10], ipHdr[11] = 0, 0
	finishIPv4Header(frame)
	tcpHdr := frame[ethHeaderLen+ipv4HeaderLen : dataHeaderLen]
	binary.BigEndian.PutUint32(tcpHdr[4:], h.seq)
	tcpHdr[13] = byte(h.flags)
	tcpHdr[16], tcpHdr[17] = 0, 0
	finishTransport(frame, 16) // while the payload is still in this core's cache
	return frame
}

// serialize copies payload into a new frame and has gopacket write the
// headers (hdrLen bytes in all) in front of it.
func (e *frameEncoder) serialize(pool *framePool, hdrLen int, payload []byte, ls ...gopacket.SerializableLayer) []byte {
	n := hdrLen + len(payload)
	var data []byte
	if pool != nil {
		data = pool.get(n)
	} else {
		data = make([]byte, n, max(n, minFrameLen))
	}
	copy(data[hdrLen:], payload)
	e.buf = frameBuffer{data: data, payloadStart: hdrLen, payloadEnd: n, layers: e.buf.layers}
	if err := gopacket.SerializeLayers(&e.buf, serializeOptions, ls...); err != nil || e.buf.start != 0 {
		panic("netsim: encoding frame: header length mismatch") // only on a bug in the header values
	}
	return e.buf.data
}

// encodeUDP builds a complete Ethernet/IPv4/UDP frame carrying payload.
func (e *frameEncoder) encodeUDP(ip *ipv4Header, srcPort, dstPort uint16, payload []byte) []byte {
	e.setIPv4(ip, layers.IPProtocolUDP)
	e.ip.Flags = 0
	e.udp = layers.UDP{SrcPort: layers.UDPPort(srcPort), DstPort: layers.UDPPort(dstPort)}
	frame := e.serialize(nil, ethHeaderLen+ipv4HeaderLen+udpHeaderLen, payload, &e.eth, &e.ip, &e.udp)
	finishIPv4(frame, 6)
	return frame
}

// finishIPv4 fills in the IPv4 header checksum and the transport checksum,
// which sits at csumOffset within the transport header. The checksum fields
// must be zero on entry.
func finishIPv4(frame []byte, csumOffset int) {
	finishIPv4Header(frame)
	finishTransport(frame, csumOffset)
}

// finishIPv4Header fills in the IPv4 header checksum.
func finishIPv4Header(frame []byte) {
	ipHdr := frame[ethHeaderLen : ethHeaderLen+ipv4HeaderLen]
	binary.BigEndian.PutUint16(ipHdr[10:], internetChecksum(onesSum(0, ipHdr)))
}

// finishTransport fills in the TCP or UDP checksum at csumOffset of the
// transport header, which must be zero on entry.
func finishTransport(frame []byte, csumOffset int) {
	ipHdr := frame[ethHeaderLen : ethHeaderLen+ipv4HeaderLen]
	// Ethernet pads short frames to 60 bytes; the padding is not part of
	// the IPv4 packet.
	ipLen := int(binary.BigEndian.Uint16(ipHdr[2:4]))
	transport := frame[ethHeaderLen+ipv4HeaderLen : ethHeaderLen+ipLen]
	sum := pseudoHeaderSum(ipHdr[12:16], ipHdr[16:20], ipHdr[9], len(transport))
	csum := internetChecksum(onesSum(sum, transport))
	if csum == 0 && ipHdr[9] == uint8(layers.IPProtocolUDP) {
		csum = 0xffff // zero means "no checksum" in UDP
	}
	binary.BigEndian.PutUint16(transport[csumOffset:], csum)
}

// encodeARP builds an Ethernet/ARP frame.
func encodeARP(op uint16, srcMAC net.HardwareAddr, srcIP netip.Addr, dstMAC net.HardwareAddr, dstIP netip.Addr, ethDst net.HardwareAddr) []byte {
	sip, dip := srcIP.As4(), dstIP.As4()
	eth := layers.Ethernet{SrcMAC: srcMAC, DstMAC: ethDst, EthernetType: layers.EthernetTypeARP}
	arp := layers.ARP{
		AddrType:          layers.LinkTypeEthernet,
		Protocol:          layers.EthernetTypeIPv4,
		HwAddressSize:     6,
		ProtAddressSize:   4,
		Operation:         op,
		SourceHwAddress:   srcMAC,
		SourceProtAddress: sip[:],
		DstHwAddress:      dstMAC,
		DstProtAddress:    dip[:],
	}
	buf := gopacket.NewSerializeBufferExpectedSize(ethHeaderLen+28, 0)
	if err := gopacket.SerializeLayers(buf, serializeOptions, &eth, &arp); err != nil {
		panic("netsim: encoding ARP frame: " + err.Error())
	}
	return buf.Bytes()
}

// isUDPFrame reports whether frame carries an IPv4 UDP packet.
func isUDPFrame(frame []byte) bool {
	return len(frame) > ethHeaderLen+9 &&
		binary.BigEndian.Uint16(frame[12:14]) == uint16(layers.EthernetTypeIPv4) &&
		frame[ethHeaderLen+9] == uint8(layers.IPProtocolUDP)
}

// transportChecksumOK verifies the TCP or UDP checksum of an IPv4 packet
// whose header is ipHdr and whose transport segment is seg.
func transportChecksumOK(ipHdr, seg []byte, proto uint8) bool {
	if proto == uint8(layers.IPProtocolUDP) && len(seg) >= 8 && seg[6] == 0 && seg[7] == 0 {
		return true // UDP without checksum
	}
	sum := pseudoHeaderSum(ipHdr[12:16], ipHdr[16:20], proto, len(seg))
	return foldSum(onesSum(sum, seg)) == 0xffff
}

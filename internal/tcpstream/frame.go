package tcpstream

import (
	"encoding/binary"
	"net/netip"
)

// Segment is the TCP part of an Ethernet/IPv4 frame: its endpoints and
// payload (a slice of the frame).
type Segment struct {
	Src, Dst netip.AddrPort
	Payload  []byte
}

// ParseFrame reads frame as an Ethernet II frame carrying IPv4 and TCP,
// without copying, for the taps and matchers that look at frames on the
// frame path (gopacket's decoders allocate). ok is false for anything
// else, or a frame too short for the lengths its headers claim.
func ParseFrame(frame []byte) (s Segment, ok bool) {
	const eth = 14
	if len(frame) < eth+20+20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[eth+9] != 6 {
		return Segment{}, false
	}
	ip := frame[eth:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || total > len(ip) || total < ihl+20 {
		return Segment{}, false
	}
	tcp := ip[ihl:total]
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return Segment{}, false
	}
	return Segment{
		Src:     netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(tcp[0:2])),
		Dst:     netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(tcp[2:4])),
		Payload: tcp[off:],
	}, true
}

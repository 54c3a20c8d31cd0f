package eavesdrop

import (
	"net/netip"
	"slices"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// segment is one decoded TCP segment. payload aliases the frame: it is only
// valid during ObserveFrame.
type segment struct {
	src, dst netip.AddrPort
	seq      uint32
	syn, ack bool
	payload  []byte
}

// decoder holds a reusable DecodingLayerParser and its layers. It is not safe
// for concurrent use; Eavesdropper pools them.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	tcp     layers.TCP
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 4)}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.dot1q, &d.ip4, &d.tcp)
	d.parser.IgnoreUnsupported = true
	return d
}

// frameKind says what decode made of a frame.
type frameKind int

const (
	frameTCP       frameKind = iota // a whole IPv4 TCP segment
	frameOther                      // well-formed but not IPv4 TCP (ARP, UDP, a fragment, ...)
	frameMalformed                  // a layer failed to decode or was truncated
)

// decode parses frame. For frameTCP, seg is filled and aliases frame.
func (d *decoder) decode(frame []byte, seg *segment) frameKind {
	err := d.parser.DecodeLayers(frame, &d.decoded)
	if err != nil || d.parser.Truncated {
		return frameMalformed
	}
	if !slices.Contains(d.decoded, layers.LayerTypeIPv4) || !slices.Contains(d.decoded, layers.LayerTypeTCP) {
		return frameOther
	}
	if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
		return frameOther
	}
	src, ok1 := netip.AddrFromSlice(d.ip4.SrcIP)
	dst, ok2 := netip.AddrFromSlice(d.ip4.DstIP)
	if !ok1 || !ok2 {
		return frameMalformed
	}
	*seg = segment{
		src:     netip.AddrPortFrom(src, uint16(d.tcp.SrcPort)),
		dst:     netip.AddrPortFrom(dst, uint16(d.tcp.DstPort)),
		seq:     d.tcp.Seq,
		syn:     d.tcp.SYN,
		ack:     d.tcp.ACK,
		payload: d.tcp.Payload,
	}
	return frameTCP
}

// reset drops every reference into the last frame, so a pooled decoder does
// not keep a frame buffer alive.
func (d *decoder) reset() {
	d.eth = layers.Ethernet{}
	d.dot1q = layers.Dot1Q{}
	d.ip4 = layers.IPv4{}
	d.tcp = layers.TCP{}
	d.decoded = d.decoded[:0]
}

package viewer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured frame, decoded for people.
type Frame struct {
	Number  int           // 1-based, the frame's number in the pcapng
	At      time.Duration // offset from the World's start, aligned on the timeline (see linkEvents)
	Segment string        // the segment it was captured on
	From    string        // the host owning the source MAC, "" when none does
	To      string        // the host owning the destination MAC, "broadcast", or ""
	Summary string        // one line: "TCP 10.0.0.10:61614 → 10.0.0.11:5061 [SYN]"
	// Spoofed says, when the frame claims to come from another host than
	// the one that sent it, whose address or MAC it claims: "10.0.0.53 is
	// dns01's". A router forwarding others' packets is not spoofing, and
	// so is never marked, even when it forges (an on-path attacker that
	// routes is judged by the timeline's text instead).
	Spoofed string
	// Unit is the frame itself with its headers annotated: Ethernet, then
	// ARP, or IPv4 with UDP (DNS) or TCP, then the payload.
	Unit Unit
	// Messages are what the frame's payload completed, in order: TLS
	// records (with what they hold, decrypted when the key log allowed),
	// or a DNS message. A TLS record split over several frames belongs to
	// the frame that brought its last byte.
	Messages []Unit

	ts       time.Time
	class    frameClass
	tcpFlags bool           // a TCP segment with SYN, FIN or RST
	dst      netip.AddrPort // IPv4 destination and port; invalid for ARP
	tls      bool           // Messages hold TLS records
	plain    bool           // Messages hold stream data that is not TLS
}

// Unit is a run of bytes with its fields annotated, as "The Illustrated
// TLS 1.3 Connection" shows a record: each field's bytes beside what they
// mean.
type Unit struct {
	Title string
	// Note says how the bytes were obtained, e.g. "decrypted with
	// SERVER_HANDSHAKE_TRAFFIC_SECRET (client random 1f2e…)"; "" for bytes
	// as they crossed the wire.
	Note   string
	Bytes  []byte
	Fields []Field // in order, not overlapping; bytes outside every field are shown as "more"
}

// Field is a named range of a Unit's bytes.
type Field struct {
	Offset, Length int
	Name           string // "record header", "SNI", "cipher suites"
	Value          string // what the bytes say, "" when the bytes speak for themselves
}

// frameClass is what kind of timeline event a frame can stand behind.
type frameClass uint8

const (
	classOther   frameClass = iota
	classARP                // an ARP message
	classDNS                // UDP or TCP to or from port 53
	classTCPFlag            // a TCP segment without payload, with SYN, FIN or RST
	classTCPData            // a TCP segment with payload
)

// readFrames reads the pcapng at path and decodes each frame.
func readFrames(path string, names *hostNames, keys keyLog) ([]*Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("viewer: reading the capture: %w", err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty capture: no segment was captured
		}
		return nil, fmt.Errorf("viewer: reading the capture %s: %w", path, err)
	}
	d := newDecoder(names, keys)
	var frames []*Frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, fmt.Errorf("viewer: reading the capture %s, frame %d: %w", path, len(frames)+1, err)
		}
		seg := ""
		if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
			seg = intf.Name
		}
		fr := &Frame{Number: len(frames) + 1, Segment: seg, ts: ci.Timestamp}
		d.decode(fr, data)
		frames = append(frames, fr)
	}
}

// decoder decodes frames in capture order, following TCP streams to find
// TLS records and open them with the key log.
type decoder struct {
	names *hostNames
	tls   *tlsTracker
}

func newDecoder(names *hostNames, keys keyLog) *decoder {
	return &decoder{names: names, tls: newTLSTracker(keys)}
}

func (d *decoder) decode(fr *Frame, data []byte) {
	fr.Unit = Unit{Title: fmt.Sprintf("Frame %d on %s, %d bytes", fr.Number, fr.Segment, len(data)), Bytes: data}
	pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
	eth, ok := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if !ok {
		fr.Summary = "not an Ethernet frame"
		return
	}
	fr.From = d.names.byMAC[eth.SrcMAC.String()]
	fr.To = d.names.byMAC[eth.DstMAC.String()]
	if isBroadcast(eth.DstMAC) {
		fr.To = "broadcast"
	}
	u := &fr.Unit
	u.add(0, 6, "Ethernet destination", macName(eth.DstMAC, fr.To))
	u.add(6, 6, "Ethernet source", macName(eth.SrcMAC, fr.From))
	u.add(12, 2, "EtherType", eth.EthernetType.String())
	off := 14
	switch eth.EthernetType {
	case layers.EthernetTypeARP:
		d.arp(fr, pkt, off)
	case layers.EthernetTypeIPv4:
		d.ipv4(fr, pkt, off)
	default:
		fr.Summary = "Ethernet " + eth.EthernetType.String()
	}
}

func (d *decoder) arp(fr *Frame, pkt gopacket.Packet, off int) {
	fr.class = classARP
	a, ok := pkt.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || len(a.SourceProtAddress) != 4 || len(a.DstProtAddress) != 4 {
		fr.Summary = "ARP (malformed)"
		return
	}
	sender := netip.AddrFrom4([4]byte(a.SourceProtAddress))
	target := netip.AddrFrom4([4]byte(a.DstProtAddress))
	op := "request"
	fr.Summary = fmt.Sprintf("ARP who-has %v tell %v", target, sender)
	if a.Operation == layers.ARPReply {
		op = "reply"
		fr.Summary = fmt.Sprintf("ARP %v is-at %v", sender, net.HardwareAddr(a.SourceHwAddress))
	}
	u := &fr.Unit
	u.add(off, 6, "ARP hardware and protocol", "Ethernet, IPv4")
	u.add(off+6, 2, "ARP operation", op)
	claim := d.claim(sender, a.SourceHwAddress)
	u.add(off+8, 6, "sender MAC", net.HardwareAddr(a.SourceHwAddress).String()+claim)
	if claim != "" {
		fr.Spoofed = fmt.Sprintf("%v is %s's", sender, d.names.ip(sender))
	}
	u.add(off+14, 4, "sender IP", d.addr(sender))
	u.add(off+18, 6, "target MAC", net.HardwareAddr(a.DstHwAddress).String())
	u.add(off+24, 4, "target IP", d.addr(target))
	if fr.To == "broadcast" {
		if h := d.names.ip(target); h != "" {
			fr.To = h // a request is meant for the holder of the target address
		}
	}
}

// claim says whose MAC an ARP sender claims an address for, when the
// address belongs to another host: the mark of a spoofed message.
func (d *decoder) claim(ip netip.Addr, mac net.HardwareAddr) string {
	owner := d.names.ip(ip)
	claimer := d.names.byMAC[mac.String()]
	if owner == "" || claimer == "" || owner == claimer {
		return ""
	}
	return fmt.Sprintf(" (%s's MAC: SPOOFED, %v is %s's)", claimer, ip, owner)
}

func (d *decoder) addr(a netip.Addr) string {
	if h := d.names.ip(a); h != "" {
		return fmt.Sprintf("%v (%s)", a, h)
	}
	return a.String()
}

func (d *decoder) ipv4(fr *Frame, pkt gopacket.Packet, off int) {
	ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ok {
		fr.Summary = "IPv4 (malformed)"
		return
	}
	src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
	dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
	u := &fr.Unit
	hl := int(ip.IHL) * 4
	u.add(off, 1, "IPv4 version, header length", fmt.Sprintf("4, %d bytes", hl))
	u.add(off+2, 2, "IPv4 total length", fmt.Sprint(ip.Length))
	u.add(off+8, 1, "IPv4 TTL", fmt.Sprint(ip.TTL))
	u.add(off+9, 1, "IPv4 protocol", ip.Protocol.String())
	srcNote := ""
	if owner := d.names.ip(src); owner != "" && fr.From != "" && owner != fr.From && !d.names.router[fr.From] {
		fr.Spoofed = fmt.Sprintf("%v is %s's", src, owner)
		srcNote = fmt.Sprintf(": SPOOFED, sent by %s", fr.From)
	}
	u.add(off+12, 4, "IPv4 source", d.addr(src)+srcNote)
	u.add(off+16, 4, "IPv4 destination", d.addr(dst))
	off += hl
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		fr.Summary = fmt.Sprintf("IPv4 fragment %v → %v", src, dst)
		return
	}
	switch ip.Protocol {
	case layers.IPProtocolUDP:
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			return
		}
		u.add(off, 2, "UDP source port", fmt.Sprint(uint16(udp.SrcPort)))
		u.add(off+2, 2, "UDP destination port", fmt.Sprint(uint16(udp.DstPort)))
		u.add(off+4, 2, "UDP length", fmt.Sprint(udp.Length))
		fr.Summary = fmt.Sprintf("UDP %v:%d → %v:%d", src, udp.SrcPort, dst, udp.DstPort)
		fr.dst = netip.AddrPortFrom(dst, uint16(udp.DstPort))
		if udp.SrcPort == 53 || udp.DstPort == 53 {
			fr.class = classDNS
			u.add(off+8, len(udp.Payload), "DNS message", "")
			if m, ok := dnsUnit(udp.Payload); ok {
				fr.Messages = append(fr.Messages, m)
				fr.Summary = "DNS " + m.Title
			}
		}
	case layers.IPProtocolTCP:
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			return
		}
		flags := tcpFlags(tcp)
		u.add(off, 2, "TCP source port", fmt.Sprint(uint16(tcp.SrcPort)))
		u.add(off+2, 2, "TCP destination port", fmt.Sprint(uint16(tcp.DstPort)))
		u.add(off+4, 4, "TCP sequence number", fmt.Sprint(tcp.Seq))
		u.add(off+8, 4, "TCP acknowledgment number", fmt.Sprint(tcp.Ack))
		u.add(off+13, 1, "TCP flags", flags)
		u.add(off+14, 2, "TCP window", fmt.Sprint(tcp.Window))
		hl := int(tcp.DataOffset) * 4
		fr.Summary = fmt.Sprintf("TCP %v:%d → %v:%d [%s] len %d", src, tcp.SrcPort, dst, tcp.DstPort, flags, len(tcp.Payload))
		fr.tcpFlags = tcp.SYN || tcp.FIN || tcp.RST
		switch {
		case tcp.SrcPort == 53 || tcp.DstPort == 53:
			fr.class = classDNS
		case len(tcp.Payload) > 0:
			fr.class = classTCPData
		case tcp.SYN || tcp.FIN || tcp.RST:
			fr.class = classTCPFlag
		}
		if len(tcp.Payload) > 0 {
			u.add(off+hl, len(tcp.Payload), "TCP payload", fmt.Sprintf("%d bytes", len(tcp.Payload)))
		}
		from := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		to := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
		fr.dst = to
		for _, m := range d.tls.add(fr.Segment, from, to, tcp.Seq, tcp.SYN, tcp.Payload) {
			fr.Messages = append(fr.Messages, m)
			fr.tls = fr.tls || strings.HasPrefix(m.Title, "TLS ")
			fr.plain = fr.plain || m.Title == plainTitle
		}
	default:
		fr.Summary = fmt.Sprintf("IPv4 %v → %v %s", src, dst, ip.Protocol)
	}
}

func tcpFlags(t *layers.TCP) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{t.SYN, "SYN"}, {t.ACK, "ACK"}, {t.PSH, "PSH"}, {t.FIN, "FIN"}, {t.RST, "RST"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, ",")
}

func isBroadcast(mac net.HardwareAddr) bool {
	return len(mac) == 6 && binary.BigEndian.Uint16(mac[:2]) == 0xffff && binary.BigEndian.Uint32(mac[2:]) == 0xffffffff
}

func macName(mac net.HardwareAddr, host string) string {
	if host == "" {
		return mac.String()
	}
	return fmt.Sprintf("%v (%s)", mac, host)
}

// add appends a field, clipped to the unit's bytes; fields that fall
// outside are dropped.
func (u *Unit) add(off, n int, name, value string) {
	if off < 0 || off >= len(u.Bytes) || n <= 0 {
		return
	}
	n = min(n, len(u.Bytes)-off)
	u.Fields = append(u.Fields, Field{Offset: off, Length: n, Name: name, Value: value})
}

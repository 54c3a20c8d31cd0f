package netsim

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// receiver decodes the frames one NIC receives, with gopacket, and hands
// them to the host's ARP, TCP, UDP or forwarding code. It belongs to the
// NIC's receive goroutine and is not safe for concurrent use.
type receiver struct {
	nic     *NIC
	host    *Host
	parser  *gopacket.DecodingLayerParser
	eth     layers.Ethernet
	arp     layers.ARP
	ip      layers.IPv4
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload
	decoded []gopacket.LayerType
	touched []*Conn // connections that got segments in this batch
}

func newReceiver(n *NIC) *receiver {
	r := &receiver{nic: n, host: n.host}
	r.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &r.eth, &r.arp, &r.ip, &r.tcp, &r.udp, &r.payload)
	r.parser.IgnoreUnsupported = true
	r.decoded = make([]gopacket.LayerType, 0, 4)
	return r
}

// input processes one received frame and reports whether it kept a
// reference to the frame's bytes. owned means the frame is the receiver's
// alone, so whoever keeps it may recycle it later. Malformed frames and
// frames with bad checksums are dropped, as a real stack drops them.
//
// pristine frames (see queuedFrame) skip transport checksum verification;
// every other frame, including any a hook rewrote, is verified.
func (r *receiver) input(frame []byte, owned, pristine bool) (kept bool) {
	if err := r.parser.DecodeLayers(frame, &r.decoded); err != nil || len(r.decoded) < 2 {
		return false
	}
	switch r.decoded[1] {
	case layers.LayerTypeARP:
		r.host.arp.input(r.nic, &r.arp)
	case layers.LayerTypeIPv4:
		return r.inputIPv4(frame, owned, pristine)
	}
	return false
}

func (r *receiver) inputIPv4(frame []byte, owned, pristine bool) (kept bool) {
	ipHdr := r.ip.Contents
	if len(ipHdr) < ipv4HeaderLen || foldSum(onesSum(0, ipHdr)) != 0xffff {
		return false
	}
	dst := netip.AddrFrom4([4]byte(r.ip.DstIP.To4()))
	h := r.host
	if !h.isLocal(dst) && !r.intercepted(dst) {
		if r.isGroupDst(dst) {
			return r.inputGroup(dst, pristine) // never forwarded
		}
		if h.cfg.Forwarding {
			h.forward(r.nic, frame)
		}
		return false
	}
	if len(r.decoded) < 3 || r.ip.Flags&layers.IPv4MoreFragments != 0 || r.ip.FragOffset != 0 {
		return false // netsim sends no fragments and reassembles none
	}
	src := netip.AddrFrom4([4]byte(r.ip.SrcIP.To4()))
	switch r.decoded[2] {
	case layers.LayerTypeTCP:
		if !pristine && !transportChecksumOK(ipHdr, r.ip.Payload, uint8(layers.IPProtocolTCP)) {
			return false
		}
		seg := segmentFromLayer(&r.tcp)
		if owned {
			seg.frame = frame
		}
		kept := h.tcpInput(src, dst, &seg)
		if seg.conn != nil && (len(r.touched) == 0 || r.touched[len(r.touched)-1] != seg.conn) {
			r.touched = append(r.touched, seg.conn)
		}
		return kept
	case layers.LayerTypeUDP:
		if !pristine && !transportChecksumOK(ipHdr, r.ip.Payload, uint8(layers.IPProtocolUDP)) {
			return false
		}
		h.udpInput(src, dst, uint16(r.udp.SrcPort), uint16(r.udp.DstPort), r.udp.Payload)
		return true // queued datagrams alias the frame
	}
	return false
}

// notifyReaders wakes the readers of connections that received data or a
// FIN since the last call. The receive loop calls it after each batch of
// frames, so a reader that keeps up wakes once per batch.
func (r *receiver) notifyReaders() {
	for i, c := range r.touched {
		c.mu.Lock()
		notify := c.readerNotify
		c.readerNotify = false
		c.mu.Unlock()
		if notify {
			kick(c.readable)
		}
		r.touched[i] = nil
	}
	r.touched = r.touched[:0]
}

// intercepted reports whether a TCP segment for another host's address
// belongs to this host anyway: to a transparent listener on its port, or to
// a connection such a listener accepted.
func (r *receiver) intercepted(dst netip.Addr) bool {
	if len(r.decoded) < 3 || r.decoded[2] != layers.LayerTypeTCP {
		return false
	}
	t := &r.host.tcp
	port := uint16(r.tcp.DstPort)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if l := t.listeners[port]; l != nil && l.transparent {
		return true
	}
	src := netip.AddrFrom4([4]byte(r.ip.SrcIP.To4()))
	_, ok := t.conns[connKey{local: netip.AddrPortFrom(dst, port), remote: netip.AddrPortFrom(src, uint16(r.tcp.SrcPort))}]
	return ok
}

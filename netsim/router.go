package netsim

import (
	"encoding/binary"
	"net/netip"
)

// forward routes a packet that arrived on in for another host: forward
// hooks run first, then the TTL is decremented (packets whose TTL runs out
// are dropped) and the frame is re-addressed to the next hop's MAC.
func (h *Host) forward(in *NIC, frame []byte) {
	if p := h.forwardHooks.Load(); p != nil && len(*p) > 0 {
		f := Frame{Data: frame, Ingress: in}
		for _, hook := range *p {
			if hook.HandleFrame(&f) == Drop {
				return
			}
		}
		frame = f.Data
		if len(frame) < ethHeaderLen+ipv4HeaderLen {
			return
		}
	}
	ipHdr := frame[ethHeaderLen:]
	if ipHdr[8] <= 1 {
		return // TTL exceeded; netsim sends no ICMP
	}
	dst := netip.AddrFrom4([4]byte(ipHdr[16:20]))
	p, err := h.lookupPath(dst)
	if err != nil || p.local {
		return
	}
	if p.nextHop == dst && isDirectedBroadcast(p.nic.Prefix(), dst) {
		return // directed broadcasts are not forwarded (RFC 2644)
	}
	if len(frame) > ethHeaderLen+p.nic.seg.mtu {
		return // would need fragmentation, and netsim sets DF
	}
	out := CloneFrame(frame)
	out[ethHeaderLen+8]-- // TTL
	ihl := int(out[ethHeaderLen]&0x0f) * 4
	hdr := out[ethHeaderLen : ethHeaderLen+ihl]
	hdr[10], hdr[11] = 0, 0
	binary.BigEndian.PutUint16(hdr[10:], internetChecksum(onesSum(0, hdr)))
	copy(out[6:12], p.nic.mac)
	mac, ok := h.arp.lookup(p.nextHop)
	if !ok {
		h.arp.enqueue(p.nic, p.nextHop, out)
		return
	}
	copy(out[0:6], mac)
	p.nic.transmit(out)
}

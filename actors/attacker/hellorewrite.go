package attacker

import (
	"encoding/binary"
	"sync"

	"github.com/tlslab/tlslab/internal/tlswire"
	"github.com/tlslab/tlslab/netsim"
)

// HelloDowngrader is the on-path downgrade by rewriting rather than
// answering: a frame hook that edits each ClientHello crossing it so that
// its supported_versions extension offers nothing above MaxVersion
// (higher entries are overwritten in place, so lengths and TCP sequence
// numbers stay as they were, and the TCP checksum is recomputed). The
// server, seeing only TLS 1.2 offered, negotiates it, but a TLS 1.3 server
// marks its ServerHello random with the RFC 8446 downgrade sentinel, and a
// TLS 1.3 client aborts: "tls: downgrade attempt detected, possibly due to
// a MitM attack or a broken middlebox". (Were the sentinel missing, the
// Finished messages, which hash the original ClientHello, would still
// disagree.)
//
// It handles a ClientHello whose supported_versions extension lies in the
// first TCP segment of the record, as crypto/tls's does. Safe for
// concurrent use.
type HelloDowngrader struct {
	// Port is the server port whose ClientHellos are rewritten.
	Port uint16
	// MaxVersion is the highest version left on offer, e.g.
	// tls.VersionTLS12.
	MaxVersion uint16

	mu        sync.Mutex
	rewritten int
}

// AttachSegment rewrites ClientHellos crossing seg (a hook: the attacker
// controls the switch).
func (d *HelloDowngrader) AttachSegment(seg *netsim.Segment) (remove func()) {
	return seg.AddHook(netsim.HookFunc(d.handle))
}

// AttachSegmentVia rewrites ClientHellos crossing seg as AttachSegment
// does, but only those that would reach the attacker's interface nic (see
// netsim.Segment.AddHookVia): with her host cut off, nothing is rewritten.
func (d *HelloDowngrader) AttachSegmentVia(seg *netsim.Segment, nic *netsim.NIC) (remove func()) {
	return seg.AddHookVia(nic, netsim.HookFunc(d.handle))
}

// AttachRouter rewrites ClientHellos router forwards (the attacker is on
// the path: ARP spoofing, a rogue gateway).
func (d *HelloDowngrader) AttachRouter(router *netsim.Host) (remove func()) {
	return router.AddForwardHook(netsim.HookFunc(d.handle))
}

// Rewritten counts the ClientHellos rewritten so far.
func (d *HelloDowngrader) Rewritten() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rewritten
}

func (d *HelloDowngrader) handle(f *netsim.Frame) netsim.HookAction {
	p := decode(f.Data)
	if p == nil {
		return netsim.Pass
	}
	if !p.isTCP() || uint16(p.tcp.DstPort) != d.Port || len(p.tcp.Payload) == 0 {
		p.put()
		return netsim.Pass
	}
	off := len(f.Data) - len(p.tcp.Payload) - trailer(p)
	p.put()
	if off < 0 {
		return netsim.Pass
	}
	frame := netsim.CloneFrame(f.Data)
	if !tlswire.DowngradeSupportedVersions(frame[off:], d.MaxVersion) {
		return netsim.Pass
	}
	fixTCPChecksum(frame)
	f.Data = frame
	d.mu.Lock()
	d.rewritten++
	d.mu.Unlock()
	return netsim.Pass
}

// trailer is the Ethernet padding after the IPv4 packet.
func trailer(p *packet) int {
	return len(p.eth.Payload) - int(p.ip.Length)
}

// fixTCPChecksum recomputes the TCP checksum of an Ethernet/IPv4/TCP
// frame.
func fixTCPChecksum(frame []byte) {
	ip := frame[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	seg := ip[ihl:total]
	seg[16], seg[17] = 0, 0
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(ip[12:20]) // source and destination
	sum += uint32(ip[9]) + uint32(len(seg))
	add(seg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(seg[16:], ^uint16(sum))
}

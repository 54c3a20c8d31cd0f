package attacker

import (
	"net/netip"
	"slices"
	"sync"

	"github.com/tlslab/tlslab/netsim"
)

// Blocker drops every frame to or from the hosts it blocks: IPv4 packets
// whose source or destination is a blocked address, and ARP messages about
// one. It denies a service (a CRL and OCSP host, so that soft-fail
// revocation checking gives up) from wherever it is attached: a segment
// hook (a switch the attacker controls) or a router's forward hook (the
// attacker is the gateway). It counts what it dropped. Safe for concurrent
// use; one Blocker may be attached at several points.
type Blocker struct {
	hosts []netip.Addr

	mu      sync.Mutex
	dropped map[netip.Addr]int
	total   int
}

// NewBlocker returns a blocker for hosts; it drops nothing until
// attached.
func NewBlocker(hosts ...netip.Addr) *Blocker {
	return &Blocker{hosts: slices.Clone(hosts), dropped: map[netip.Addr]int{}}
}

// AttachSegment drops the blocked hosts' frames on seg.
func (b *Blocker) AttachSegment(seg *netsim.Segment) (remove func()) {
	return seg.AddHook(netsim.HookFunc(b.handle))
}

// AttachSegmentVia drops the blocked hosts' frames on seg as AttachSegment
// does, but only those that would reach the attacker's interface nic (see
// netsim.Segment.AddHookVia): with her host cut off, nothing is dropped.
func (b *Blocker) AttachSegmentVia(seg *netsim.Segment, nic *netsim.NIC) (remove func()) {
	return seg.AddHookVia(nic, netsim.HookFunc(b.handle))
}

// AttachRouter drops the blocked hosts' packets that router would
// forward. The router's own traffic is not affected.
func (b *Blocker) AttachRouter(router *netsim.Host) (remove func()) {
	return router.AddForwardHook(netsim.HookFunc(b.handle))
}

func (b *Blocker) handle(f *netsim.Frame) netsim.HookAction {
	p := decode(f.Data)
	if p == nil {
		return netsim.Pass
	}
	defer p.put()
	var hit netip.Addr
	switch {
	case p.isIPv4():
		if src, dst := p.src(), p.dst(); slices.Contains(b.hosts, src) {
			hit = src
		} else if slices.Contains(b.hosts, dst) {
			hit = dst
		}
	case p.isARP() && len(p.arp.SourceProtAddress) == 4 && len(p.arp.DstProtAddress) == 4:
		if src := netip.AddrFrom4([4]byte(p.arp.SourceProtAddress)); slices.Contains(b.hosts, src) {
			hit = src
		} else if dst := netip.AddrFrom4([4]byte(p.arp.DstProtAddress)); slices.Contains(b.hosts, dst) {
			hit = dst
		}
	}
	if !hit.IsValid() {
		return netsim.Pass
	}
	b.mu.Lock()
	b.dropped[hit]++
	b.total++
	b.mu.Unlock()
	return netsim.Drop
}

// BlockReport is what a Blocker dropped.
type BlockReport struct {
	// Dropped counts frames, in total and per blocked host.
	Dropped int
	PerHost map[netip.Addr]int
}

// Report returns a copy of the counts so far.
func (b *Blocker) Report() BlockReport {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := BlockReport{Dropped: b.total, PerHost: make(map[netip.Addr]int, len(b.hosts))}
	for _, h := range b.hosts {
		r.PerHost[h] = b.dropped[h]
	}
	return r
}

package attacker

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/netsim"
)

// DNSSpoofConfig declares an on-path DNS spoofer.
type DNSSpoofConfig struct {
	// Forgery is what forged answers say. Required: at least its A or
	// SRVTarget.
	Forgery DNSForgery
	// Servers limits spoofing to queries sent to these name servers;
	// empty means queries to any address.
	Servers []netip.Addr
	// DropQueries also drops the queries it answers, so the real answer
	// never races the forged one. Without it the forged answer still
	// wins: it leaves as the query passes, a round trip ahead.
	DropQueries bool
	// HoldQueries, where the spoofer sits on a segment (AttachSegment,
	// AttachSegmentVia), holds back each query it answers this long on the
	// World clock before the segment delivers it (netsim.Frame.Delay), as
	// a switch in the attacker's hands can; captures of the segment show
	// the query when it was sent. The forged answer then keeps its lead even when the network
	// reorders or jitters frames by less, and the real answer still
	// reaches the client, later: a resolver that drops the forgery
	// (DNSSEC) keeps its service. AttachNIC holds nothing: the attacker's
	// host forwards at once, or drops with DropQueries, which wins over
	// HoldQueries everywhere.
	HoldQueries time.Duration
}

// DNSSpoofer is an on-path DNS spoofer: it sees each query as it passes
// (UDP port 53), and answers it at once with a forged response carrying
// the query's ID, ports and question, sent from the name server's address.
// A stub resolver accepts the first matching response, so the forgery wins
// the race against the real server; only DNSSEC validation of the zone
// rejects it ("dns: DNSSEC validation failed for ... : no RRSIG").
//
// Attach it where the queries pass: AttachNIC for a host positioned by an
// ARPSpoofer or a RogueGateway, AttachSegment for a hook on the segment (a
// compromised switch), AttachSegmentVia for a hook that acts only through
// the attacker's own interface. Safe for concurrent use.
type DNSSpoofer struct {
	cfg DNSSpoofConfig

	mu        sync.Mutex
	questions []DNSQuestion
	answered  map[queryKey]bool // queries forged for, so forwarded copies can be dropped
	genuine   map[queryKey]bool // of those, the ones whose real answer passed the hook
	changed   chan struct{}     // closed and replaced when genuine grows
}

// NewDNSSpoofer returns a spoofer; it does nothing until attached.
func NewDNSSpoofer(cfg DNSSpoofConfig) (*DNSSpoofer, error) {
	if !cfg.Forgery.A.Is4() && cfg.Forgery.SRVTarget == "" {
		return nil, &ConfigError{"DNSSpoofConfig.Forgery", "forges nothing; set A (the attacker's address) or SRVTarget"}
	}
	cfg.Servers = slices.Clone(cfg.Servers)
	if cfg.HoldQueries < 0 {
		return nil, &ConfigError{"DNSSpoofConfig.HoldQueries", "is negative"}
	}
	return &DNSSpoofer{cfg: cfg, answered: map[queryKey]bool{}, genuine: map[queryKey]bool{}, changed: make(chan struct{})}, nil
}

// AttachNIC spoofs from the attacker's interface nic: queries other hosts
// send to nic's MAC (because their ARP cache or route points at it) are
// answered with frames from nic. The attacker's host forwards the queries
// unless DropQueries, which installs a forward hook dropping them.
func (s *DNSSpoofer) AttachNIC(nic *netsim.NIC) (remove func()) {
	mac := nic.MAC()
	own := map[netip.Addr]bool{}
	for _, n := range nic.Host().NICs() {
		own[n.Addr()] = true
	}
	rmTap := nic.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
		p := decode(frame)
		if p == nil {
			return
		}
		defer p.put()
		if !sameMAC(p.eth.DstMAC, mac) || sameMAC(p.eth.SrcMAC, mac) || own[p.dst()] {
			return
		}
		if resp := s.forge(p); resp != nil {
			nic.WriteFrame(resp(nic, mac, p.eth.SrcMAC))
		}
	}))
	rmHook := func() {}
	if s.cfg.DropQueries {
		rmHook = nic.Host().AddForwardHook(netsim.HookFunc(s.dropAnswered))
	}
	return func() { rmTap(); rmHook() }
}

// AttachSegment spoofs from a hook on seg: every query crossing the
// segment is answered by an injected frame that seems to come from the
// query's destination MAC, before the query itself is delivered. It stands
// for a switch the attacker controls, whatever becomes of her machine; see
// AttachSegmentVia. With no host of hers in the act, its forged frames
// carry no capture note.
func (s *DNSSpoofer) AttachSegment(seg *netsim.Segment) (remove func()) {
	return seg.AddHook(netsim.HookFunc(func(f *netsim.Frame) netsim.HookAction {
		return s.spoof(f, nil, seg.Inject)
	}))
}

// AttachSegmentVia spoofs as AttachSegment does, but only as far as the
// attacker's interface nic lets her (see netsim.Segment.AddHookVia): the
// hook sees a query only if it would reach nic, and forged answers leave
// through nic (netsim.NIC.Inject). Cut her host off and the spoofer sees
// and forges nothing. Without impairment it behaves as AttachSegment.
func (s *DNSSpoofer) AttachSegmentVia(seg *netsim.Segment, nic *netsim.NIC) (remove func()) {
	return seg.AddHookVia(nic, netsim.HookFunc(func(f *netsim.Frame) netsim.HookAction {
		return s.spoof(f, nic, nic.Inject)
	}))
}

// spoof is the segment hook: it answers a query it covers with a forged
// frame sent by inject (through nic, which names the attacker in the
// frame's capture note; nil for none), then drops the query, holds it
// back (HoldQueries) or passes it.
func (s *DNSSpoofer) spoof(f *netsim.Frame, nic *netsim.NIC, inject func([]byte)) netsim.HookAction {
	p := decode(f.Data)
	if p == nil {
		return netsim.Pass
	}
	defer p.put()
	s.noteGenuine(p)
	resp := s.forge(p)
	if resp == nil {
		return netsim.Pass
	}
	inject(resp(nic, p.eth.DstMAC, p.eth.SrcMAC))
	if s.cfg.DropQueries {
		return netsim.Drop
	}
	f.Delay += s.cfg.HoldQueries
	return netsim.Pass
}

// forge looks at a decoded frame; for a query it covers it returns a
// builder of the forged answer frame from srcMAC to dstMAC, noted for
// captures as sent by nic's host (nil notes nothing), else nil. Every
// query seen is recorded.
func (s *DNSSpoofer) forge(p *packet) func(nic *netsim.NIC, srcMAC, dstMAC net.HardwareAddr) []byte {
	if !p.isUDP() || p.udp.DstPort != 53 {
		return nil
	}
	server := netip.AddrPortFrom(p.dst(), 53)
	client := netip.AddrPortFrom(p.src(), uint16(p.udp.SrcPort))
	if len(s.cfg.Servers) > 0 && !slices.Contains(s.cfg.Servers, server.Addr()) {
		return nil
	}
	q := new(miekg.Msg)
	if q.Unpack(p.udp.Payload) != nil {
		return nil
	}
	m := s.cfg.Forgery.Answer(q)
	s.mu.Lock()
	s.questions = append(s.questions, questionOf(q, client, server, m != nil))
	if m != nil {
		s.answered[queryKey{client, server, q.Id}] = true
	}
	s.mu.Unlock()
	if m == nil {
		return nil
	}
	wire, err := m.Pack()
	if err != nil {
		return nil
	}
	id := p.ip.Id + 1
	return func(nic *netsim.NIC, srcMAC, dstMAC net.HardwareAddr) []byte {
		frame := udpFrame(srcMAC, dstMAC, server, client, id, wire)
		if nic == nil {
			return frame
		}
		return noteFrame(nic, frame, "forged DNS answer %s (query ID %d from %s)", dnsAnswerText(m), q.Id, client)
	}
}

// noteGenuine records a name server's own answer to a query the spoofer
// forged for, as it passes a segment hook (the forgery left first).
func (s *DNSSpoofer) noteGenuine(p *packet) {
	if !p.isUDP() || p.udp.SrcPort != 53 || len(p.udp.Payload) < 2 {
		return
	}
	id := uint16(p.udp.Payload[0])<<8 | uint16(p.udp.Payload[1])
	key := queryKey{netip.AddrPortFrom(p.dst(), uint16(p.udp.DstPort)), netip.AddrPortFrom(p.src(), 53), id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered[key] && !s.genuine[key] {
		s.genuine[key] = true
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// AwaitGenuineAnswers waits until the name server's own answer to every
// query the spoofer forged for has crossed the segment it is attached to
// (AttachSegment, AttachSegmentVia; a held query's answer comes
// HoldQueries later), and reports how many there were; ok is false when
// ctx ended first. A spoofer on a NIC, or one that drops the queries,
// sees no real answer: it waits for ctx.
func (s *DNSSpoofer) AwaitGenuineAnswers(ctx context.Context) (n int, ok bool) {
	for {
		s.mu.Lock()
		n, want, changed := len(s.genuine), len(s.answered), s.changed
		s.mu.Unlock()
		if n == want {
			return n, true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return n, false
		}
	}
}

// dropAnswered is the forward hook that drops queries already forged for.
func (s *DNSSpoofer) dropAnswered(f *netsim.Frame) netsim.HookAction {
	p := decode(f.Data)
	if p == nil {
		return netsim.Pass
	}
	defer p.put()
	if !p.isUDP() || p.udp.DstPort != 53 {
		return netsim.Pass
	}
	q := new(miekg.Msg)
	if q.Unpack(p.udp.Payload) != nil {
		return netsim.Pass
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered[queryKey{netip.AddrPortFrom(p.src(), uint16(p.udp.SrcPort)), netip.AddrPortFrom(p.dst(), 53), q.Id}] {
		return netsim.Drop
	}
	return netsim.Pass
}

// queryKey identifies a query in flight.
type queryKey struct {
	client, server netip.AddrPort
	id             uint16
}

// Questions returns a copy of the queries seen so far, in order, each
// saying whether it was answered with the forgery.
func (s *DNSSpoofer) Questions() []DNSQuestion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DNSQuestion(nil), s.questions...)
}

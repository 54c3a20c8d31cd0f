package attacker

import (
	"context"
	"net"
	"net/netip"
	"sync"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
)

// RogueDNS is a DNS server that answers with the attacker's forgery: what
// a victim gets when the attacker is its configured name server (a rogue
// DHCP offer, a compromised resolver, a position as the victim's DNS). A
// question the forgery does not cover is answered REFUSED. It is a
// miekg/dns Handler; Serve runs it on netsim sockets. Safe for concurrent
// use.
type RogueDNS struct {
	forgery DNSForgery

	mu      sync.Mutex
	queries []DNSQuestion
}

var _ miekg.Handler = (*RogueDNS)(nil)

// NewRogueDNS returns a server answering with f; the zero DNSForgery with
// A set answers every A query with that address.
func NewRogueDNS(f DNSForgery) *RogueDNS { return &RogueDNS{forgery: f} }

// ServeDNS answers one query.
func (r *RogueDNS) ServeDNS(w miekg.ResponseWriter, q *miekg.Msg) {
	m := r.forgery.Answer(q)
	if m == nil {
		m = new(miekg.Msg)
		m.SetRcode(q, miekg.RcodeRefused)
	}
	client, server := addrPortOfAny(w.RemoteAddr()), addrPortOfAny(w.LocalAddr())
	r.mu.Lock()
	r.queries = append(r.queries, questionOf(q, client, server, m.Rcode == miekg.RcodeSuccess))
	r.mu.Unlock()
	_ = w.WriteMsg(m)
}

// Queries returns a copy of the questions received so far, in order.
func (r *RogueDNS) Queries() []DNSQuestion {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]DNSQuestion(nil), r.queries...)
}

// Serve answers queries on pc (UDP) and l (TCP) until ctx ends, then
// closes both and returns context.Cause(ctx) once every goroutine it
// started has finished. Either may be nil, not both.
func (r *RogueDNS) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	return dns.Serve(ctx, r, pc, l)
}

// addrPortOfAny returns a UDP or TCP address as a netip.AddrPort.
func addrPortOfAny(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.TCPAddr:
		return addrPortOf(a)
	}
	return netip.AddrPort{}
}

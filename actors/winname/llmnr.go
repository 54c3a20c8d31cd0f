package winname

import (
	"fmt"
	"net/netip"
	"strings"

	miekg "github.com/miekg/dns"
)

// LLMNR (RFC 4795) uses the DNS message format (miekg/dns here) with its
// own header bits: C (conflict) where DNS has AA, T (tentative) where DNS
// has RD. Queries go to a multicast group, responses come back by unicast.

// LLMNR's well-known addresses.
var (
	// LLMNRGroup is the IPv4 multicast group LLMNR queries are sent to.
	LLMNRGroup = netip.MustParseAddr("224.0.0.252")
)

// LLMNRPort is LLMNR's UDP port, for queries and responses.
const LLMNRPort = 5355

// NBNSPort is the NetBIOS name service's UDP port.
const NBNSPort = 137

// DefaultLLMNRTTL is the TTL of an LLMNR answer: Windows' 30 seconds.
const DefaultLLMNRTTL = 30

// NewLLMNRQuery returns an LLMNR query for name's A records: C, TC and T
// clear, one question, no records.
func NewLLMNRQuery(id uint16, name string) *miekg.Msg {
	m := new(miekg.Msg)
	m.SetQuestion(miekg.Fqdn(name), miekg.TypeA)
	m.Id = id
	m.RecursionDesired = false // the T bit
	return m
}

// NewLLMNRAnswer returns the response to query (which must hold one
// question) giving addr as the A record of the name asked, with ttl; the
// question is copied as RFC 4795 requires, C and T are clear.
func NewLLMNRAnswer(query *miekg.Msg, addr netip.Addr, ttl uint32) *miekg.Msg {
	m := new(miekg.Msg)
	m.Id = query.Id
	m.Response = true
	m.Opcode = miekg.OpcodeQuery
	m.Question = []miekg.Question{query.Question[0]}
	m.Answer = []miekg.RR{&miekg.A{
		Hdr: miekg.RR_Header{Name: query.Question[0].Name, Rrtype: miekg.TypeA, Class: miekg.ClassINET, Ttl: ttl},
		A:   addr.AsSlice(),
	}}
	return m
}

// llmnrQuestion checks that q is an LLMNR query this package answers and
// returns the name asked, without the trailing dot: a query (QR clear,
// opcode 0) with one IN question of type A or ANY, and no records (RFC 4795
// section 2.1.1 has responders discard anything else).
func llmnrQuestion(q *miekg.Msg) (string, error) {
	switch {
	case q.Response:
		return "", fmt.Errorf("not a query")
	case q.Opcode != miekg.OpcodeQuery:
		return "", fmt.Errorf("opcode %d", q.Opcode)
	case len(q.Question) != 1:
		return "", fmt.Errorf("%d questions", len(q.Question))
	case len(q.Answer) != 0 || len(q.Ns) != 0:
		return "", fmt.Errorf("records in a query")
	}
	qq := q.Question[0]
	if qq.Qclass != miekg.ClassINET && qq.Qclass != miekg.ClassANY {
		return "", fmt.Errorf("class %d", qq.Qclass)
	}
	if qq.Qtype != miekg.TypeA && qq.Qtype != miekg.TypeANY {
		return "", fmt.Errorf("type %s", miekg.Type(qq.Qtype))
	}
	return strings.TrimSuffix(qq.Name, "."), nil
}

// llmnrAddrs returns the IPv4 addresses resp gives for query's question,
// or an error saying why resp does not answer it: not a response, another
// ID or question, C (conflict) or TC set, an error RCODE, or no A record
// for the name.
func llmnrAddrs(resp, query *miekg.Msg) ([]netip.Addr, error) {
	switch {
	case !resp.Response:
		return nil, fmt.Errorf("not a response")
	case resp.Id != query.Id:
		return nil, fmt.Errorf("ID %d, want %d", resp.Id, query.Id)
	case len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, query.Question[0].Name) ||
		resp.Question[0].Qtype != query.Question[0].Qtype:
		return nil, fmt.Errorf("another question")
	case resp.Authoritative:
		return nil, fmt.Errorf("C (conflict) bit set")
	case resp.Truncated:
		return nil, fmt.Errorf("truncated")
	case resp.Rcode != miekg.RcodeSuccess:
		return nil, fmt.Errorf("RCODE %s", miekg.RcodeToString[resp.Rcode])
	}
	var addrs []netip.Addr
	for _, rr := range resp.Answer {
		if a, ok := rr.(*miekg.A); ok && strings.EqualFold(a.Hdr.Name, query.Question[0].Name) {
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				addrs = append(addrs, ip)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no A record for %s", query.Question[0].Name)
	}
	return addrs, nil
}

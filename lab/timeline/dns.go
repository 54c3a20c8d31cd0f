package timeline

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// observeDNS reports one DNS message from one endpoint to another; via is
// "" for UDP, "TCP" for DNS over TCP. Messages that do not parse are
// skipped.
func (r *recorder) observeDNS(ts time.Time, src net.HardwareAddr, from, to netip.AddrPort, b []byte, via string) {
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		return
	}
	q := "(no question)"
	if len(m.Question) > 0 {
		q = strings.TrimSuffix(m.Question[0].Name, ".") + " " + dns.TypeToString[m.Question[0].Qtype]
	}
	if via != "" {
		via = " over " + via
	}
	key := fmt.Sprintf("dns|%s|%v|%v|%d|%t", via, from, to, m.Id, m.Response)
	e := &wireEvent{at: ts, srcMAC: src, srcIP: from.Addr(), kind: DNS}
	if !m.Response {
		e.text = func(n *namer) string {
			return fmt.Sprintf("DNS query %s -> %s%s", q, n.addr(to.Addr()), via)
		}
		r.add(key, e)
		return
	}
	answer := dnsAnswer(&m)
	e.text = func(n *namer) string {
		return fmt.Sprintf("DNS answer %s -> %s%s: %s", q, n.addr(to.Addr()), via, answer)
	}
	r.add(key, e)
}

// dnsAnswer is "NOERROR: SRV 0 0 5061 pool01.contoso.com., A 10.0.0.11",
// with the AD flag when set and "no records" for an empty answer.
func dnsAnswer(m *dns.Msg) string {
	rcode := dns.RcodeToString[m.Rcode]
	if rcode == "" {
		rcode = fmt.Sprintf("RCODE%d", m.Rcode)
	}
	if m.AuthenticatedData {
		rcode += " (AD)"
	}
	qname := ""
	if len(m.Question) > 0 {
		qname = m.Question[0].Name
	}
	var recs []string
	for _, rr := range m.Answer {
		recs = append(recs, shortRR(rr, qname))
	}
	if len(recs) == 0 {
		return rcode + ", no records"
	}
	return rcode + ": " + strings.Join(recs, ", ")
}

// shortRR is a record without its TTL and class, and without its owner
// when that is the question's name; signatures shrink to "RRSIG(A)".
func shortRR(rr dns.RR, qname string) string {
	h := rr.Header()
	var s string
	if sig, ok := rr.(*dns.RRSIG); ok {
		s = "RRSIG(" + dns.TypeToString[sig.TypeCovered] + ")"
	} else {
		data := strings.TrimSpace(strings.TrimPrefix(rr.String(), h.String()))
		s = strings.TrimSpace(dns.TypeToString[h.Rrtype] + " " + strings.Join(strings.Fields(data), " "))
	}
	if !strings.EqualFold(h.Name, qname) {
		s = strings.TrimSuffix(h.Name, ".") + " " + s
	}
	return s
}

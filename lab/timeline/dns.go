package timeline

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnsTransaction names one DNS query and the answers to it: the client's
// and the server's endpoints, the transaction ID, and the transport ("" for
// UDP, " over TCP").
type dnsTransaction struct {
	client, server netip.AddrPort
	id             uint16
	via            string
}

// observeDNS reports one DNS message from one endpoint to another; via is
// "" for UDP, "TCP" for DNS over TCP. Messages that do not parse are
// skipped.
//
// Copies of one message (a router forwarding it onto the next segment)
// are reported once; two different answers to one query (a forgery and
// the genuine answer racing it) are both reported. An answer that crosses
// the wire before any query it answers cannot come from the server it
// claims to be (an on-path forger's hook answers a query before passing
// it on): it is marked forged, and placed right after its query once that
// is seen, at the query's time if it was stamped earlier. An answer from
// a MAC that is not that of the host holding its source address, when
// both are on one segment, is marked forged as well (see namer.impostor).
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
	sum := sha256.Sum256(b)
	key := fmt.Sprintf("dns|%s|%v|%v|%x", via, from, to, sum[:12])
	e := &wireEvent{at: ts, srcMAC: src, srcIP: from.Addr(), peerMAC: dstMAC(&r.eth), peerIP: to.Addr(), kind: DNS}
	if !m.Response {
		e.text = func(n *namer) string {
			return fmt.Sprintf("DNS query %s -> %s%s", q, n.addr(to.Addr()), via)
		}
		if r.seen[key] {
			return
		}
		r.add(key, e)
		tx := dnsTransaction{client: from, server: to, id: m.Id, via: via}
		if r.dnsQueries[tx] == nil {
			r.dnsQueries[tx] = e
			for _, a := range r.dnsEarly[tx] {
				a.order, a.sub = e.order, 1
				a.at = later(a.at, e.at)
			}
			delete(r.dnsEarly, tx)
		}
		return
	}
	if r.seen[key] {
		return
	}
	tx := dnsTransaction{client: to, server: from, id: m.Id, via: via}
	e.dnsAnswer = fmt.Sprintf("%s (ID %d)", q, m.Id)
	if len(m.Question) > 0 {
		e.dnsAnswer = fmt.Sprintf("%s %s (ID %d)", dns.TypeToString[m.Question[0].Qtype], strings.TrimSuffix(m.Question[0].Name, "."), m.Id)
	}
	early := r.dnsQueries[tx] == nil
	if early {
		r.dnsEarly[tx] = append(r.dnsEarly[tx], e)
	}
	answer := dnsAnswer(&m)
	e.forged = func(n *namer) string {
		if why := n.impostor(src, from.Addr()); why != "" {
			return why
		}
		if early {
			return "it crossed the wire before the query it answers"
		}
		return ""
	}
	e.text = func(n *namer) string {
		s := fmt.Sprintf("DNS answer %s -> %s%s: %s", q, n.addr(to.Addr()), via, answer)
		if why := e.forged(n); why != "" {
			s += fmt.Sprintf(" (forged as %s: %s)", n.addr(from.Addr()), why)
		}
		return s
	}
	r.add(key, e)
}

// evidenceTransaction finds "query A pool01.contoso.com (ID 21303)" in an
// evidence line, as the lab's DNS actors and scenarios write a
// transaction.
var evidenceTransaction = regexp.MustCompile(`query (\S+) (\S+?)\.? \(ID (\d+)\)`)

// dnsTransactionIn is the DNS transaction an evidence line names, "A
// pool01.contoso.com (ID 21303)", or "".
func dnsTransactionIn(line string) string {
	m := evidenceTransaction.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%s %s (ID %s)", m[1], m[2], m[3])
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
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

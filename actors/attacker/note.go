package attacker

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/internal/tcpstream"
	"github.com/tlslab/tlslab/netsim"
)

// noteFrame attaches the note "<host>: <formatted message>", host being
// nic's, to a frame the attacker built and is about to send from nic, and
// returns the frame: captures of the World write the note as the frame's
// pcapng comment (see netsim.World.NoteFrame), so a Wireshark user sees
// which frames the attacker forged.
func noteFrame(nic *netsim.NIC, frame []byte, format string, args ...any) []byte {
	h := nic.Host()
	return h.World().NoteFrame(frame, h.Name()+": "+fmt.Sprintf(format, args...))
}

// dnsAnswerText says what a forged DNS response claims, for a frame note:
// "pool01.contoso.com A 10.0.0.66" or
// "_sip._tls.contoso.com SRV 0 100 5061 sip.evil.com", one per answer
// record, or the question and the response code when it has none.
func dnsAnswerText(m *miekg.Msg) string {
	var parts []string
	for _, rr := range m.Answer {
		h := rr.Header()
		data := strings.TrimPrefix(rr.String(), h.String())
		parts = append(parts, strings.TrimSuffix(h.Name, ".")+" "+miekg.TypeToString[h.Rrtype]+" "+strings.TrimSuffix(data, "."))
	}
	if len(parts) == 0 && len(m.Question) == 1 {
		q := m.Question[0]
		parts = append(parts, strings.TrimSuffix(q.Name, ".")+" "+miekg.TypeToString[q.Qtype]+" "+miekg.RcodeToString[m.Rcode])
	}
	return strings.Join(parts, ", ")
}

// noteForgedHandshake has the captures of the proxy's World note the first
// segment with payload the proxy sends to the victim on c (the
// intercepted connection), when the victim side forges a TLS server: the
// frame carrying its ServerHello and the certificate it presents.
func (p *Proxy) noteForgedHandshake(c net.Conn) {
	var v VictimTLS
	switch side := p.cfg.Victim.(type) {
	case VictimTLS:
		v = side
	case *VictimTLS:
		v = *side
	default:
		return
	}
	if v.Certs == nil {
		return
	}
	from, to := addrPortOf(c.LocalAddr()), addrPortOf(c.RemoteAddr())
	if !from.IsValid() || !to.IsValid() {
		return
	}
	h := p.cfg.Host
	what := "presenting its " + v.Certs.String()
	if offer := v.Offer(); offer != "" && (v.Legacy || len(v.CipherSuites) > 0) {
		what = offer + ", " + what
	}
	h.World().NoteNext(func(frame []byte) bool { return tcpPayloadFrom(frame, from, to) },
		fmt.Sprintf("%s: answered %s's TLS handshake as %s, %s", h.Name(), to.Addr(), from, what))
}

// tcpPayloadFrom reports whether frame is an Ethernet/IPv4/TCP frame with
// payload from src to dst.
func tcpPayloadFrom(frame []byte, src, dst netip.AddrPort) bool {
	seg, ok := tcpstream.ParseFrame(frame)
	return ok && len(seg.Payload) > 0 && seg.Src == src && seg.Dst == dst
}

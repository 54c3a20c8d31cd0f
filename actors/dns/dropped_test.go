package dns_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/netsim"
)

// sentQuery is a query the client put on the wire.
type sentQuery struct {
	src  netip.AddrPort
	id   uint16
	name string // fully qualified
	typ  uint16
}

// onQuery calls forge, from a tap on the client's NIC, with every UDP query
// the client sends to port 53, as it leaves: whatever forge injects is
// queued at the client before the query reaches any server.
func (l *lab) onQuery(forge func(q sentQuery)) (remove func()) {
	return l.clientNIC.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
		p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if ip == nil || udp == nil || udp.DstPort != 53 || !ip.SrcIP.Equal(clientAddr.AsSlice()) {
			return
		}
		m := new(miekg.Msg)
		if m.Unpack(udp.Payload) != nil || m.Response || len(m.Question) != 1 {
			return
		}
		forge(sentQuery{src: netip.AddrPortFrom(clientAddr, uint16(udp.SrcPort)), id: m.Id, name: m.Question[0].Name, typ: m.Question[0].Qtype})
	}))
}

// TestDropped sends the client's resolver one datagram per kind of
// forgery, on the query's socket ahead of the real answer, and checks
// what the resolver reports dropping: source, port, query, reason and,
// for DNSSEC, the validation error; the real answer is still taken. A
// forgery to a port no query waits on reaches no socket and is not
// reported.
func TestDropped(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's clock
	query := func(q sentQuery) []byte {
		m := new(miekg.Msg)
		m.SetQuestion(q.name, q.typ)
		m.Id = q.id
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		return b
	}
	ns := netip.AddrPortFrom(nsAddr, 53)
	// same is a drop of a datagram with the query's own ID.
	same := func(format string) func(port, id uint16) string {
		return func(port, id uint16) string { return fmt.Sprintf(format, port, id, id) }
	}
	tests := []struct {
		name   string
		dnssec bool
		// forge returns the forged datagram's source, destination port
		// and payload for the query q.
		forge func(t *testing.T, q sentQuery) (src netip.AddrPort, port uint16, payload []byte)
		// want is the drop reported for a query from port with ID id; nil
		// for none.
		want   func(port, id uint16) string
		reason dns.DropReason
	}{
		{"wrong query ID", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port(), forgedAnswer(t, q.id+1, "pool01.contoso.com", mallory)
		}, func(port, id uint16) string {
			return fmt.Sprintf("response from 10.0.0.53:53 to port %d (ID %d) for query A pool01.contoso.com (ID %d): query ID mismatch", port, id+1, id)
		}, dns.DropTXIDMismatch},
		{"wrong source address", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return netip.AddrPortFrom(rogueAddr, 53), q.src.Port(), forgedAnswer(t, q.id, "pool01.contoso.com", mallory)
		}, same("response from 10.0.0.66:53 to port %d (ID %d) for query A pool01.contoso.com (ID %d): not from the server asked"), dns.DropWrongSource},
		{"wrong source port", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return netip.AddrPortFrom(nsAddr, 5353), q.src.Port(), forgedAnswer(t, q.id, "pool01.contoso.com", mallory)
		}, same("response from 10.0.0.53:5353 to port %d (ID %d) for query A pool01.contoso.com (ID %d): not from the server asked"), dns.DropWrongSource},
		{"wrong question", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port(), forgedAnswer(t, q.id, "fe01.contoso.com", mallory)
		}, same("response from 10.0.0.53:53 to port %d (ID %d) for query A pool01.contoso.com (ID %d): question mismatch"), dns.DropQuestionMismatch},
		{"not a response", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port(), query(q)
		}, same("response from 10.0.0.53:53 to port %d (ID %d) for query A pool01.contoso.com (ID %d): not a response"), dns.DropNotResponse},
		{"not DNS", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port(), []byte{1, 2, 3}
		}, func(port, id uint16) string {
			return fmt.Sprintf("response from 10.0.0.53:53 to port %d for query A pool01.contoso.com (ID %d): not a DNS message", port, id)
		}, dns.DropMalformed},
		{"unsigned answer to a validating resolver", true, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port(), forgedAnswer(t, q.id, "pool01.contoso.com", mallory)
		}, same("response from 10.0.0.53:53 to port %d (ID %d) for query A pool01.contoso.com (ID %d): DNSSEC validation failed: " +
			"dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG"), dns.DropValidation},
		{"another port", false, func(t *testing.T, q sentQuery) (netip.AddrPort, uint16, []byte) {
			return ns, q.src.Port() + 1, forgedAnswer(t, q.id, "pool01.contoso.com", mallory)
		}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{})
				zone := mustZone(t, "contoso.com", contosoText)
				cfg := dns.ResolverConfig{}
				if tt.dnssec {
					zone = signedContoso(t)
					cfg.TrustAnchors = []miekg.RR{zone.DS()}
				}
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{zone}})
				var mu sync.Mutex
				var seen []dns.DroppedAnswer
				cfg.OnDropped = func(d dns.DroppedAnswer) {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, d)
				}
				var asked sentQuery
				defer l.onQuery(func(q sentQuery) {
					if q.name != "pool01.contoso.com." || q.typ != miekg.TypeA {
						return // the validating resolver's DNSKEY query
					}
					asked = q
					src, port, payload := tt.forge(t, q)
					l.spoof(t, src, netip.AddrPortFrom(clientAddr, port), l.clientNIC.MAC(), payload)
				})()
				r := l.resolver(t, cfg, nsAddr)
				got, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
				if err != nil || !slices.Equal(got, []netip.Addr{pool01}) {
					t.Fatalf("lookup: %v, %v; want the real %v", got, err, pool01)
				}
				drops := r.Dropped()
				mu.Lock()
				defer mu.Unlock()
				if !slices.EqualFunc(drops, seen, func(a, b dns.DroppedAnswer) bool { return a.String() == b.String() && a.At.Equal(b.At) }) {
					t.Errorf("Dropped() %v, OnDropped saw %v: want the same", drops, seen)
				}
				if tt.want == nil {
					if len(drops) != 0 {
						t.Errorf("dropped %v, want nothing: the forgery reached no socket", drops)
					}
					return
				}
				if len(drops) != 1 {
					t.Fatalf("dropped %v, want exactly one", drops)
				}
				d := drops[0]
				if want := tt.want(asked.src.Port(), asked.id); d.String() != want {
					t.Errorf("drop\n got %s\nwant %s", d, want)
				}
				if d.Reason != tt.reason || d.Port != asked.src.Port() || d.QueryID != asked.id || d.QueryName != "pool01.contoso.com." ||
					d.QueryType != miekg.TypeA || d.Server != ns || !d.At.Equal(epoch) || (d.Msg == nil) != (tt.reason == dns.DropMalformed) {
					t.Errorf("drop %+v", d)
				}
				var ve *dns.ValidationError
				if (d.Err != nil) != tt.dnssec || tt.dnssec && (!errors.As(d.Err, &ve) || !errors.Is(d.Err, dns.ErrNoRRSIG)) {
					t.Errorf("drop error %v: want a *ValidationError for ErrNoRRSIG exactly when validating", d.Err)
				}
			})
		})
	}
}

// TestDropReasonString names every reason and an unknown one.
func TestDropReasonString(t *testing.T) {
	for r, want := range map[dns.DropReason]string{
		dns.DropWrongSource: "not from the server asked", dns.DropMalformed: "not a DNS message", dns.DropNotResponse: "not a response",
		dns.DropTXIDMismatch: "query ID mismatch", dns.DropQuestionMismatch: "question mismatch", dns.DropValidation: "DNSSEC validation failed",
		dns.DropReason(0): "DropReason(0)",
	} {
		if r.String() != want {
			t.Errorf("%d: %q, want %q", int(r), r.String(), want)
		}
	}
}

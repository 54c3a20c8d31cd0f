package netsim

import (
	"net"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"
)

// dnsZone answers A queries for server.test and NXDOMAIN for anything else.
var dnsZone = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	if q.Name == "server.test." && q.Qtype == dns.TypeA {
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A:   net.IPv4(10, 0, 0, 80),
		})
	} else {
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
})

// TestDNS serves a zone with miekg/dns on netsim sockets, over UDP (a
// dns.Server on a PacketConn) and TCP (on a Listener), and resolves it with
// dns.Client over conns from Host.DialContext. dns.Client cannot dial by
// itself here: its Dialer field is a *net.Dialer, which always opens real
// sockets.
func TestDNS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{nb: NICConfig{Addr: mustPrefix("10.0.0.53/24")}})
		rec := &recorder{}
		p.lan.AddTap(rec)
		pc, err := p.b.ListenPacket("udp", ":53")
		if err != nil {
			t.Fatal(err)
		}
		l, err := p.b.Listen("tcp", ":53")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var servers []*dns.Server
		for _, srv := range []*dns.Server{{PacketConn: pc, Handler: dnsZone}, {Listener: l, Handler: dnsZone}} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			wg.Go(func() {
				if err := srv.ActivateAndServe(); err != nil {
					t.Errorf("ActivateAndServe: %v", err)
				}
			})
			<-started
			servers = append(servers, srv)
		}

		tests := []struct {
			network, name string
			rcode         int
			a             string
		}{
			{"udp", "server.test.", dns.RcodeSuccess, "10.0.0.80"},
			{"tcp", "server.test.", dns.RcodeSuccess, "10.0.0.80"},
			{"udp", "missing.test.", dns.RcodeNameError, ""},
			{"tcp", "missing.test.", dns.RcodeNameError, ""},
		}
		for _, tt := range tests {
			conn, err := p.a.DialContext(t.Context(), tt.network, "10.0.0.53:53")
			if err != nil {
				t.Fatal(err)
			}
			c := &dns.Client{Net: tt.network}
			r, _, err := c.ExchangeWithConn(new(dns.Msg).SetQuestion(tt.name, dns.TypeA), &dns.Conn{Conn: conn})
			conn.Close()
			if err != nil {
				t.Errorf("%s %s: %v", tt.network, tt.name, err)
				continue
			}
			if r.Rcode != tt.rcode || !r.Authoritative {
				t.Errorf("%s %s: rcode %s aa=%v, want %s", tt.network, tt.name, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tt.rcode])
			}
			var got string
			if len(r.Answer) == 1 {
				if a, ok := r.Answer[0].(*dns.A); ok {
					got = a.A.String()
				}
			}
			if got != tt.a {
				t.Errorf("%s %s: answer %v, want A %q", tt.network, tt.name, r.Answer, tt.a)
			}
		}
		for _, srv := range servers {
			if err := srv.ShutdownContext(t.Context()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}
		wg.Wait()

		// The answers are real DNS on the wire: gopacket decodes them.
		var answers []string
		for _, pk := range rec.packets() {
			if d, ok := pk.Layer(layers.LayerTypeDNS).(*layers.DNS); ok && d.QR {
				for _, a := range d.Answers {
					answers = append(answers, string(a.Name)+" "+a.IP.String())
				}
			}
		}
		if len(answers) != 1 || answers[0] != "server.test 10.0.0.80" {
			t.Errorf("DNS answers decoded from UDP frames: %q, want one A record", answers)
		}
	})
}

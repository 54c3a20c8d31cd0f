package dns_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
)

// msgCheck inspects a response.
type msgCheck func(t *testing.T, m *miekg.Msg)

func rcode(want int) msgCheck {
	return func(t *testing.T, m *miekg.Msg) {
		if m.Rcode != want {
			t.Errorf("rcode %s, want %s", miekg.RcodeToString[m.Rcode], miekg.RcodeToString[want])
		}
	}
}

func authoritative(want bool) msgCheck {
	return func(t *testing.T, m *miekg.Msg) {
		if m.Authoritative != want {
			t.Errorf("AA = %v, want %v", m.Authoritative, want)
		}
	}
}

func answer(want ...string) msgCheck {
	return func(t *testing.T, m *miekg.Msg) {
		if got := rrStrings(m.Answer); !slices.Equal(got, want) {
			t.Errorf("answer\n%q\nwant\n%q", got, want)
		}
	}
}

// authorityTypes checks the types in the authority section, in order.
func authorityTypes(want ...string) msgCheck {
	return func(t *testing.T, m *miekg.Msg) {
		var got []string
		for _, rr := range m.Ns {
			got = append(got, miekg.Type(rr.Header().Rrtype).String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("authority types %q, want %q", got, want)
		}
	}
}

func all(checks ...msgCheck) msgCheck {
	return func(t *testing.T, m *miekg.Msg) {
		for _, c := range checks {
			c(t, m)
		}
	}
}

// TestServer queries one server holding contoso.com and fabrikam.com with
// Resolver.Exchange over netsim UDP.
func TestServer(t *testing.T) {
	tests := []struct {
		name  string
		qname string
		qtype uint16
		check msgCheck
	}{
		{"A", "pool01.contoso.com", miekg.TypeA, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer("pool01.contoso.com. A 10.0.0.80"), authorityTypes())},
		{"case-insensitive", "POOL01.Contoso.com", miekg.TypeA, all(rcode(miekg.RcodeSuccess),
			answer("pool01.contoso.com. A 10.0.0.80"))},
		{"SRV", "_sip._tls.contoso.com", miekg.TypeSRV, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer("_sip._tls.contoso.com. SRV 0 0 443 sip.contoso.com."))},
		{"CNAME chased in the zone", "meet.contoso.com", miekg.TypeA, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer("meet.contoso.com. CNAME sip.contoso.com.", "sip.contoso.com. CNAME pool01.contoso.com.", "pool01.contoso.com. A 10.0.0.80"))},
		{"CNAME asked for", "sip.contoso.com", miekg.TypeCNAME, all(rcode(miekg.RcodeSuccess),
			answer("sip.contoso.com. CNAME pool01.contoso.com."))},
		{"CNAME leaving the zone", "lync.contoso.com", miekg.TypeA, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer("lync.contoso.com. CNAME edge.fabrikam.com."))},
		{"NXDOMAIN", "nope.contoso.com", miekg.TypeA, all(rcode(miekg.RcodeNameError), authoritative(true),
			answer(), authorityTypes("SOA"))},
		{"NODATA", "pool01.contoso.com", miekg.TypeAAAA, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer(), authorityTypes("SOA"))},
		{"empty non-terminal is NODATA", "b.deep.contoso.com", miekg.TypeA, all(rcode(miekg.RcodeSuccess),
			answer(), authorityTypes("SOA"))},
		{"second zone", "_sipfederationtls._tcp.fabrikam.com", miekg.TypeSRV, all(rcode(miekg.RcodeSuccess), authoritative(true),
			answer("_sipfederationtls._tcp.fabrikam.com. SRV 0 0 5061 edge.fabrikam.com."))},
		{"outside its zones", "www.example.org", miekg.TypeA, all(rcode(miekg.RcodeRefused), authoritative(false), answer())},
		{"parent of a zone", "com", miekg.TypeA, all(rcode(miekg.RcodeRefused), authoritative(false))},
		{"apex SOA", "contoso.com", miekg.TypeSOA, all(rcode(miekg.RcodeSuccess),
			answer("contoso.com. SOA ns1.contoso.com. hostmaster.contoso.com. 1 7200 3600 1209600 300"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{})
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText), mustZone(t, "fabrikam.com", fabrikamText)}})
				r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
				q := new(miekg.Msg)
				q.SetQuestion(miekg.Fqdn(tt.qname), tt.qtype)
				m, err := r.Exchange(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, m)
				if m.RecursionAvailable {
					t.Error("RA set by an authoritative-only server")
				}
			})
		})
	}
}

// TestServerNegativeTTL checks that negative answers carry the SOA with the
// negative-caching TTL (RFC 2308).
func TestServerNegativeTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
		r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
		q := new(miekg.Msg)
		q.SetQuestion("nope.contoso.com.", miekg.TypeA)
		m, err := r.Exchange(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Ns) != 1 || m.Ns[0].Header().Ttl != 300 {
			t.Errorf("authority %v, want the SOA with TTL 300", m.Ns)
		}
	})
}

func TestNewServerErrors(t *testing.T) {
	a := mustZone(t, "contoso.com", "")
	b := mustZone(t, "CONTOSO.com.", "")
	_, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{a, b}})
	if want := "dns: server: two zones for contoso.com.: give each origin one zone"; err == nil || err.Error() != want {
		t.Errorf("NewServer with two contoso.com zones: %v, want %q", err, want)
	}
	srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{a}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(t.Context(), nil, nil); err == nil || !strings.Contains(err.Error(), "needs a PacketConn") {
		t.Errorf("Serve(nil, nil) = %v", err)
	}
}

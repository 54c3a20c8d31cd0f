package dns_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/netsim"
)

// lookupCase is one lookup and what it must return.
type lookupCase struct {
	name string
	run  func(ctx context.Context, r *dns.Resolver) (string, error)
	want string // result, or the exact error message
}

func lookupIP(host string) func(context.Context, *dns.Resolver) (string, error) {
	return func(ctx context.Context, r *dns.Resolver) (string, error) {
		addrs, err := r.LookupNetIP(ctx, "ip4", host)
		return fmt.Sprint(addrs), err
	}
}

func lookupSRV(service, proto, name string) func(context.Context, *dns.Resolver) (string, error) {
	return func(ctx context.Context, r *dns.Resolver) (string, error) {
		cname, srvs, err := r.LookupSRV(ctx, service, proto, name)
		s := cname
		for _, srv := range srvs {
			s += fmt.Sprintf(" %d/%d %s:%d", srv.Priority, srv.Weight, srv.Target, srv.Port)
		}
		return s, err
	}
}

var lookupCases = []lookupCase{
	{"A", lookupIP("pool01.contoso.com"), "[10.0.0.80]"},
	{"A, trailing dot and case", lookupIP("Pool01.Contoso.com."), "[10.0.0.80]"},
	{"CNAME chain in the zone", lookupIP("meet.contoso.com"), "[10.0.0.80]"},
	{"CNAME into another zone", lookupIP("lync.contoso.com"), "[192.0.2.10]"},
	{"IP literal", lookupIP("10.1.2.3"), "[10.1.2.3]"},
	{"SRV via CNAME target", lookupSRV("sip", "tls", "contoso.com"), "_sip._tls.contoso.com. 0/0 sip.contoso.com.:443"},
	{"SRV sorted by priority, weight", lookupSRV("sipinternaltls", "tcp", "contoso.com"),
		"_sipinternaltls._tcp.contoso.com. 0/0 pool01.contoso.com.:5061 10/60 fe01.contoso.com.:5061 10/20 fe02.contoso.com.:5061"},
	{"SRV federation", lookupSRV("sipfederationtls", "tcp", "fabrikam.com"), "_sipfederationtls._tcp.fabrikam.com. 0/0 edge.fabrikam.com.:5061"},
	{"SRV by full name", lookupSRV("", "", "_sipfederationtls._tcp.fabrikam.com"), "_sipfederationtls._tcp.fabrikam.com. 0/0 edge.fabrikam.com.:5061"},
	{"NXDOMAIN", lookupIP("nope.contoso.com"), "dns: lookup nope.contoso.com: no such host"},
	{"NXDOMAIN SRV", lookupSRV("sip", "tls", "nope.contoso.com"), "dns: lookup _sip._tls.nope.contoso.com: no such host"},
	{"NODATA", func(ctx context.Context, r *dns.Resolver) (string, error) {
		addrs, err := r.LookupNetIP(ctx, "ip6", "pool01.contoso.com")
		return fmt.Sprint(addrs), err
	}, "dns: lookup pool01.contoso.com: no such host"},
	{"REFUSED", lookupIP("www.example.org"), "dns: lookup www.example.org: server answered REFUSED"},
	{"bad network", func(ctx context.Context, r *dns.Resolver) (string, error) {
		_, err := r.LookupNetIP(ctx, "tcp", "pool01.contoso.com")
		return "", err
	}, "dns: lookup pool01.contoso.com: unknown network tcp"},
}

// TestLookup runs every lookup case over UDP, and over TCP with a server
// that truncates every UDP answer.
func TestLookup(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range lookupCases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l := newLab(t, labConfig{})
					serve(t, l.ns, dns.ServerConfig{
						Zones:       []*dns.Zone{mustZone(t, "contoso.com", contosoText), mustZone(t, "fabrikam.com", fabrikamText)},
						TruncateUDP: transport == "tcp",
					})
					r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
					got, err := tc.run(t.Context(), r)
					if err != nil {
						got = err.Error()
					}
					if got != tc.want {
						t.Errorf("got  %s\nwant %s", got, tc.want)
					}
					var le *dns.LookupError
					if err != nil && !errors.As(err, &le) {
						t.Errorf("error is %T, want *dns.LookupError", err)
					}
					if le != nil && le.NotFound() != errors.Is(err, dns.ErrNoSuchHost) {
						t.Errorf("NotFound() = %v disagrees with errors.Is(ErrNoSuchHost)", le.NotFound())
					}
					queries, conns := len(l.wire.queries()), l.wire.tcpConns()
					switch {
					case transport == "udp" && conns != 0:
						t.Errorf("%d TCP connections, want none", conns)
					case transport == "tcp" && conns != queries:
						t.Errorf("%d TCP connections for %d truncated UDP answers", conns, queries)
					}
				})
			})
		}
	}
}

// TestTruncationBySize serves an RRset too large for 512 bytes: the server
// truncates it, the resolver retries over TCP and gets all of it.
func TestTruncationBySize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		z := mustZone(t, "contoso.com", "")
		var want []netip.Addr
		for i := range 40 {
			a := netip.AddrFrom4([4]byte{10, 0, 1, byte(i + 1)})
			want = append(want, a)
			if err := z.Add(dns.A("big.contoso.com", a)); err != nil {
				t.Fatal(err)
			}
		}
		serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{z}})
		r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
		got, err := r.LookupNetIP(t.Context(), "ip", "big.contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %d addresses %v, want the 40 in the zone", len(got), got)
		}
		resps := l.wire.responses()
		if len(resps) != 1 || !resps[0].tc {
			t.Errorf("UDP responses %+v, want one with TC set", resps)
		}
		if n := l.wire.tcpConns(); n != 1 {
			t.Errorf("%d TCP connections, want 1", n)
		}
	})
}

// TestTimeout asks a host that never answers: the resolver sends the query
// 1+Retries times, Timeout apart, and fails with a timeout.
func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		r := l.resolver(t, dns.ResolverConfig{Timeout: time.Second}, silentAddr)
		start := time.Now()
		_, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
		if want := "dns: lookup pool01.contoso.com: i/o timeout after 3 tries"; err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		if elapsed := time.Since(start); elapsed != 3*time.Second { // virtual time: exact
			t.Errorf("gave up after %v, want 3 tries of 1s", elapsed)
		}
		var le *dns.LookupError
		var te *dns.TimeoutError
		if !errors.As(err, &le) || !le.Timeout() || !errors.As(err, &te) || te.Tries != 3 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("error %#v: want a *LookupError with Timeout() true wrapping *TimeoutError{Tries: 3}", err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Error("error is not a net.Error with Timeout() true")
		}
		queries := l.wire.queries()
		if len(queries) != 3 {
			t.Fatalf("%d queries on the wire, want 3", len(queries))
		}
		for i, q := range queries {
			if want := start.Add(time.Duration(i) * time.Second); !q.at.Equal(want) {
				t.Errorf("query %d sent at +%v, want +%ds", i, q.at.Sub(start), i)
			}
		}

		r = l.resolver(t, dns.ResolverConfig{Timeout: time.Second, Retries: -1}, silentAddr)
		_, err = r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
		if want := "dns: lookup pool01.contoso.com: i/o timeout after 1 try"; err == nil || err.Error() != want {
			t.Errorf("with Retries -1: error %v, want %q", err, want)
		}
	})
}

// TestServerFailover lists a dead server first: every try asks it, then
// the live one, which answers.
func TestServerFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
		r := l.resolver(t, dns.ResolverConfig{}, silentAddr, nsAddr)
		start := time.Now()
		got, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
		if err != nil || !slices.Equal(got, []netip.Addr{pool01}) {
			t.Fatalf("got %v, %v", got, err)
		}
		if elapsed := time.Since(start); elapsed < dns.DefaultTimeout {
			t.Errorf("answered after %v, before the first server's timeout", elapsed)
		}
		var dsts []netip.Addr
		for _, q := range l.wire.queries() {
			dsts = append(dsts, q.dst.Addr())
		}
		if !slices.Equal(dsts, []netip.Addr{silentAddr, nsAddr}) {
			t.Errorf("queries went to %v, want the silent server, then ns", dsts)
		}
	})
}

func TestContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		r := l.resolver(t, dns.ResolverConfig{}, silentAddr)
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		_, err := r.LookupNetIP(ctx, "ip", "pool01.contoso.com")
		if want := "dns: lookup pool01.contoso.com: context deadline exceeded"; err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		var le *dns.LookupError
		if !errors.As(err, &le) || !le.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %#v: want a timeout *LookupError wrapping context.DeadlineExceeded", err)
		}
	})
}

// TestLoss drops 30% of the server's datagrams: retries make every lookup
// succeed, and the wire shows the retransmitted queries.
func TestLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{ns: netsim.NICConfig{Loss: 0.3}})
		serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
		r := l.resolver(t, dns.ResolverConfig{Timeout: time.Second, Retries: 9}, nsAddr)
		const lookups = 20
		for i := range lookups {
			got, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
			if err != nil || !slices.Equal(got, []netip.Addr{pool01}) {
				t.Fatalf("lookup %d: %v, %v", i, got, err)
			}
		}
		if q, a := len(l.wire.queries()), len(l.wire.responses()); q <= lookups || a != lookups {
			t.Errorf("%d queries and %d answers on the wire for %d lookups: want retries and one answer each", q, a, lookups)
		}
	})
}

// TestTXIDAndPortPolicy observes IDs and source ports on the wire.
func TestTXIDAndPortPolicy(t *testing.T) {
	const lookups = 8
	tests := []struct {
		name  string
		cfg   dns.ResolverConfig
		check func(t *testing.T, ids, ports []uint16)
	}{
		{"random (default)", dns.ResolverConfig{Rand: rand.NewPCG(1, 2)}, func(t *testing.T, ids, ports []uint16) {
			if n := len(distinct(ids)); n != lookups {
				t.Errorf("IDs %v: %d distinct, want %d", ids, n, lookups)
			}
			if n := len(distinct(ports)); n != lookups {
				t.Errorf("ports %v: %d distinct, want %d", ports, n, lookups)
			}
			for _, p := range ports {
				if p < 49152 {
					t.Errorf("port %d outside the ephemeral range", p)
				}
			}
			if sequential(ids) {
				t.Errorf("IDs %v are sequential", ids)
			}
		}},
		{"random from crypto/rand", dns.ResolverConfig{}, func(t *testing.T, ids, ports []uint16) {
			if len(distinct(ports)) < lookups-1 || sequential(ids) {
				t.Errorf("IDs %v ports %v do not look random", ids, ports)
			}
		}},
		{"sequential TXID, fixed port", dns.ResolverConfig{TXID: dns.SequentialTXID, SourcePort: dns.FixedSourcePort}, func(t *testing.T, ids, ports []uint16) {
			for i := range lookups {
				if ids[i] != dns.DefaultFirstTXID+uint16(i) || ports[i] != dns.DefaultFixedPort {
					t.Errorf("query %d: ID %d port %d, want ID %d port %d", i, ids[i], ports[i], dns.DefaultFirstTXID+i, dns.DefaultFixedPort)
				}
			}
		}},
		{"chosen first TXID and port", dns.ResolverConfig{TXID: dns.SequentialTXID, FirstTXID: 0xfffe, SourcePort: dns.FixedSourcePort, FixedPort: 1053}, func(t *testing.T, ids, ports []uint16) {
			if !slices.Equal(ids[:3], []uint16{0xfffe, 0xffff, 0}) || len(distinct(ports)) != 1 || ports[0] != 1053 {
				t.Errorf("IDs %v ports %v, want IDs wrapping from 0xfffe, all from port 1053", ids, ports)
			}
		}},
		{"random TXID, fixed port", dns.ResolverConfig{SourcePort: dns.FixedSourcePort, Rand: rand.NewPCG(3, 4)}, func(t *testing.T, ids, ports []uint16) {
			if len(distinct(ids)) != lookups || len(distinct(ports)) != 1 {
				t.Errorf("IDs %v ports %v", ids, ports)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{})
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
				r := l.resolver(t, tt.cfg, nsAddr)
				for range lookups {
					if _, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com"); err != nil {
						t.Fatal(err)
					}
				}
				var ids, ports []uint16
				for _, q := range l.wire.queries() {
					ids = append(ids, q.id)
					ports = append(ports, q.src.Port())
				}
				if len(ids) != lookups {
					t.Fatalf("%d queries on the wire, want %d", len(ids), lookups)
				}
				tt.check(t, ids, ports)
			})
		})
	}
}

func distinct[T comparable](s []T) map[T]bool {
	m := make(map[T]bool)
	for _, v := range s {
		m[v] = true
	}
	return m
}

func sequential(ids []uint16) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			return false
		}
	}
	return true
}

// TestResponseValidation lets an on-path spoofer (who sees the query)
// race the real server with responses that are wrong in one way each: the
// resolver ignores them and takes the real answer. A control row, right in
// every way, shows the forgeries do reach the resolver.
func TestResponseValidation(t *testing.T) {
	type query struct {
		src  netip.AddrPort
		id   uint16
		name string
	}
	tests := []struct {
		name  string
		forge func(q query) (src netip.AddrPort, id uint16, qname string)
		want  netip.Addr
		// forgedName is the owner of the forged A record.
		forgedName string
	}{
		{"wrong TXID", func(q query) (netip.AddrPort, uint16, string) {
			return netip.AddrPortFrom(nsAddr, 53), q.id + 1, q.name
		}, pool01, "pool01.contoso.com"},
		{"wrong source address", func(q query) (netip.AddrPort, uint16, string) {
			return netip.AddrPortFrom(rogueAddr, 53), q.id, q.name
		}, pool01, "pool01.contoso.com"},
		{"wrong source port", func(q query) (netip.AddrPort, uint16, string) {
			return netip.AddrPortFrom(nsAddr, 5353), q.id, q.name
		}, pool01, "pool01.contoso.com"},
		{"wrong question", func(q query) (netip.AddrPort, uint16, string) {
			return netip.AddrPortFrom(nsAddr, 53), q.id, "fe01.contoso.com"
		}, pool01, "fe01.contoso.com"},
		{"control: all right", func(q query) (netip.AddrPort, uint16, string) {
			return netip.AddrPortFrom(nsAddr, 53), q.id, q.name
		}, mallory, "pool01.contoso.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The server is 20ms away; the spoofer answers at once.
				l := newLab(t, labConfig{ns: netsim.NICConfig{Latency: 10 * time.Millisecond}})
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
				seen := make(chan query, 1)
				remove := l.lan.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
					// The wire log decodes the frame too; reuse its last entry.
					qs := l.wire.queries()
					if len(qs) == 0 {
						return
					}
					q := qs[len(qs)-1]
					select {
					case seen <- query{src: q.src, id: q.id, name: "pool01.contoso.com"}:
					default:
					}
				}))
				defer remove()
				done := make(chan struct{})
				go func() {
					defer close(done)
					q := <-seen
					src, id, name := tt.forge(q)
					l.spoof(t, src, q.src, l.clientNIC.MAC(), forgedAnswer(t, id, name, mallory))
				}()
				r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
				got, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
				<-done
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, []netip.Addr{tt.want}) {
					t.Errorf("resolver accepted %v, want %v", got, tt.want)
				}
				// The forgery was on the wire first (and, unless accepted, the
				// real answer after it).
				var answers []string
				for _, m := range l.wire.responses() {
					answers = append(answers, m.answers...)
				}
				want := []string{tt.forgedName + " A 10.6.6.6", "pool01.contoso.com A 10.0.0.80"}
				if tt.want == mallory {
					want = want[:1]
				}
				if !slices.Equal(answers, want) {
					t.Errorf("answers on the wire %q, want %q", answers, want)
				}
			})
		})
	}
}

// TestBlindSpoofing is the attack the randomisation defends against: an
// off-path attacker who cannot see the query sends forged answers to the
// port and ID it predicts. With a fixed port and sequential IDs it wins;
// with the defaults the same guesses miss.
func TestBlindSpoofing(t *testing.T) {
	tests := []struct {
		name string
		cfg  dns.ResolverConfig
		want netip.Addr
	}{
		{"predictable resolver", dns.ResolverConfig{TXID: dns.SequentialTXID, SourcePort: dns.FixedSourcePort}, mallory},
		{"randomised resolver", dns.ResolverConfig{}, pool01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{ns: netsim.NICConfig{Latency: 10 * time.Millisecond}})
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText)}})
				r := l.resolver(t, tt.cfg, nsAddr)
				done := make(chan struct{})
				go func() {
					defer close(done)
					time.Sleep(time.Millisecond) // the victim's query is on its way
					for i := range uint16(4) {   // a few guesses around the predicted ID
						l.spoof(t, netip.AddrPortFrom(nsAddr, 53), netip.AddrPortFrom(clientAddr, dns.DefaultFixedPort),
							l.clientNIC.MAC(), forgedAnswer(t, dns.DefaultFirstTXID+i, "pool01.contoso.com", mallory))
					}
				}()
				got, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
				<-done
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, []netip.Addr{tt.want}) {
					t.Errorf("resolver accepted %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestNewResolverErrors(t *testing.T) {
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	h := w.NewHost("h", netsim.HostConfig{})
	tests := []struct {
		cfg  dns.ResolverConfig
		want string
	}{
		{dns.ResolverConfig{}, "dns: resolver: ResolverConfig.Net is nil: give it the host that sends the queries (a *netsim.Host)"},
		{dns.ResolverConfig{Net: h}, "dns: resolver: ResolverConfig.Servers is empty: give it at least one name server address"},
		{dns.ResolverConfig{Net: h, Servers: []netip.AddrPort{{}}}, "dns: resolver: invalid server address in ResolverConfig.Servers"},
		{dns.ResolverConfig{Net: h, Servers: []netip.AddrPort{netip.AddrPortFrom(nsAddr, 0)}, TrustAnchors: []miekg.RR{dns.A("contoso.com", pool01)}},
			"dns: resolver: trust anchor contoso.com.\t3600\tIN\tA\t10.0.0.80 is not a DNSKEY or DS record"},
	}
	for _, tt := range tests {
		_, err := dns.NewResolver(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewResolver: %v, want %q", err, tt.want)
		}
	}
}

// TestConcurrentLookups shares one resolver between goroutines under both
// port policies (with a fixed port the queries take turns on it).
func TestConcurrentLookups(t *testing.T) {
	for _, policy := range []dns.PortPolicy{dns.RandomSourcePort, dns.FixedSourcePort} {
		t.Run(policy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{ns: netsim.NICConfig{Latency: time.Millisecond}})
				serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", contosoText), mustZone(t, "fabrikam.com", fabrikamText)}})
				r := l.resolver(t, dns.ResolverConfig{SourcePort: policy, TXID: dns.SequentialTXID}, nsAddr)
				var wg sync.WaitGroup
				for _, tc := range lookupCases {
					wg.Go(func() {
						got, err := tc.run(t.Context(), r)
						if err != nil {
							got = err.Error()
						}
						if got != tc.want {
							t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
						}
					})
				}
				wg.Wait()
			})
		})
	}
}

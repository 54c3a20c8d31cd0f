package attacker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/netsim"
)

// dnsLAN is alice, contoso's name server and mallory (a router) on one
// LAN, built inside a synctest bubble.
type dnsLAN struct {
	w                  *netsim.World
	lan                *netsim.Segment
	alice, ns, mallory *netsim.Host
	mNIC, nsNIC        *netsim.NIC
	zone               *dns.Zone
}

// newDNSLAN serves the contoso.com zone on ns; nsLatency delays the name
// server's link (a distant server gives a blind spoofer time).
func newDNSLAN(t *testing.T, nsLatency time.Duration) *dnsLAN {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 11})
	t.Cleanup(func() { w.Close() })
	l := &dnsLAN{w: w, lan: w.NewSegment("lan", netsim.SegmentConfig{})}
	l.alice, _ = addHost(t, w, l.lan, "alice", netsim.HostConfig{}, aliceIP)
	l.ns = w.NewHost("ns", netsim.HostConfig{})
	var err error
	if l.nsNIC, err = l.ns.AddNIC(l.lan, netsim.NICConfig{Addr: netip.PrefixFrom(dnsIP, 24), Latency: nsLatency}); err != nil {
		t.Fatal(err)
	}
	l.mallory, l.mNIC = addHost(t, w, l.lan, "mallory", netsim.HostConfig{Forwarding: true}, malloryIP)
	z, err := dns.NewZone("contoso.com",
		dns.A("pool01.contoso.com", fe01IP),
		dns.SRV("_sip._tls.contoso.com", 0, 0, 5061, "pool01.contoso.com"),
	)
	if err != nil {
		t.Fatal(err)
	}
	l.zone = z
	return l
}

// serve runs srv (a miekg handler with Serve) on h's port 53 until the
// test ends.
func serveDNS(t *testing.T, h *netsim.Host, serve func(ctx context.Context, pc net.PacketConn, l net.Listener) error) {
	t.Helper()
	pc, err := h.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	l, err := h.Listen("tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); serve(ctx, pc, l) }()
	t.Cleanup(func() { cancel(); <-done })
}

// serveZone runs the real contoso name server.
func (l *dnsLAN) serveZone(t *testing.T) {
	srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{l.zone}})
	if err != nil {
		t.Fatal(err)
	}
	serveDNS(t, l.ns, srv.Serve)
}

// resolver is alice's stub resolver asking server.
func (l *dnsLAN) resolver(t *testing.T, server netip.Addr, change func(*dns.ResolverConfig)) *dns.Resolver {
	t.Helper()
	cfg := dns.ResolverConfig{Net: l.alice, Servers: []netip.AddrPort{netip.AddrPortFrom(server, 53)}, Timeout: time.Second, Retries: -1}
	if change != nil {
		change(&cfg)
	}
	r, err := dns.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lookup(t *testing.T, r *dns.Resolver, name string) (netip.Addr, error) {
	t.Helper()
	addrs, err := r.LookupNetIP(t.Context(), "ip4", name)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

// TestRogueDNS: a victim whose configured name server is the attacker gets
// the attacker's address for every name, and a poisoned federation SRV.
func TestRogueDNS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newDNSLAN(t, 0)
		rogue := attacker.NewRogueDNS(attacker.DNSForgery{A: malloryIP, SRVTarget: "sip.evil.com"})
		serveDNS(t, l.mallory, rogue.Serve)
		r := l.resolver(t, malloryIP, nil)
		for _, name := range []string{"pool01.contoso.com", "anything.example.org"} {
			if got, err := lookup(t, r, name); err != nil || got != malloryIP {
				t.Errorf("%s: %v, %v; want mallory's address", name, got, err)
			}
		}
		_, srvs, err := r.LookupSRV(t.Context(), "sipfederationtls", "tcp", "fabrikam.com")
		if err != nil || len(srvs) != 1 || srvs[0].Target != "sip.evil.com." || srvs[0].Port != 5061 {
			t.Errorf("SRV: %v, %v; want sip.evil.com:5061", srvs, err)
		}
		q := rogue.Queries()
		if len(q) != 3 || !q[0].Forged || q[0].Name != "pool01.contoso.com" || q[0].Type != "A" || q[0].Client.Addr() != aliceIP {
			t.Errorf("queries %+v", q)
		}
	})
}

// TestRogueDNSForgingNothing: a rogue server whose forgery covers nothing
// (the zero DNSForgery) answers every question REFUSED, and records it
// as not forged.
func TestRogueDNSForgingNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newDNSLAN(t, 0)
		rogue := attacker.NewRogueDNS(attacker.DNSForgery{})
		serveDNS(t, l.mallory, rogue.Serve)
		_, err := lookup(t, l.resolver(t, malloryIP, nil), "pool01.contoso.com")
		if want := "dns: lookup pool01.contoso.com: server answered REFUSED"; errText(err) != want {
			t.Errorf("lookup: %v, want %q", err, want)
		}
		if q := rogue.Queries(); len(q) != 1 || q[0].Forged || q[0].Name != "pool01.contoso.com" || q[0].Type != "A" {
			t.Errorf("queries %+v, want one, not forged", q)
		}
	})
}

// TestDNSSpoofer answers alice's query on its way to the real name server,
// from a host positioned by ARP spoofing or from a hook on the segment.
// The forged answer wins the race; a resolver validating DNSSEC for the
// signed zone drops it and takes the real, signed answer, or, when the
// spoofer also drops the query, fails with the validation error. A
// spoofer holding the queries back keeps the lead on a segment whose
// jitter would otherwise let the real answer overtake, and the real answer
// still comes.
func TestDNSSpoofer(t *testing.T) {
	const hold = 50 * time.Millisecond
	for _, r := range []struct {
		name    string
		hook    bool // position: segment hook, else ARP spoofing
		drop    bool
		hold    bool          // HoldQueries: hold
		jitter  time.Duration // on the LAN segment
		dnssec  bool
		wantErr string
	}{
		{name: "ARP position"},
		{name: "ARP position, queries dropped", drop: true},
		{name: "segment hook", hook: true},
		{name: "segment hook, queries held, jitter", hook: true, hold: true, jitter: 20 * time.Millisecond},
		{name: "DNSSEC validation", hook: true, dnssec: true},
		{name: "DNSSEC validation, queries held, jitter", hook: true, hold: true, jitter: 20 * time.Millisecond, dnssec: true},
		{name: "DNSSEC validation, queries dropped", hook: true, dnssec: true, drop: true, wantErr: "dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG"},
	} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newDNSLAN(t, 0)
				if r.dnssec {
					if err := l.zone.Sign(dns.SignConfig{Now: l.w.Now}); err != nil {
						t.Fatal(err)
					}
				}
				l.serveZone(t)
				cfg := attacker.DNSSpoofConfig{Forgery: attacker.DNSForgery{A: malloryIP, Names: []string{"pool01.contoso.com"}}, DropQueries: r.drop}
				if r.hold {
					cfg.HoldQueries = hold
				}
				sp, err := attacker.NewDNSSpoofer(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := l.lan.SetImpairment(netsim.Impairment{Jitter: r.jitter}); err != nil {
					t.Fatal(err)
				}
				var atNS lockedLog // the questions that reach the real server
				defer l.nsNIC.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
					if name := queryName(frame); name != "" {
						atNS.add(name)
					}
				}))()
				if r.hook {
					defer sp.AttachSegment(l.lan)()
				} else {
					arp, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: l.mNIC, Victims: []netip.Addr{aliceIP, dnsIP}})
					if err != nil {
						t.Fatal(err)
					}
					if err := arp.Start(t.Context()); err != nil {
						t.Fatal(err)
					}
					defer arp.Close()
					synctest.Wait()
					defer sp.AttachNIC(l.mNIC)()
				}
				res := l.resolver(t, dnsIP, func(c *dns.ResolverConfig) {
					if r.dnssec {
						c.TrustAnchors = []miekg.RR{l.zone.DS()}
					}
				})
				lookups := 1
				if r.jitter > 0 {
					lookups = 16 // without the hold, the real answer would overtake one in six
				}
				var got netip.Addr
				for range lookups {
					got, err = lookup(t, res, "pool01.contoso.com")
					if errText(err) != r.wantErr {
						t.Fatalf("lookup: %v, want %q", err, r.wantErr)
					}
					switch {
					case r.dnssec && r.wantErr == "" && got != fe01IP:
						t.Fatalf("pool01 resolved to %v, want the real %v", got, fe01IP)
					case !r.dnssec && got != malloryIP:
						t.Fatalf("pool01 resolved to %v, want mallory's %v", got, malloryIP)
					}
				}
				var ve *dns.ValidationError
				if r.wantErr != "" && (!errors.As(err, &ve) || !errors.Is(err, dns.ErrNoRRSIG)) {
					t.Errorf("error %v is not a ValidationError for ErrNoRRSIG", err)
				}
				if !slices.ContainsFunc(sp.Questions(), func(q attacker.DNSQuestion) bool { return q.Forged && q.Name == "pool01.contoso.com" }) {
					t.Errorf("questions %+v, want pool01 forged", sp.Questions())
				}
				if r.hold {
					time.Sleep(hold + r.jitter) // the held query goes on, on the bubble's clock
				}
				synctest.Wait()
				atNS.mu.Lock()
				reached := slices.Contains(atNS.lines, "pool01.contoso.com.")
				atNS.mu.Unlock()
				if reached == r.drop {
					t.Errorf("query reached the name server: %v, want %v", reached, !r.drop)
				}
				// A spoofer on the segment sees the real answer to each
				// query it forged for pass, unless it dropped the queries.
				if r.hook {
					ctx, cancel := context.WithTimeout(t.Context(), time.Second)
					n, ok := sp.AwaitGenuineAnswers(ctx)
					cancel()
					forged := 0
					for _, q := range sp.Questions() {
						if q.Forged {
							forged++
						}
					}
					if r.drop && (ok || n != 0) || !r.drop && (!ok || n != forged) {
						t.Errorf("AwaitGenuineAnswers = %d, %v; %d queries forged for, dropped %v", n, ok, forged, r.drop)
					}
				}
				// Other names pass untouched.
				if r.wantErr == "" {
					if _, err := lookup(t, res, "missing.contoso.com"); !errors.Is(err, dns.ErrNoSuchHost) {
						t.Errorf("missing.contoso.com: %v, want the real NXDOMAIN", err)
					}
				}
			})
		})
	}
}

// TestBlindSpoofer floods forged answers from off the path while alice
// looks pool01 up at a distant name server: 16 guessed IDs on the fixed
// port 53000 beat a resolver with sequential IDs and a fixed port, and
// miss one that randomises both.
func TestBlindSpoofer(t *testing.T) {
	for _, r := range []struct {
		name       string
		randomized bool
	}{{"sequential IDs, fixed port", false}, {"random IDs and ports", true}} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newDNSLAN(t, 20*time.Millisecond)
				l.serveZone(t)
				res := l.resolver(t, dnsIP, func(c *dns.ResolverConfig) {
					if !r.randomized {
						c.TXID, c.SourcePort = dns.SequentialTXID, dns.FixedSourcePort
					}
				})
				b, err := attacker.NewBlindSpoofer(attacker.BlindSpoofConfig{
					NIC: l.mNIC, Victim: aliceIP, Server: netip.AddrPortFrom(dnsIP, 53),
					Name: "pool01.contoso.com", Forgery: attacker.DNSForgery{A: malloryIP},
					FirstTXID: 1, TXIDs: 16, Rounds: 60, Interval: time.Millisecond,
				})
				if err != nil {
					t.Fatal(err)
				}
				// The attacker knows when alice will look up (it made her:
				// a link in a message, a meeting invite): it resolves
				// alice's MAC first, then floods as she asks.
				flood := make(chan error, 1)
				go func() { flood <- b.Run(t.Context()) }()
				time.Sleep(time.Millisecond)
				got, err := lookup(t, res, "pool01.contoso.com")
				if err != nil {
					t.Fatal(err)
				}
				if err := <-flood; err != nil {
					t.Fatal(err)
				}
				want := map[bool]netip.Addr{false: malloryIP, true: fe01IP}[r.randomized]
				if got != want {
					t.Errorf("pool01 resolved to %v, want %v", got, want)
				}
				if rep := b.Report(); rep.GuessSpace != 16 || rep.Rounds != 60 || rep.Sent != 960 {
					t.Errorf("report %+v", rep)
				}
			})
		})
	}
}

// TestBlindSpooferUntilStopped floods with negative Rounds until its
// context ends: round after round, Interval apart on the World's clock,
// each covering the guess space in order; Run then returns the context's
// cause.
func TestBlindSpooferUntilStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newDNSLAN(t, 0)
		b, err := attacker.NewBlindSpoofer(attacker.BlindSpoofConfig{
			NIC: l.mNIC, Victim: aliceIP, Server: netip.AddrPortFrom(dnsIP, 53),
			Name: "pool01.contoso.com", Forgery: attacker.DNSForgery{A: malloryIP},
			FirstTXID: 7, TXIDs: 3, Ports: 2, Rounds: -1, Interval: 10 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got lockedLog // "port/ID" of each forged answer at alice
		defer l.alice.NICs()[0].AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
			p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
			udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
			m := new(miekg.Msg)
			if !ok || udp.SrcPort != 53 || m.Unpack(udp.Payload) != nil {
				return
			}
			got.add(fmt.Sprintf("%d/%d", udp.DstPort, m.Id))
		}))()
		ctx, cancel := context.WithCancelCause(t.Context())
		stopped := errors.New("alice is done")
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		time.Sleep(35 * time.Millisecond) // rounds at 0, 10, 20 and 30 ms
		cancel(stopped)
		if err := <-done; !errors.Is(err, stopped) {
			t.Fatalf("Run returned %v, want the context's cause", err)
		}
		synctest.Wait()
		round := []string{"53000/7", "53000/8", "53000/9", "53001/7", "53001/8", "53001/9"}
		want := slices.Concat(round, round, round, round)
		got.mu.Lock()
		defer got.mu.Unlock()
		if !slices.Equal(got.lines, want) {
			t.Errorf("forged answers at alice %v, want %v", got.lines, want)
		}
		if rep := b.Report(); rep.GuessSpace != 6 || rep.Rounds != 4 || rep.Sent != 24 {
			t.Errorf("report %+v", rep)
		}
	})
}

// queryName is the question of a DNS query frame to port 53, or "".
func queryName(frame []byte) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok || udp.DstPort != 53 {
		return ""
	}
	m := new(miekg.Msg)
	if m.Unpack(udp.Payload) != nil || m.Response || len(m.Question) != 1 {
		return ""
	}
	return m.Question[0].Name
}

package dns_test

import (
	"context"
	"fmt"
	"net/netip"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/netsim"
)

// exampleHost adds a host with one NIC at addr (a /24) on lan.
func exampleHost(w *netsim.World, lan *netsim.Segment, name, addr string) *netsim.Host {
	h := w.NewHost(name, netsim.HostConfig{})
	if _, err := h.AddNIC(lan, netsim.NICConfig{Addr: netip.PrefixFrom(netip.MustParseAddr(addr), 24)}); err != nil {
		panic(err)
	}
	return h
}

// exampleServe runs a server for zones on h's port 53 and returns a
// function that stops it.
func exampleServe(h *netsim.Host, zones ...*dns.Zone) (stop func()) {
	srv, err := dns.NewServer(dns.ServerConfig{Zones: zones})
	if err != nil {
		panic(err)
	}
	pc, err := h.ListenPacket("udp", ":53")
	if err != nil {
		panic(err)
	}
	l, err := h.Listen("tcp", ":53")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, l) }()
	return func() { cancel(); <-done }
}

// A client finds its pool through SRV and A records served by the internal
// DNS, validating them against the zone's DS record.
func Example() {
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	alice := exampleHost(w, lan, "alice", "10.0.0.10")
	ns := exampleHost(w, lan, "dns", "10.0.0.53")

	zone, err := dns.ParseZone("contoso.com", `
pool01      A   10.0.0.80
sip         CNAME pool01
_sip._tls   SRV 0 0 443 sip
`)
	if err != nil {
		panic(err)
	}
	if err := zone.Sign(dns.SignConfig{}); err != nil {
		panic(err)
	}
	defer exampleServe(ns, zone)()

	r, err := dns.NewResolver(dns.ResolverConfig{
		Net:          alice,
		Servers:      []netip.AddrPort{netip.MustParseAddrPort("10.0.0.53:53")},
		TrustAnchors: []miekg.RR{zone.DS()},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_, srvs, err := r.LookupSRV(ctx, "sip", "tls", "contoso.com")
	if err != nil {
		panic(err)
	}
	fmt.Println(srvs[0].Target, srvs[0].Port)
	addrs, err := r.LookupNetIP(ctx, "ip", srvs[0].Target)
	fmt.Println(addrs, err)
	_, err = r.LookupNetIP(ctx, "ip", "nope.contoso.com")
	fmt.Println(err)
	// Output:
	// sip.contoso.com. 443
	// [10.0.0.80] <nil>
	// dns: lookup nope.contoso.com: no such host
}

// A rogue DNS server answers for the signed zone. A resolver without trust
// anchors believes it; a validating one rejects the answer.
func Example_validation() {
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	alice := exampleHost(w, lan, "alice", "10.0.0.10")
	mallory := exampleHost(w, lan, "mallory", "10.0.0.66")

	real, _ := dns.ParseZone("contoso.com", "pool01 A 10.0.0.80\n")
	if err := real.Sign(dns.SignConfig{}); err != nil {
		panic(err)
	}
	forged, _ := dns.ParseZone("contoso.com", "pool01 A 10.0.0.66\n")
	defer exampleServe(mallory, forged)()

	rogue := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.66:53")}
	for _, anchors := range [][]miekg.RR{nil, {real.DS()}} {
		r, err := dns.NewResolver(dns.ResolverConfig{Net: alice, Servers: rogue, TrustAnchors: anchors})
		if err != nil {
			panic(err)
		}
		addrs, err := r.LookupNetIP(context.Background(), "ip", "pool01.contoso.com")
		fmt.Println(addrs, err)
	}
	// Output:
	// [10.0.0.66] <nil>
	// [] dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG
}

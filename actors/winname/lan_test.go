package winname_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/dns/dnstest"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/netsim"
)

// Addresses on the test LAN (fileservAddr and attackerAddr are in
// responder_test.go).
var (
	clientAddr = netip.MustParseAddr("10.0.0.10")
	nsAddr     = netip.MustParseAddr("10.0.0.53")
)

// lan is a /24 with a Windows client, its DNS server (contoso.com, which
// knows pool01 but not fileserv), the file server and an attacker. The
// World is closed by t.Cleanup.
type lan struct {
	w                        *netsim.World
	seg                      *netsim.Segment
	client, ns, fs, attacker *netsim.Host
	stub                     *dns.Resolver
	linkQueries              atomic.Int32 // UDP datagrams seen to port 5355 or 137
}

// lanConfig adjusts newLAN; the zero value is a plain LAN.
type lanConfig struct {
	// fileservLatency delays the file server's link, so a poisoner on an
	// undelayed link answers first.
	fileservLatency time.Duration
	// pcap, when set, captures the segment into this file.
	pcap string
	// silentDNS points the client's stub at a host that runs no DNS
	// server, with one short try: every lookup times out.
	silentDNS bool
}

func newLAN(t *testing.T, cfg lanConfig) *lan {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 17})
	t.Cleanup(func() { w.Close() })
	l := &lan{w: w, seg: w.NewSegment("lan", netsim.SegmentConfig{})}
	l.seg.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
		p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
		if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (udp.DstPort == 5355 || udp.DstPort == 137) {
			l.linkQueries.Add(1)
		}
	}))
	if cfg.pcap != "" {
		// Before w.Close is registered, so the capture closes after it.
		netsimtest.CaptureToFile(t, l.seg, cfg.pcap)
	}
	add := func(name string, addr netip.Addr, latency time.Duration) *netsim.Host {
		return netsimtest.AddHost(t, l.seg, w, name, addr, netsim.NICConfig{Latency: latency})
	}
	l.client = add("client", clientAddr, 0)
	l.ns = add("ns", nsAddr, 0)
	l.fs = add("fileserv", fileservAddr, cfg.fileservLatency)
	l.attacker = add("attacker", attackerAddr, 0)

	dnstest.Serve(t, l.ns, "contoso.com", "pool01 IN A 10.0.0.80\n")
	stub := dns.ResolverConfig{Net: l.client, Servers: []netip.AddrPort{netip.AddrPortFrom(nsAddr, 53)}}
	if cfg.silentDNS {
		stub.Servers = []netip.AddrPort{netip.AddrPortFrom(attackerAddr, 53)}
		stub.Timeout, stub.Retries = 100*time.Millisecond, -1
	}
	var err error
	l.stub, err = dns.NewResolver(stub)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// respond runs a Responder for cfg on h, on LLMNR's and NBNS's ports,
// until the test ends.
func respond(t *testing.T, h *netsim.Host, cfg winname.ResponderConfig) *winname.Responder {
	t.Helper()
	r := newResponder(t, cfg)
	llmnr, nbns, err := winname.Listen(h)
	if err != nil {
		t.Fatal(err)
	}
	netsimtest.GoServe(t, h.Name()+" responder", func(ctx context.Context) error { return r.Serve(ctx, llmnr, nbns) })
	return r
}

// resolver returns the client's Windows resolver with the given switches.
func (l *lan) resolver(t *testing.T, llmnr, nbtns bool, qcfg winname.NetQuerierConfig) *winname.Resolver {
	t.Helper()
	qcfg.Net = l.client
	q, err := winname.NewNetQuerier(qcfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := winname.NewResolver(winname.ResolverConfig{DNS: l.stub, Querier: q, LLMNR: llmnr, NBTNS: nbtns,
		SearchList: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func stepStrings(steps []winname.Step) []string {
	var s []string
	for _, st := range steps {
		s = append(s, st.String())
	}
	return s
}

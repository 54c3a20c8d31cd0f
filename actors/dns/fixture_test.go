package dns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/netsim"
)

// Addresses on the test LAN.
var (
	clientAddr = netip.MustParseAddr("10.0.0.10")
	nsAddr     = netip.MustParseAddr("10.0.0.53")
	rogueAddr  = netip.MustParseAddr("10.0.0.66")
	silentAddr = netip.MustParseAddr("10.0.0.99") // a host with no DNS server
	pool01     = netip.MustParseAddr("10.0.0.80")
	fe01       = netip.MustParseAddr("10.0.0.81")
	fe02       = netip.MustParseAddr("10.0.0.82")
	mallory    = netip.MustParseAddr("10.6.6.6")
)

// contosoText is the internal view of contoso.com used by most tests.
const contosoText = `
$TTL 300
pool01          IN A     10.0.0.80
fe01            IN A     10.0.0.81
fe02            IN A     10.0.0.82
sip             IN CNAME pool01
meet            IN CNAME sip
lync            IN CNAME edge.fabrikam.com.
_sip._tls       IN SRV   0 0 443 sip.contoso.com.
_sipinternaltls._tcp IN SRV 0 0 5061 pool01.contoso.com.
_sipinternaltls._tcp IN SRV 10 20 5061 fe02.contoso.com.
_sipinternaltls._tcp IN SRV 10 60 5061 fe01.contoso.com.
a.b.deep        IN A     10.0.0.90
`

// fabrikamText is fabrikam.com as the public DNS serves it.
const fabrikamText = `
edge                          IN A   192.0.2.10
_sipfederationtls._tcp        IN SRV 0 0 5061 edge.fabrikam.com.
`

func mustZone(t testing.TB, origin, text string) *dns.Zone {
	t.Helper()
	z, err := dns.ParseZone(origin, text)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// lab is a LAN with a client, a name server, a rogue host and a silent
// host, plus a tap that decodes every DNS message on the wire. The World is
// closed by t.Cleanup.
type lab struct {
	w                          *netsim.World
	lan                        *netsim.Segment
	client, ns, rogue, silent  *netsim.Host
	clientNIC, nsNIC, rogueNIC *netsim.NIC
	wire                       *wireLog
}

// labConfig adjusts newLab; the zero value is a plain LAN.
type labConfig struct {
	ns     netsim.NICConfig // Addr is filled in
	client netsim.NICConfig // Addr is filled in
}

func newLab(t testing.TB, cfg labConfig) *lab {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	l := &lab{w: w, lan: w.NewSegment("lan", netsim.SegmentConfig{}), wire: &wireLog{}}
	l.lan.AddTap(l.wire)
	add := func(name string, addr netip.Addr, nc netsim.NICConfig) (*netsim.Host, *netsim.NIC) {
		h := w.NewHost(name, netsim.HostConfig{})
		nc.Addr = netip.PrefixFrom(addr, 24)
		n, err := h.AddNIC(l.lan, nc)
		if err != nil {
			t.Fatal(err)
		}
		return h, n
	}
	l.client, l.clientNIC = add("client", clientAddr, cfg.client)
	l.ns, l.nsNIC = add("ns", nsAddr, cfg.ns)
	l.rogue, l.rogueNIC = add("rogue", rogueAddr, netsim.NICConfig{})
	l.silent, _ = add("silent", silentAddr, netsim.NICConfig{})
	return l
}

// serve runs a dns.Server for cfg on h's port 53 (UDP and TCP) until the
// test ends; cleanup stops it and checks it stopped cleanly.
func serve(t testing.TB, h *netsim.Host, cfg dns.ServerConfig) *dns.Server {
	t.Helper()
	srv, err := dns.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := h.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	l, err := h.Listen("tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Serve returned %v, want context.Canceled", err)
		}
	})
	return srv
}

// resolver returns a resolver on the lab's client asking servers (port 53).
func (l *lab) resolver(t testing.TB, cfg dns.ResolverConfig, servers ...netip.Addr) *dns.Resolver {
	t.Helper()
	cfg.Net = l.client
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, netip.AddrPortFrom(s, 53))
	}
	r, err := dns.NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wireMsg is one DNS message seen on the LAN, decoded by gopacket.
type wireMsg struct {
	at       time.Time
	tcp      bool
	src, dst netip.AddrPort
	id       uint16
	qr, tc   bool
	question string   // "name TYPE"
	answers  []string // "name TYPE data"
}

// wireLog is a segment tap that decodes DNS over UDP (any port) and notes
// TCP connections to port 53.
type wireLog struct {
	mu   sync.Mutex
	msgs []wireMsg
	syns int // TCP SYNs to port 53
}

func (w *wireLog) ObserveFrame(ts time.Time, frame []byte) {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil {
		return
	}
	src, _ := netip.AddrFromSlice(ip.SrcIP)
	dst, _ := netip.AddrFromSlice(ip.DstIP)
	if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		if tcp.SYN && !tcp.ACK && tcp.DstPort == 53 {
			w.mu.Lock()
			w.syns++
			w.mu.Unlock()
		}
		return
	}
	udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok {
		return
	}
	d := &layers.DNS{}
	if err := d.DecodeFromBytes(udp.Payload, gopacket.NilDecodeFeedback); err != nil {
		return
	}
	m := wireMsg{
		at:  ts,
		src: netip.AddrPortFrom(src, uint16(udp.SrcPort)),
		dst: netip.AddrPortFrom(dst, uint16(udp.DstPort)),
		id:  d.ID, qr: d.QR, tc: d.TC,
	}
	if len(d.Questions) > 0 {
		m.question = string(d.Questions[0].Name) + " " + d.Questions[0].Type.String()
	}
	for _, a := range d.Answers {
		s := string(a.Name) + " " + a.Type.String()
		if a.Type == layers.DNSTypeA {
			s += " " + a.IP.String()
		}
		m.answers = append(m.answers, s)
	}
	w.mu.Lock()
	w.msgs = append(w.msgs, m)
	w.mu.Unlock()
}

// queries returns the UDP queries seen, in order.
func (w *wireLog) queries() []wireMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireMsg
	for _, m := range w.msgs {
		if !m.qr {
			out = append(out, m)
		}
	}
	return out
}

// responses returns the UDP responses seen, in order.
func (w *wireLog) responses() []wireMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireMsg
	for _, m := range w.msgs {
		if m.qr {
			out = append(out, m)
		}
	}
	return out
}

func (w *wireLog) tcpConns() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syns
}

// spoof injects a UDP datagram onto the LAN with any source address, as an
// attacker with a raw socket would, addressed to dstMAC.
func (l *lab) spoof(t testing.TB, src, dst netip.AddrPort, dstMAC net.HardwareAddr, payload []byte) {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: l.rogueNIC.MAC(), DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	l.lan.Inject(buf.Bytes())
}

// forgedAnswer returns a packed response to (id, name, A) claiming addr.
func forgedAnswer(t testing.TB, id uint16, name string, addr netip.Addr) []byte {
	t.Helper()
	q := new(miekg.Msg)
	q.SetQuestion(miekg.Fqdn(name), miekg.TypeA)
	q.Id = id
	m := new(miekg.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Answer = append(m.Answer, dns.A(name, addr))
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rrStrings renders records as "name TYPE rdata" with single spaces.
func rrStrings(rrs []miekg.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		data := strings.TrimSpace(strings.TrimPrefix(rr.String(), h.String()))
		out = append(out, fmt.Sprintf("%s %s %s", h.Name, miekg.Type(h.Rrtype), data))
	}
	return out
}

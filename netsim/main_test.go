package netsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: World.Close
// promises that everything a World started has stopped when it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair is the fixture most tests start from: hosts a (10.0.0.1) and b
// (10.0.0.2) on segment "lan". The World is closed by t.Cleanup, which
// inside a synctest bubble runs before the bubble ends.
type pair struct {
	w      *World
	lan    *Segment
	a, b   *Host
	na, nb *NIC
}

// pairConfig customizes newPair; the zero value is a plain 1500-byte LAN.
type pairConfig struct {
	seed   uint64
	seg    SegmentConfig
	ha, hb HostConfig
	na, nb NICConfig // Addr is filled in when empty
}

func newPair(t testing.TB, cfg pairConfig) *pair {
	t.Helper()
	if cfg.seed == 0 {
		cfg.seed = 1
	}
	w := NewWorld(Config{Seed: cfg.seed})
	t.Cleanup(func() { w.Close() })
	p := &pair{w: w, lan: w.NewSegment("lan", cfg.seg)}
	if !cfg.na.Addr.IsValid() {
		cfg.na.Addr = netip.MustParsePrefix("10.0.0.1/24")
	}
	if !cfg.nb.Addr.IsValid() {
		cfg.nb.Addr = netip.MustParsePrefix("10.0.0.2/24")
	}
	p.a, p.na = addHost(t, w, p.lan, "a", cfg.ha, cfg.na)
	p.b, p.nb = addHost(t, w, p.lan, "b", cfg.hb, cfg.nb)
	return p
}

// addHost creates a host with one NIC on seg.
func addHost(t testing.TB, w *World, seg *Segment, name string, hc HostConfig, nc NICConfig) (*Host, *NIC) {
	t.Helper()
	h := w.NewHost(name, hc)
	n, err := h.AddNIC(seg, nc)
	if err != nil {
		t.Fatalf("AddNIC(%s): %v", name, err)
	}
	return h, n
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

// connect listens on server:port, dials it from client and returns both
// ends of the established connection. The listener is closed by Cleanup.
func connect(t testing.TB, client, server *Host, port string) (c, s *Conn) {
	t.Helper()
	l, err := server.Listen("tcp", ":"+port)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		accepted <- result{c, err}
	}()
	dst := server.Addr().String() + ":" + port
	cc, err := client.DialContext(context.Background(), "tcp", dst)
	if err != nil {
		t.Fatalf("Dial %s: %v", dst, err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatalf("Accept: %v", r.err)
	}
	return cc.(*Conn), r.c.(*Conn)
}

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// readAllHash reads r to EOF and returns the byte count and SHA-256.
func readAllHash(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return n, sum, err
}

// recorder is a Tap that keeps a copy of every frame it sees.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	times  []time.Time
}

func (r *recorder) ObserveFrame(ts time.Time, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, bytes.Clone(frame))
	r.times = append(r.times, ts)
}

// snapshot returns the frames recorded so far.
func (r *recorder) snapshot() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...)
}

// packets decodes the recorded frames with gopacket.
func (r *recorder) packets() []gopacket.Packet {
	var out []gopacket.Packet
	for _, f := range r.snapshot() {
		out = append(out, gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default))
	}
	return out
}

// tcpPackets returns the recorded TCP segments with their IPv4 headers.
func (r *recorder) tcpPackets() []tcpPacket {
	var out []tcpPacket
	for _, p := range r.packets() {
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip != nil && tcp != nil {
			out = append(out, tcpPacket{ip, tcp})
		}
	}
	return out
}

type tcpPacket struct {
	ip  *layers.IPv4
	tcp *layers.TCP
}

// src and dst name an endpoint as "ip:port".
func (p tcpPacket) src() string {
	return netip.AddrPortFrom(netip.MustParseAddr(p.ip.SrcIP.String()), uint16(p.tcp.SrcPort)).String()
}

func (p tcpPacket) dst() string {
	return netip.AddrPortFrom(netip.MustParseAddr(p.ip.DstIP.String()), uint16(p.tcp.DstPort)).String()
}

// seqLen is the sequence space the segment occupies.
func (p tcpPacket) seqLen() uint32 {
	n := uint32(len(p.tcp.Payload))
	if p.tcp.SYN {
		n++
	}
	if p.tcp.FIN {
		n++
	}
	return n
}

// mssOption returns the MSS option of a segment, or 0.
func mssOption(tcp *layers.TCP) uint16 {
	for _, o := range tcp.Options {
		if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
			return uint16(o.OptionData[0])<<8 | uint16(o.OptionData[1])
		}
	}
	return 0
}

// buildFrame serializes layers into a frame with lengths and checksums
// computed by gopacket, for tests that inject hand-made frames.
func buildFrame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		if tl, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, n := range ls {
				if ip, ok := n.(*layers.IPv4); ok {
					if err := tl.SetNetworkLayerForChecksum(ip); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serializing frame: %v", err)
	}
	return buf.Bytes()
}

// udpFrame builds an Ethernet/IPv4/UDP frame from src to dst.
func udpFrame(t testing.TB, srcMAC, dstMAC net.HardwareAddr, src, dst netip.AddrPort, data []byte) []byte {
	t.Helper()
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	return buildFrame(t,
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: s4[:], DstIP: d4[:]},
		&layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())},
		gopacket.Payload(data),
	)
}

// arpFrame builds an ARP message; ethDst is the Ethernet destination.
func arpFrame(t testing.TB, op uint16, srcMAC net.HardwareAddr, srcIP netip.Addr, dstMAC net.HardwareAddr, dstIP netip.Addr, ethDst net.HardwareAddr) []byte {
	t.Helper()
	s4, d4 := srcIP.As4(), dstIP.As4()
	return buildFrame(t,
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: ethDst, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
			SourceHwAddress: srcMAC, SourceProtAddress: s4[:],
			DstHwAddress: dstMAC, DstProtAddress: d4[:],
		},
	)
}

// tcpFrameMatch reports whether frame is an IPv4 TCP segment to dstPort.
func tcpToPort(frame []byte, dstPort layers.TCPPort) bool {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	return ok && tcp.DstPort == dstPort
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }

// decodeTCP decodes an IPv4/TCP frame, or returns nil.
func decodeTCP(frame []byte) *tcpPacket {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil {
		return nil
	}
	return &tcpPacket{ip, tcp}
}

// tcpFrame builds an Ethernet/IPv4/TCP frame with checksums.
func tcpFrame(t testing.TB, srcMAC, dstMAC net.HardwareAddr, src, dst net.IP, tcp *layers.TCP, data []byte) []byte {
	t.Helper()
	return buildFrame(t,
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst},
		tcp, gopacket.Payload(data))
}

func udpAddr(s string) *net.UDPAddr    { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
func addrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

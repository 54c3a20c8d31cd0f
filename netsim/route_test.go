package netsim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// routed is two segments joined by a router:
//
//	client 10.0.1.10 --left-- 10.0.1.1 router 10.0.2.1 --right-- 10.0.2.20 server
//
// with default gateways on both hosts.
type routed struct {
	w                     *World
	left, right           *Segment
	client, server, r     *Host
	nc, ns, rLeft, rRight *NIC
}

func newRouted(t testing.TB, left, right SegmentConfig) *routed {
	t.Helper()
	w := NewWorld(Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	n := &routed{w: w, left: w.NewSegment("left", left), right: w.NewSegment("right", right)}
	n.r = w.NewRouter("r", HostConfig{})
	var err error
	if n.rLeft, err = n.r.AddNIC(n.left, NICConfig{Addr: mustPrefix("10.0.1.1/24")}); err != nil {
		t.Fatal(err)
	}
	if n.rRight, err = n.r.AddNIC(n.right, NICConfig{Addr: mustPrefix("10.0.2.1/24")}); err != nil {
		t.Fatal(err)
	}
	n.client, n.nc = addHost(t, w, n.left, "client", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.1.10/24")})
	n.server, n.ns = addHost(t, w, n.right, "server", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.2.20/24")})
	if err := n.client.SetDefaultGateway(mustAddr("10.0.1.1")); err != nil {
		t.Fatal(err)
	}
	if err := n.server.SetDefaultGateway(mustAddr("10.0.2.1")); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRoutedTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{}, SegmentConfig{})
		left, right := &recorder{}, &recorder{}
		n.left.AddTap(left)
		n.right.AddTap(right)
		c, s := connect(t, n.client, n.server, "443")
		if got := s.RemoteAddr().String(); got != c.LocalAddr().String() {
			t.Errorf("server sees the client as %s, want %s (routers do not NAT)", got, c.LocalAddr())
		}
		go func() { io.Copy(s, s); s.Close() }()
		msg := payload(5, 300_000)
		go func() { c.Write(msg); c.CloseWrite() }()
		got, err := io.ReadAll(c)
		if err != nil || string(got) != string(msg) {
			t.Fatalf("echo across the router: %d bytes, %v", len(got), err)
		}
		c.Close()
		synctest.Wait()

		// Each side's packets leave with TTL 64 and are forwarded with 63,
		// re-addressed to the next hop's MAC from the router's.
		check := func(rec *recorder, seg string, fromClientTTL, fromServerTTL uint8, fromClientMACs, fromServerMACs [2]net.HardwareAddr) {
			t.Helper()
			pkts := rec.tcpPackets()
			if len(pkts) == 0 {
				t.Fatalf("no TCP on %s", seg)
			}
			for _, pk := range rec.packets() {
				ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				eth, _ := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
				if ip == nil {
					continue
				}
				wantTTL, macs := fromServerTTL, fromServerMACs
				if ip.SrcIP.String() == "10.0.1.10" {
					wantTTL, macs = fromClientTTL, fromClientMACs
				}
				if ip.TTL != wantTTL {
					t.Errorf("on %s: packet from %s has TTL %d, want %d", seg, ip.SrcIP, ip.TTL, wantTTL)
				}
				if eth.SrcMAC.String() != macs[0].String() || eth.DstMAC.String() != macs[1].String() {
					t.Errorf("on %s: packet from %s has MACs %s -> %s, want %s -> %s", seg, ip.SrcIP, eth.SrcMAC, eth.DstMAC, macs[0], macs[1])
				}
			}
		}
		check(left, "left", 64, 63, [2]net.HardwareAddr{n.nc.MAC(), n.rLeft.MAC()}, [2]net.HardwareAddr{n.rLeft.MAC(), n.nc.MAC()})
		check(right, "right", 63, 64, [2]net.HardwareAddr{n.rRight.MAC(), n.ns.MAC()}, [2]net.HardwareAddr{n.ns.MAC(), n.rRight.MAC()})
	})
}

func TestMultiHopRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// client --left-- r --right-- r2 --far-- server
		n := newRouted(t, SegmentConfig{}, SegmentConfig{})
		far := n.w.NewSegment("far", SegmentConfig{})
		r2 := n.w.NewRouter("r2", HostConfig{})
		if _, err := r2.AddNIC(n.right, NICConfig{Addr: mustPrefix("10.0.2.2/24")}); err != nil {
			t.Fatal(err)
		}
		if _, err := r2.AddNIC(far, NICConfig{Addr: mustPrefix("10.0.3.1/24")}); err != nil {
			t.Fatal(err)
		}
		if err := n.r.AddRoute(mustPrefix("10.0.3.0/24"), mustAddr("10.0.2.2")); err != nil {
			t.Fatal(err)
		}
		if err := r2.SetDefaultGateway(mustAddr("10.0.2.1")); err != nil {
			t.Fatal(err)
		}
		dst, _ := addHost(t, n.w, far, "dst", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.3.30/24")})
		dst.SetDefaultGateway(mustAddr("10.0.3.1"))
		pc, _ := dst.ListenPacket("udp", ":7")
		uc, err := n.client.DialContext(t.Context(), "udp", "10.0.3.30:7")
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		far.AddTap(rec)
		uc.Write([]byte("two hops"))
		buf := make([]byte, 16)
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, from, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:m]) != "two hops" || from.String() != uc.LocalAddr().String() {
			t.Fatalf("ReadFrom = %q, %v, %v", buf[:m], from, err)
		}
		for _, pk := range rec.packets() {
			if ip, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok && ip.TTL != 62 {
				t.Errorf("after two routers TTL is %d, want 62", ip.TTL)
			}
		}
		want := []string{"10.0.1.0/24 dev r/eth0", "10.0.2.0/24 dev r/eth1", "10.0.3.0/24 via 10.0.2.2 dev r/eth1"}
		if got := n.r.Routes(); !slices.Equal(got, want) {
			t.Errorf("router routes %q, want %q", got, want)
		}
		want = []string{"10.0.1.0/24 dev client/eth0", "0.0.0.0/0 via 10.0.1.1 dev client/eth0"}
		if got := n.client.Routes(); !slices.Equal(got, want) {
			t.Errorf("client routes %q, want %q", got, want)
		}
		uc.Close()
		pc.Close()
	})
}

func TestNoRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := NewWorld(Config{Seed: 1})
		defer w.Close()
		lan := w.NewSegment("lan", SegmentConfig{})
		h, _ := addHost(t, w, lan, "h", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.1/24")})

		_, err := h.Dial("tcp", "192.168.1.1:80")
		if want := "dial tcp 192.168.1.1:80: connect: network is unreachable"; !errors.Is(err, syscall.ENETUNREACH) || err.Error() != want {
			t.Errorf("TCP dial without a route: %v, want %q", err, want)
		}
		_, err = h.Dial("udp", "192.168.1.1:53")
		if want := "dial udp 192.168.1.1:53: connect: network is unreachable"; !errors.Is(err, syscall.ENETUNREACH) || err.Error() != want {
			t.Errorf("UDP dial without a route: %v, want %q", err, want)
		}
		pc, _ := h.ListenPacket("udp", ":0")
		defer pc.Close()
		if _, err := pc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(192, 168, 1, 1), Port: 53}); !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("WriteTo without a route: %v", err)
		}
	})
}

// TestRouterWithoutRouteDrops: the router has no route to the destination,
// so the packet is dropped (netsim sends no ICMP) and the dial times out.
func TestRouterWithoutRouteDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{}, SegmentConfig{})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := n.client.DialContext(ctx, "tcp", "172.16.0.1:80")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("dial through a router without a route: %v, want timeout", err)
		}
	})
}

func TestAddRouteErrors(t *testing.T) {
	p := newPair(t, pairConfig{})
	tests := []struct {
		dst, via string
		msg      string
	}{
		{"192.168.0.0/16", "172.16.0.1", "netsim: route 192.168.0.0/16 on host a: gateway 172.16.0.1 is not on a directly connected subnet"},
		{"0.0.0.0/0", "10.9.0.1", "netsim: route 0.0.0.0/0 on host a: gateway 10.9.0.1 is not on a directly connected subnet"},
	}
	for _, tt := range tests {
		err := p.a.AddRoute(mustPrefix(tt.dst), mustAddr(tt.via))
		var ce *ConfigError
		if !errors.As(err, &ce) || err.Error() != tt.msg {
			t.Errorf("AddRoute(%s via %s) = %v, want ConfigError %q", tt.dst, tt.via, err, tt.msg)
		}
	}
	// A gateway reachable only through another gateway is refused too.
	if err := p.a.SetDefaultGateway(mustAddr("10.0.0.254")); err != nil {
		t.Fatal(err)
	}
	if err := p.a.AddRoute(mustPrefix("192.168.0.0/16"), mustAddr("172.16.0.1")); err == nil {
		t.Error("AddRoute accepted a gateway that is itself behind a gateway")
	}
	// Routes are kept longest prefix first and masked.
	if err := p.a.AddRoute(mustPrefix("192.168.7.9/24"), mustAddr("10.0.0.9")); err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/24 dev a/eth0", "192.168.7.0/24 via 10.0.0.9 dev a/eth0", "0.0.0.0/0 via 10.0.0.254 dev a/eth0"}
	if got := p.a.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
}

func TestAddNICErrors(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	defer w.Close()
	other := NewWorld(Config{Seed: 2})
	defer other.Close()
	h := w.NewHost("h", HostConfig{})
	tests := []struct {
		seg *Segment
		cfg NICConfig
		msg string
	}{
		{w.NewSegment("s", SegmentConfig{}), NICConfig{}, "netsim: NIC address of host h: needs an IPv4 address with prefix, e.g. 10.0.0.5/24"},
		{w.NewSegment("s6", SegmentConfig{}), NICConfig{Addr: mustPrefix("2001:db8::1/64")}, "netsim: NIC address of host h: needs an IPv4 address with prefix, e.g. 10.0.0.5/24"},
		{other.NewSegment("elsewhere", SegmentConfig{}), NICConfig{Addr: mustPrefix("10.0.0.1/24")}, "netsim: NIC of host h: segment elsewhere belongs to another world"},
	}
	for _, tt := range tests {
		_, err := h.AddNIC(tt.seg, tt.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || err.Error() != tt.msg {
			t.Errorf("AddNIC(%s, %v) = %v, want %q", tt.seg.Name(), tt.cfg.Addr, err, tt.msg)
		}
	}
}

// TestTTLExpiry injects datagrams towards the far side with small TTLs: a
// router forwards TTL 2 (as 1) and drops TTL 1.
func TestTTLExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{}, SegmentConfig{})
		pc, _ := n.server.ListenPacket("udp", ":9")
		defer pc.Close()
		right := &recorder{}
		n.right.AddTap(right)
		for _, ttl := range []uint8{1, 2} {
			frame := udpFrame(t, n.nc.MAC(), n.rLeft.MAC(), netip.MustParseAddrPort("10.0.1.10:1000"), netip.MustParseAddrPort("10.0.2.20:9"), []byte{ttl})
			setTTL(t, frame, ttl)
			n.left.Inject(frame)
		}
		pc.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 4)
		m, _, err := pc.ReadFrom(buf)
		if err != nil || m != 1 || buf[0] != 2 {
			t.Fatalf("ReadFrom = %v, %v; want the TTL-2 datagram", buf[:m], err)
		}
		if _, _, err := pc.ReadFrom(buf); !isTimeout(err) {
			t.Fatalf("second ReadFrom: %v, want a timeout (TTL 1 is not forwarded)", err)
		}
		var ttls []uint8
		for _, pk := range right.packets() {
			if ip, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
				ttls = append(ttls, ip.TTL)
			}
		}
		if !slices.Equal(ttls, []uint8{1}) {
			t.Errorf("TTLs forwarded onto the right segment: %v, want [1]", ttls)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// setTTL rewrites an IPv4 frame's TTL and fixes its header checksum.
func setTTL(t testing.TB, frame []byte, ttl uint8) {
	t.Helper()
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ip.TTL = ttl
	buf := gopacket.NewSerializeBuffer()
	if err := ip.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
		t.Fatal(err)
	}
	copy(frame[ethHeaderLen:], buf.Bytes())
}

func TestForwardHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{}, SegmentConfig{})
		pc, _ := n.server.ListenPacket("udp", ":53")
		defer pc.Close()
		var mu sync.Mutex
		var seen []string
		remove := n.r.AddForwardHook(HookFunc(func(f *Frame) HookAction {
			pk := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
			ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			udp, _ := pk.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if ip == nil || udp == nil {
				return Pass
			}
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, f.Ingress.Name()+" ttl="+itoa(int(ip.TTL))+" "+string(udp.Payload))
			return dropIf(strings.HasPrefix(string(udp.Payload), "drop"))
		}))
		uc, _ := n.client.DialContext(t.Context(), "udp", "10.0.2.20:53")
		defer uc.Close()
		uc.Write([]byte("drop me"))
		uc.Write([]byte("pass me"))
		synctest.Wait()
		remove()
		uc.Write([]byte("drop after removal"))
		synctest.Wait()
		var got []string
		pc.SetReadDeadline(time.Now().Add(time.Second))
		for {
			buf := make([]byte, 64)
			m, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			got = append(got, string(buf[:m]))
		}
		if want := []string{"pass me", "drop after removal"}; !slices.Equal(got, want) {
			t.Errorf("server received %q, want %q", got, want)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"r/eth0 ttl=64 drop me", "r/eth0 ttl=64 pass me"}; !slices.Equal(seen, want) {
			t.Errorf("forward hook saw %q, want %q", seen, want)
		}
	})
}

// TestRouteReplace: a second route for the same prefix replaces the first,
// so the default gateway can be changed (as a rogue gateway would).
func TestRouteReplace(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", SegmentConfig{})
	h := w.NewHost("h", HostConfig{})
	mustNIC(t, h, lan, "10.0.0.10/24")
	if err := h.SetDefaultGateway(netip.MustParseAddr("10.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := h.SetDefaultGateway(netip.MustParseAddr("10.0.0.66")); err != nil {
		t.Fatal(err)
	}
	got := h.Routes()
	want := []string{"10.0.0.0/24 dev h/eth0", "0.0.0.0/0 via 10.0.0.66 dev h/eth0"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Routes() = %q, want %q", got, want)
	}
}

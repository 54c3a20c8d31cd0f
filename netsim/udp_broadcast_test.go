package netsim

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// groupLAN is two segments joined by a router: lan holds a, b and c
// (10.0.0.1-3/24) and an unaddressed host u; far holds d (10.1.0.1/24).
type groupLAN struct {
	w        *World
	lan, far *Segment
	a, b, c  *Host
	u, d     *Host
	nu       *NIC
	frames   *frameLog // every frame lan carries
}

func newGroupLAN(t *testing.T) *groupLAN {
	t.Helper()
	w := NewWorld(Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	g := &groupLAN{w: w, lan: w.NewSegment("lan", SegmentConfig{}), far: w.NewSegment("far", SegmentConfig{})}
	g.a, _ = addHost(t, w, g.lan, "a", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.1/24")})
	g.b, _ = addHost(t, w, g.lan, "b", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.2/24")})
	g.c, _ = addHost(t, w, g.lan, "c", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24")})
	g.u, g.nu = addHost(t, w, g.lan, "u", HostConfig{}, NICConfig{Unaddressed: true})
	r, _ := addHost(t, w, g.lan, "r", HostConfig{Forwarding: true}, NICConfig{Addr: mustPrefix("10.0.0.254/24")})
	if _, err := r.AddNIC(g.far, NICConfig{Addr: mustPrefix("10.1.0.254/24")}); err != nil {
		t.Fatal(err)
	}
	g.d, _ = addHost(t, w, g.far, "d", HostConfig{}, NICConfig{Addr: mustPrefix("10.1.0.1/24")})
	for _, h := range []*Host{g.a, g.b, g.c} {
		if err := h.SetDefaultGateway(mustAddr("10.0.0.254")); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.d.SetDefaultGateway(mustAddr("10.1.0.254")); err != nil {
		t.Fatal(err)
	}
	g.frames = &frameLog{}
	g.lan.AddTap(g.frames)
	return g
}

// frameLog records the frames a tap sees.
type frameLog struct {
	mu     sync.Mutex
	frames [][]byte
}

func (l *frameLog) ObserveFrame(_ time.Time, frame []byte) {
	l.mu.Lock()
	l.frames = append(l.frames, append([]byte(nil), frame...))
	l.mu.Unlock()
}

// lastUDP returns the last UDP frame seen.
func (l *frameLog) lastUDP(t *testing.T) []byte {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.frames) - 1; i >= 0; i-- {
		if isUDPFrame(l.frames[i]) {
			return l.frames[i]
		}
	}
	t.Fatal("no UDP frame on the segment")
	return nil
}

func listenUDP(t *testing.T, h *Host, addr string) net.PacketConn {
	t.Helper()
	pc, err := h.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("%s ListenPacket(%s): %v", h.Name(), addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func sendDatagram(t *testing.T, pc net.PacketConn, to, msg string) {
	t.Helper()
	if _, err := pc.WriteTo([]byte(msg), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(to))); err != nil {
		t.Fatalf("WriteTo %s: %v", to, err)
	}
}

// expectDatagram reads one datagram and checks its text and sender.
func expectDatagram(t *testing.T, pc net.PacketConn, msg, from string) {
	t.Helper()
	buf := make([]byte, 1500)
	pc.SetReadDeadline(time.Now().Add(time.Second))
	defer pc.SetReadDeadline(time.Time{})
	n, src, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != msg || src.String() != from {
		t.Fatalf("%v read %q from %v, %v; want %q from %s", pc.LocalAddr(), buf[:n], src, err, msg, from)
	}
}

// expectNothing checks that no datagram is waiting once every frame in
// flight has been processed.
func expectNothing(t *testing.T, who string, pc net.PacketConn) {
	t.Helper()
	synctest.Wait()
	pc.SetReadDeadline(time.Now())
	defer pc.SetReadDeadline(time.Time{})
	buf := make([]byte, 1500)
	if n, src, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("%s received %q from %v, want nothing", who, buf[:n], src)
	}
}

func checkFrame(t *testing.T, frame []byte, ethDst, src, dst string, ttl byte) {
	t.Helper()
	ip := frame[ethHeaderLen:]
	got := []string{net.HardwareAddr(frame[0:6]).String(), netip.AddrFrom4([4]byte(ip[12:16])).String(), netip.AddrFrom4([4]byte(ip[16:20])).String()}
	want := []string{ethDst, src, dst}
	if strings.Join(got, " ") != strings.Join(want, " ") || ip[8] != ttl {
		t.Errorf("frame eth dst, ip src, ip dst = %v ttl %d; want %v ttl %d", got, ip[8], want, ttl)
	}
	if foldSum(onesSum(0, ip[:ipv4HeaderLen])) != 0xffff {
		t.Error("bad IPv4 header checksum")
	}
	ipLen := int(ip[2])<<8 | int(ip[3]) // the frame may carry Ethernet padding
	if !transportChecksumOK(ip[:ipv4HeaderLen], ip[ipv4HeaderLen:ipLen], 17) {
		t.Error("bad UDP checksum")
	}
}

func TestUDPLimitedBroadcastFromUnaddressedHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroupLAN(t)
		if got := g.nu.Addr().String(); got != "0.0.0.0" {
			t.Errorf("unaddressed NIC Addr %s, want 0.0.0.0", got)
		}
		client := listenUDP(t, g.u, "0.0.0.0:68")
		wild := listenUDP(t, g.b, ":67")
		bcast := listenUDP(t, g.a, "255.255.255.255:67")
		unicast := listenUDP(t, g.c, "10.0.0.3:67")
		far := listenUDP(t, g.d, ":67")

		sendDatagram(t, client, "255.255.255.255:67", "discover")
		expectDatagram(t, wild, "discover", "0.0.0.0:68")
		expectDatagram(t, bcast, "discover", "0.0.0.0:68")
		expectNothing(t, "socket bound to a unicast address", unicast)
		expectNothing(t, "host behind the router", far)
		checkFrame(t, g.frames.lastUDP(t), "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", defaultTTL)

		sendDatagram(t, wild, "255.255.255.255:68", "offer")
		expectDatagram(t, client, "offer", "10.0.0.2:67")
		checkFrame(t, g.frames.lastUDP(t), "ff:ff:ff:ff:ff:ff", "10.0.0.2", "255.255.255.255", defaultTTL)
	})
}

func TestUDPDirectedBroadcast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroupLAN(t)
		sender := listenUDP(t, g.a, ":0")
		wild := listenUDP(t, g.b, ":137")
		bound := listenUDP(t, g.c, "10.0.0.255:137")
		unaddressed := listenUDP(t, g.u, ":137") // not on 10.0.0.0/24
		far := listenUDP(t, g.d, ":137")

		sendDatagram(t, sender, "10.0.0.255:137", "who is sip")
		from := "10.0.0.1:" + itoa(sender.LocalAddr().(*net.UDPAddr).Port)
		expectDatagram(t, wild, "who is sip", from)
		expectDatagram(t, bound, "who is sip", from)
		expectNothing(t, "unaddressed host", unaddressed)
		checkFrame(t, g.frames.lastUDP(t), "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.255", defaultTTL)

		// The far subnet's directed broadcast goes to the router, which
		// does not forward it.
		sendDatagram(t, sender, "10.1.0.255:137", "remote")
		expectNothing(t, "host behind the router", far)
		expectNothing(t, "host on the sender's segment", wild)
	})
}

func TestUDPMulticast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroupLAN(t)
		group := mustAddr("224.0.0.252")
		sender := listenUDP(t, g.a, "10.0.0.1:40000")
		member, err := g.b.ListenMulticastUDP(group, 5355)
		if err != nil {
			t.Fatal(err)
		}
		defer member.Close()
		other := listenUDP(t, g.c, ":5355")
		far, err := g.d.ListenMulticastUDP(group, 5355)
		if err != nil {
			t.Fatal(err)
		}
		defer far.Close()

		sendDatagram(t, sender, "224.0.0.252:5355", "llmnr 1")
		expectDatagram(t, member, "llmnr 1", "10.0.0.1:40000")
		expectNothing(t, "socket that did not join", other)
		expectNothing(t, "member behind the router", far)
		checkFrame(t, g.frames.lastUDP(t), "01:00:5e:00:00:fc", "10.0.0.1", "224.0.0.252", 1)

		mc := other.(MulticastConn)
		if err := mc.JoinGroup(group); err != nil {
			t.Fatal(err)
		}
		sendDatagram(t, sender, "224.0.0.252:5355", "llmnr 2")
		expectDatagram(t, member, "llmnr 2", "10.0.0.1:40000")
		expectDatagram(t, other, "llmnr 2", "10.0.0.1:40000")
		// Another group on the same port is not delivered.
		sendDatagram(t, sender, "224.0.0.251:5355", "mdns")
		expectNothing(t, "member of another group", other)

		if err := mc.LeaveGroup(group); err != nil {
			t.Fatal(err)
		}
		sendDatagram(t, sender, "224.0.0.252:5355", "llmnr 3")
		expectDatagram(t, member, "llmnr 3", "10.0.0.1:40000")
		expectNothing(t, "socket that left the group", other)

		var addrErr *net.AddrError
		if err := mc.JoinGroup(mustAddr("10.0.0.9")); !errors.As(err, &addrErr) || addrErr.Err != "not an IPv4 multicast group" {
			t.Errorf("JoinGroup(10.0.0.9) = %v, want an AddrError", err)
		}
		// The group's high bits do not reach the MAC: 239.128.0.252 maps
		// to the same address as 224.0.0.252 does.
		if got := multicastMAC(mustAddr("239.128.0.252")).String(); got != "01:00:5e:00:00:fc" {
			t.Errorf("multicastMAC = %s", got)
		}
	})
}

func TestNICSetAddr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroupLAN(t)
		if routes := g.u.Routes(); len(routes) != 0 {
			t.Errorf("unaddressed host routes %v, want none", routes)
		}
		if err := g.nu.SetAddr(mustPrefix("10.0.0.50/24")); err != nil {
			t.Fatal(err)
		}
		if err := g.u.SetDefaultGateway(mustAddr("10.0.0.254")); err != nil {
			t.Fatal(err)
		}
		want := "10.0.0.0/24 dev u/eth0|0.0.0.0/0 via 10.0.0.254 dev u/eth0"
		if got := strings.Join(g.u.Routes(), "|"); got != want {
			t.Errorf("routes %s, want %s", got, want)
		}
		// b resolves the new address with ARP and reaches it; u reaches d
		// through the router.
		srv := listenUDP(t, g.u, ":53")
		cli := listenUDP(t, g.b, "10.0.0.2:5300")
		sendDatagram(t, cli, "10.0.0.50:53", "query")
		expectDatagram(t, srv, "query", "10.0.0.2:5300")
		dsrv := listenUDP(t, g.d, ":53")
		sendDatagram(t, srv, "10.1.0.1:53", "forwarded")
		expectDatagram(t, dsrv, "forwarded", "10.0.0.50:53")

		if err := g.nu.SetAddr(mustPrefix("10.0.0.60/24")); err != nil {
			t.Fatal(err)
		}
		if got := g.nu.Addr().String(); got != "10.0.0.60" {
			t.Errorf("Addr after renumbering %s", got)
		}
		var cfgErr *ConfigError
		if err := g.nu.SetAddr(netip.Prefix{}); !errors.As(err, &cfgErr) {
			t.Errorf("SetAddr(zero) = %v, want a ConfigError", err)
		}
		if _, err := g.u.AddNIC(g.lan, NICConfig{Unaddressed: true, Addr: mustPrefix("10.0.0.7/24")}); !errors.As(err, &cfgErr) {
			t.Errorf("AddNIC(unaddressed with an address) = %v, want a ConfigError", err)
		}
	})
}

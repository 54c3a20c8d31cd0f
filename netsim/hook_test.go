package netsim

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestHookDrop drops every TCP segment to port 80: a dial there times out
// while other ports and UDP are untouched, and removing the hook heals it.
func TestHookDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		l, _ := p.b.Listen("tcp", ":80")
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		var mu sync.Mutex
		dropped := 0
		remove := p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			if tcpToPort(f.Data, 80) {
				mu.Lock()
				dropped++
				mu.Unlock()
				return Drop
			}
			return Pass
		}))
		ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
		defer cancel()
		_, err := p.a.DialContext(ctx, "tcp", "10.0.0.2:80")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || err.Error() != "dial tcp 10.0.0.2:80: i/o timeout" {
			t.Errorf("dial through a dropping hook: %v, want i/o timeout", err)
		}
		mu.Lock()
		if dropped != 2 { // the SYN at 0 s and its retry at 1 s; the next would be at 3 s
			t.Errorf("hook dropped %d SYNs, want 2", dropped)
		}
		mu.Unlock()
		if _, err := p.a.Dial("tcp", "10.0.0.2:81"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial to another port: %v, want refused (the hook passes it)", err)
		}
		remove()
		remove() // idempotent
		c, err := p.a.Dial("tcp", "10.0.0.2:80")
		if err != nil {
			t.Fatalf("dial after removing the hook: %v", err)
		}
		c.Close()
	})
}

// rewriteTCP returns a copy of frame with every occurrence of old in the
// TCP payload replaced by new (same length), checksums recomputed.
func rewriteTCP(frame, old, new []byte) ([]byte, bool) {
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil || !bytes.Contains(tcp.Payload, old) {
		return frame, false
	}
	data := bytes.ReplaceAll(tcp.Payload, old, new)
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(data)); err != nil {
		panic(err)
	}
	return buf.Bytes(), true
}

// TestHookRewrite changes bytes in flight: with checksums fixed the
// receiver reads the forgery; without, it drops the segment and the stream
// stalls. Taps before the hook (the sender's NIC) see the original, taps
// after it (the segment, the receiver's NIC) the rewrite.
func TestHookRewrite(t *testing.T) {
	for _, fix := range []bool{true, false} {
		name := map[bool]string{true: "checksums fixed", false: "checksums stale"}[fix]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{})
				sent, onWire, received := &recorder{}, &recorder{}, &recorder{}
				p.na.AddTap(sent)
				p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
					out, ok := rewriteTCP(f.Data, []byte("PAY 100"), []byte("PAY 999"))
					if ok && !fix {
						// Keep the original checksums: corrupt in transit.
						pk := decodeTCP(f.Data)
						out = CloneFrame(out)
						copy(out[ethHeaderLen+20+16:], []byte{byte(pk.tcp.Checksum >> 8), byte(pk.tcp.Checksum)})
					}
					f.Data = out
					return Pass
				}))
				p.lan.AddTap(onWire)
				p.nb.AddTap(received)
				c, s := connect(t, p.a, p.b, "80")
				c.Write([]byte("PAY 100 EUR"))
				s.SetReadDeadline(time.Now().Add(time.Second))
				buf := make([]byte, 32)
				n, err := s.Read(buf)
				if fix {
					if err != nil || string(buf[:n]) != "PAY 999 EUR" {
						t.Errorf("receiver read %q, %v; want the rewrite", buf[:n], err)
					}
				} else if !isTimeout(err) {
					t.Errorf("receiver read %q, %v; want nothing (bad checksum dropped)", buf[:n], err)
				}
				has := func(r *recorder, s string) bool {
					for _, pk := range r.tcpPackets() {
						if bytes.Contains(pk.tcp.Payload, []byte(s)) {
							return true
						}
					}
					return false
				}
				if !has(sent, "PAY 100") || has(sent, "PAY 999") {
					t.Error("the sender's NIC tap does not see the original")
				}
				if !has(onWire, "PAY 999") || !has(received, "PAY 999") {
					t.Error("segment and receiver taps do not see the rewrite")
				}
				c.Close()
				s.Close()
			})
		})
	}
}

// TestHookChain: hooks run in the order added, each seeing the previous
// one's rewrite, with Ingress set to the sending NIC; a Drop stops the
// chain; injected frames bypass hooks but reach taps.
func TestHookChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		p.a.SetStaticARP(p.b.Addr(), p.nb.MAC())
		var mu sync.Mutex
		var log []string
		note := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
		udpPayload := func(f []byte) string {
			pk := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
			if u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
				return string(u.Payload)
			}
			return ""
		}
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			pl := udpPayload(f.Data)
			ingress := "<nil>"
			if f.Ingress != nil {
				ingress = f.Ingress.Name()
			}
			note("first " + pl + " from " + ingress)
			if pl == "abc" {
				pk := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
				ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				u := pk.Layer(layers.LayerTypeUDP).(*layers.UDP)
				src, _ := netip.AddrFromSlice(ip.SrcIP)
				dst, _ := netip.AddrFromSlice(ip.DstIP)
				f.Data = udpFrame(t, p.na.MAC(), p.nb.MAC(), netip.AddrPortFrom(src, uint16(u.SrcPort)), netip.AddrPortFrom(dst, uint16(u.DstPort)), []byte("xyz"))
			}
			return dropIf(pl == "drop")
		}))
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			note("second " + udpPayload(f.Data))
			return Pass
		}))
		tap := &recorder{}
		p.lan.AddTap(tap)
		pc, _ := p.b.ListenPacket("udp", ":9")
		defer pc.Close()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		c.Write([]byte("abc"))
		c.Write([]byte("drop"))
		p.lan.Inject(udpFrame(t, evilMAC, p.nb.MAC(), netip.MustParseAddrPort("10.0.0.77:5353"), netip.MustParseAddrPort("10.0.0.2:9"), []byte("injected")))
		synctest.Wait()
		mu.Lock()
		want := []string{"first abc from a/eth0", "second xyz", "first drop from a/eth0"}
		if !slices.Equal(log, want) {
			t.Errorf("hooks ran %q, want %q", log, want)
		}
		mu.Unlock()
		var got []string
		pc.SetReadDeadline(time.Now().Add(time.Second))
		for {
			buf := make([]byte, 16)
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			got = append(got, string(buf[:n])+" from "+from.String())
		}
		if want := []string{"xyz from " + c.LocalAddr().String(), "injected from 10.0.0.77:5353"}; !slices.Equal(got, want) {
			t.Errorf("b received %q, want %q", got, want)
		}
		var tapped []string
		for _, f := range tap.snapshot() {
			tapped = append(tapped, udpPayload(f))
		}
		if want := []string{"xyz", "injected"}; !slices.Equal(tapped, want) {
			t.Errorf("segment tap saw %q, want %q (after hooks, injected included)", tapped, want)
		}
	})
}

// TestHookInjectsForgedAnswer is the classic on-path race: a hook that
// sees a query injects a forged answer, which arrives before the real one.
func TestHookInjectsForgedAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{nb: NICConfig{Addr: mustPrefix("10.0.0.53/24"), Latency: time.Millisecond}})
		srv, _ := p.b.ListenPacket("udp", ":53")
		defer srv.Close()
		go func() {
			buf := make([]byte, 64)
			for {
				n, from, err := srv.ReadFrom(buf)
				if err != nil {
					return
				}
				srv.WriteTo(append([]byte("real "), buf[:n]...), from)
			}
		}()
		p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			pk := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
			u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok || u.DstPort != 53 {
				return Pass
			}
			ip := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			eth := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
			client, _ := netip.AddrFromSlice(ip.SrcIP)
			p.lan.Inject(udpFrame(t, eth.DstMAC, eth.SrcMAC, netip.MustParseAddrPort("10.0.0.53:53"),
				netip.AddrPortFrom(client, uint16(u.SrcPort)), append([]byte("forged "), u.Payload...)))
			return Pass
		}))
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.53:53")
		defer c.Close()
		c.Write([]byte("q1"))
		var got []string
		buf := make([]byte, 64)
		for range 2 {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(buf[:n]))
		}
		if want := []string{"forged q1", "real q1"}; !slices.Equal(got, want) {
			t.Errorf("client read %q, want %q", got, want)
		}
	})
}

// TestHookDelay holds UDP datagrams back as a switch's queue would: the
// segment's tap sees each when it was sent, the receiver reads it Delay
// later, and other frames pass at once.
func TestHookDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		const hold = 30 * time.Millisecond
		defer p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
			if isUDPFrame(f.Data) {
				f.Delay = hold
			}
			return Pass
		}))()
		var mu sync.Mutex
		var seen []time.Time
		defer p.lan.AddTap(TapFunc(func(ts time.Time, frame []byte) {
			if isUDPFrame(frame) {
				mu.Lock()
				seen = append(seen, ts)
				mu.Unlock()
			}
		}))()
		pc, err := p.b.ListenPacket("udp", ":9")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		c, err := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sent := time.Now()
		if _, err := c.Write([]byte("held")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		n, _, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "held" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		if got := time.Since(sent); got != hold {
			t.Errorf("datagram arrived after %v, want %v", got, hold)
		}
		mu.Lock()
		if len(seen) != 1 || !seen[0].Equal(sent) {
			t.Errorf("tap saw the datagram at %v, want once at %v", seen, sent)
		}
		mu.Unlock()
		start := time.Now()
		conn, err := p.a.DialContext(t.Context(), "tcp", "10.0.0.2:1")
		if err == nil {
			conn.Close()
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("a TCP dial took %v through the hook, want no delay", d)
		}
	})
}

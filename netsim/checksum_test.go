package netsim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// refChecksum is RFC 1071's reference algorithm, byte pair by byte pair,
// kept deliberately naive so it shares nothing with onesSum.
func refChecksum(chunks ...[]byte) uint16 {
	var b []byte
	for _, c := range chunks {
		b = append(b, c...)
	}
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// pseudoHeader is the IPv4 pseudo-header TCP and UDP checksums cover.
func pseudoHeader(ip *layers.IPv4, length int) []byte {
	h := make([]byte, 12)
	copy(h[0:4], ip.SrcIP.To4())
	copy(h[4:8], ip.DstIP.To4())
	h[9] = uint8(ip.Protocol)
	binary.BigEndian.PutUint16(h[10:], uint16(length))
	return h
}

// verifyChecksums checks an Ethernet frame's IPv4, TCP and UDP checksums
// twice: gopacket decodes the frame and re-serializes each layer with
// ComputeChecksums, and the reference algorithm verifies the bytes as sent.
func verifyChecksums(frame []byte) error {
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		return fmt.Errorf("malformed: %v", el.Error())
	}
	ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ok {
		return nil // ARP
	}
	if len(frame) < 60 {
		return fmt.Errorf("frame of %d bytes is shorter than Ethernet's 60-byte minimum", len(frame))
	}
	if refChecksum(ip.Contents) != 0 {
		return fmt.Errorf("IPv4 header checksum %#04x does not verify", ip.Checksum)
	}
	ipCopy := *ip
	buf := gopacket.NewSerializeBuffer()
	if err := ipCopy.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
		return err
	}
	if ipCopy.Checksum != ip.Checksum {
		return fmt.Errorf("IPv4 checksum %#04x, gopacket computes %#04x", ip.Checksum, ipCopy.Checksum)
	}
	segment := ip.Payload // the transport segment, without Ethernet padding
	if int(ip.Length) != len(ip.Contents)+len(segment) {
		return fmt.Errorf("IPv4 length %d, header+payload %d", ip.Length, len(ip.Contents)+len(segment))
	}
	var (
		got, recomputed uint16
		name            string
	)
	switch tl := pkt.TransportLayer().(type) {
	case *layers.TCP:
		name, got = "TCP", tl.Checksum
		c := *tl
		c.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &c, gopacket.Payload(tl.Payload)); err != nil {
			return err
		}
		if !bytes.Equal(zeroChecksum(buf.Bytes(), 16), zeroChecksum(segment, 16)) {
			return fmt.Errorf("TCP segment does not survive a gopacket round trip")
		}
		recomputed = c.Checksum
	case *layers.UDP:
		name, got = "UDP", tl.Checksum
		if got == 0 {
			return fmt.Errorf("UDP datagram sent without a checksum")
		}
		c := *tl
		c.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, &c, gopacket.Payload(tl.Payload)); err != nil {
			return err
		}
		recomputed = c.Checksum
	default:
		return fmt.Errorf("IPv4 packet without TCP or UDP")
	}
	if got != recomputed {
		return fmt.Errorf("%s checksum %#04x, gopacket computes %#04x", name, got, recomputed)
	}
	if refChecksum(pseudoHeader(ip, len(segment)), segment) != 0 {
		return fmt.Errorf("%s checksum %#04x does not verify with the reference algorithm", name, got)
	}
	return nil
}

func zeroChecksum(seg []byte, off int) []byte {
	c := bytes.Clone(seg)
	c[off], c[off+1] = 0, 0
	return c
}

// TestChecksumsOnWire verifies every frame netsim builds or rewrites: TCP
// in both directions (handshake, data of odd lengths, ACKs, FIN, RST), UDP
// datagrams of every small size including empty, frames a router forwarded
// (TTL rewritten), and jumbo segments.
func TestChecksumsOnWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newRouted(t, SegmentConfig{MTU: 9000}, SegmentConfig{})
		lan2 := n.w.NewSegment("jumbo", SegmentConfig{MTU: 9000})
		j1, _ := addHost(t, n.w, lan2, "j1", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.9.1/24")})
		j2, _ := addHost(t, n.w, lan2, "j2", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.9.2/24")})
		var taps []*recorder
		for _, seg := range []*Segment{n.left, n.right, lan2} {
			r := &recorder{}
			seg.AddTap(r)
			taps = append(taps, r)
		}
		// TCP across the router and on the jumbo segment.
		for _, ends := range [][2]*Host{{n.client, n.server}, {j1, j2}} {
			c, s := connect(t, ends[0], ends[1], "80")
			var wg sync.WaitGroup
			wg.Go(func() { transferSide(t, c, 1, 100_003) })
			wg.Go(func() { transferSide(t, s, 2, 77_777) })
			wg.Wait()
		}
		// A RST from a closed port, and one from an abort.
		if _, err := n.client.Dial("tcp", "10.0.2.20:1"); err == nil {
			t.Fatal("dial to a closed port succeeded")
		}
		c, s := connect(t, j1, j2, "81")
		c.Write([]byte("unread"))
		synctest.Wait()
		s.Close()
		c.Close()
		// UDP of sizes 0..300 both ways across the router.
		pc, _ := n.server.ListenPacket("udp", ":7")
		defer pc.Close()
		uc, _ := n.client.DialContext(t.Context(), "udp", "10.0.2.20:7")
		defer uc.Close()
		for size := range 301 {
			uc.Write(payload(uint64(size), size))
			synctest.Wait()
			buf := make([]byte, 400)
			m, from, err := pc.ReadFrom(buf)
			if err != nil || m != size || !bytes.Equal(buf[:m], payload(uint64(size), size)) {
				t.Fatalf("datagram of %d bytes arrived as %d bytes, %v", size, m, err)
			}
			pc.WriteTo(buf[:m], from)
		}
		synctest.Wait()

		total := 0
		for i, r := range taps {
			for j, f := range r.snapshot() {
				total++
				if err := verifyChecksums(f); err != nil {
					t.Errorf("segment %d frame %d: %v\n%s", i, j, err, gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default))
					return
				}
			}
		}
		if total < 1000 {
			t.Errorf("verified only %d frames", total)
		}
	})
}

// TestOnesSum compares the optimized checksum accumulator with the
// reference algorithm on random data of every length up to 300 bytes, at
// every alignment, on full-size segments, on chained sums and on the edge
// values where end-around carry matters.
func TestOnesSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 70000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	check := func(name string, b []byte) {
		t.Helper()
		if got, want := internetChecksum(onesSum(0, b)), refChecksum(b); got != want {
			t.Fatalf("%s (len %d): onesSum gives %#04x, reference %#04x", name, len(b), got, want)
		}
	}
	for n := range 301 {
		for off := range 8 {
			check(fmt.Sprintf("random at offset %d", off), buf[off:off+n])
		}
	}
	for _, n := range []int{1460, 1480, 8960, 65515, 65535} {
		check("random", buf[3:3+n])
	}
	for _, fill := range []byte{0x00, 0xff, 0x80, 0x01} {
		for _, n := range []int{1, 2, 7, 8, 31, 32, 33, 64, 1500, 65535} {
			check(fmt.Sprintf("all %#02x", fill), bytes.Repeat([]byte{fill}, n))
		}
	}
	// Chaining: an even-length prefix then the rest, with a pseudo-header.
	for range 200 {
		n := r.IntN(3000)
		split := r.IntN(n+1) &^ 1
		b := buf[:n]
		src, dst := []byte{10, 0, 0, 1}, []byte{192, 168, 255, 254}
		sum := pseudoHeaderSum(src, dst, 6, n)
		got := internetChecksum(onesSum(onesSum(sum, b[:split]), b[split:]))
		ph := append(append(append([]byte{}, src...), dst...), 0, 6, byte(n>>8), byte(n))
		if want := refChecksum(ph, b); got != want {
			t.Fatalf("chained sum over %d bytes split at %d: %#04x, want %#04x", n, split, got, want)
		}
	}
}

// TestReceiverDropsBadChecksums corrupts frames on the wire with a hook and
// checks the receiver drops them unless the checksum is fixed (or, for UDP,
// absent).
func TestReceiverDropsBadChecksums(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(f []byte) // f is a UDP frame with a 4-byte payload at 42
		deliver bool
	}{
		{"intact", func([]byte) {}, true},
		{"payload flipped", func(f []byte) { f[42] ^= 0xff }, false},
		{"UDP checksum off by one", func(f []byte) { f[41]++ }, false},
		{"IPv4 header checksum off by one", func(f []byte) { f[25]++ }, false},
		{"IPv4 TTL changed", func(f []byte) { f[22]-- }, false},
		{"payload flipped, UDP checksum zeroed (none)", func(f []byte) { f[42] ^= 0xff; f[40], f[41] = 0, 0 }, true},
		{"payload rewritten, checksum fixed", func(f []byte) { f[42] ^= 0xff; fixUDPChecksum(f) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPair(t, pairConfig{})
				p.lan.AddHook(HookFunc(func(f *Frame) HookAction {
					if isUDPFrame(f.Data) {
						f.Data = CloneFrame(f.Data)
						tt.corrupt(f.Data)
					}
					return Pass
				}))
				pc, _ := p.b.ListenPacket("udp", ":9")
				defer pc.Close()
				uc, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
				defer uc.Close()
				uc.Write([]byte("data"))
				pc.SetReadDeadline(time.Now().Add(time.Second))
				_, _, err := pc.ReadFrom(make([]byte, 8))
				if got := err == nil; got != tt.deliver {
					t.Errorf("delivered = %v (%v), want %v", got, err, tt.deliver)
				}
			})
		})
	}
}

// fixUDPChecksum recomputes the UDP checksum of an Ethernet/IPv4/UDP frame
// with a 20-byte IPv4 header.
func fixUDPChecksum(f []byte) {
	ipLen := int(binary.BigEndian.Uint16(f[16:18]))
	seg := f[34 : 14+ipLen]
	seg[6], seg[7] = 0, 0
	ph := make([]byte, 12)
	copy(ph, f[26:34])
	ph[9] = 17
	binary.BigEndian.PutUint16(ph[10:], uint16(len(seg)))
	binary.BigEndian.PutUint16(seg[6:], refChecksum(ph, seg))
}

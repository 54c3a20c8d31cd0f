package netsim

import (
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// testBacklog is the listen backlog the backlog tests configure, small
// enough to fill quickly.
const testBacklog = 128

// TestHalfOpenHandshakesExpire: SYNs whose SYN-ACKs are never answered (a
// spoofed flood) hold backlog slots only until the SYN-ACK retransmissions
// give up, after 1+2+4+8+16 = 31 s; then the listener accepts again.
func TestHalfOpenHandshakesExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{hb: HostConfig{ListenBacklog: testBacklog}})
		ln, err := p.b.Listen("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		l := ln.(*tcpListener)
		spoofMAC := net.HardwareAddr{0x02, 0xde, 0xad, 0, 0, 1}
		for i := range testBacklog {
			src := netip.AddrFrom4([4]byte{10, 0, 0, byte(100 + i%100)})
			p.b.SetStaticARP(src, spoofMAC) // SYN-ACKs go to a MAC nobody has
			ip := ipv4Header{srcMAC: spoofMAC, dstMAC: p.nb.MAC(), src: src, dst: p.b.Addr()}
			hdr := tcpHeader{srcPort: uint16(40000 + i), dstPort: 80, seq: uint32(i), flags: flagSYN, window: 65535, mss: 1460, wscale: -1}
			var enc frameEncoder
			p.lan.Inject(enc.encodeTCP(nil, &ip, &hdr, nil))
		}
		synctest.Wait()
		pending := func() int {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.pending
		}
		if got := pending(); got != testBacklog {
			t.Fatalf("after the flood: %d half-open handshakes, want %d", got, testBacklog)
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := pending(); got != testBacklog {
			t.Fatalf("at 30 s: %d half-open handshakes, want %d (still retrying)", got, testBacklog)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := pending(); got != 0 {
			t.Fatalf("at 32 s: %d half-open handshakes, want 0", got)
		}
		accepted := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Close()
			}
			accepted <- err
		}()
		c, err := p.a.Dial("tcp", "10.0.0.2:80")
		if err != nil {
			t.Fatalf("dial after the half-open handshakes expired: %v", err)
		}
		c.Close()
		if err := <-accepted; err != nil {
			t.Fatal(err)
		}
	})
}

// A host's listen backlog is DefaultListenBacklog (Linux's 4096) unless
// its config sets one.
func TestListenBacklogConfig(t *testing.T) {
	p := newPair(t, pairConfig{hb: HostConfig{ListenBacklog: 7}})
	for _, tt := range []struct {
		h    *Host
		want int
	}{{p.a, DefaultListenBacklog}, {p.b, 7}} {
		ln, err := tt.h.Listen("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		if got := ln.(*tcpListener).backlog; got != tt.want {
			t.Errorf("%s: backlog %d, want %d", tt.h.Name(), got, tt.want)
		}
		ln.Close()
	}
}

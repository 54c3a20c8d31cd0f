package netsim

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestUDPExchange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		srv, err := p.b.ListenPacket("udp", ":53")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if got := srv.LocalAddr().String(); got != "0.0.0.0:53" {
			t.Errorf("LocalAddr %s", got)
		}
		cli, err := p.a.ListenPacket("udp4", "10.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		if _, err := cli.WriteTo([]byte("query"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 53}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, from, err := srv.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "query" || from.String() != cli.LocalAddr().String() {
			t.Fatalf("server ReadFrom = %q from %v, %v; want query from %v", buf[:n], from, err, cli.LocalAddr())
		}
		if _, ok := from.(*net.UDPAddr); !ok {
			t.Errorf("ReadFrom address is %T, want *net.UDPAddr", from)
		}
		srv.WriteTo([]byte("answer"), from)
		n, from, err = cli.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "answer" || from.String() != "10.0.0.2:53" {
			t.Fatalf("client ReadFrom = %q from %v, %v", buf[:n], from, err)
		}
		// A short buffer truncates the datagram; the rest is gone.
		srv.WriteTo([]byte("0123456789"), cli.LocalAddr())
		srv.WriteTo([]byte("next"), cli.LocalAddr())
		small := make([]byte, 4)
		if n, _, _ := cli.ReadFrom(small); string(small[:n]) != "0123" {
			t.Errorf("truncated read %q", small[:n])
		}
		if n, _, _ := cli.ReadFrom(buf); string(buf[:n]) != "next" {
			t.Errorf("read after truncation %q, want the next datagram", buf[:n])
		}
	})
}

func TestUDPConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		_, nc := addHost(t, p.w, p.lan, "c", HostConfig{}, NICConfig{Addr: mustPrefix("10.0.0.3/24")})
		srv, _ := p.b.ListenPacket("udp", ":53")
		defer srv.Close()
		c, err := p.a.DialContext(t.Context(), "udp", "10.0.0.2:53")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.RemoteAddr().String() != "10.0.0.2:53" || c.LocalAddr().(*net.UDPAddr).IP.String() != "10.0.0.1" {
			t.Errorf("connected socket %v -> %v", c.LocalAddr(), c.RemoteAddr())
		}
		c.Write([]byte("ping"))
		buf := make([]byte, 16)
		_, from, _ := srv.ReadFrom(buf)
		// A datagram from another host to the connected socket's port is
		// filtered; the peer's reply gets through.
		other := nc.Host()
		spoof, _ := other.ListenPacket("udp", ":53")
		defer spoof.Close()
		spoof.WriteTo([]byte("spoofed"), from)
		srv.WriteTo([]byte("pong"), from)
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "pong" {
			t.Fatalf("connected Read = %q, %v; want pong only", buf[:n], err)
		}
		if _, err := c.Read(buf); !isTimeout(err) {
			t.Errorf("second Read: %v, want timeout (the spoofed datagram is filtered)", err)
		}
	})
}

func TestUDPErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{seg: SegmentConfig{MTU: 1000}})
		pc, _ := p.a.ListenPacket("udp", ":5000")
		dst := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 9}
		tests := []struct {
			name string
			f    func() error
			is   error
			msg  string
		}{{
			name: "port in use",
			f:    func() error { _, err := p.a.ListenPacket("udp", ":5000"); return err },
			is:   syscall.EADDRINUSE, msg: "listen udp :5000: bind: address already in use",
		}, {
			name: "foreign address",
			f:    func() error { _, err := p.a.ListenPacket("udp", "10.0.0.2:0"); return err },
			is:   syscall.EADDRNOTAVAIL, msg: "listen udp 10.0.0.2:0: bind: cannot assign requested address",
		}, {
			name: "datagram larger than the MTU",
			f:    func() error { _, err := pc.WriteTo(make([]byte, 1000-28+1), dst); return err },
			is:   syscall.EMSGSIZE, msg: "write udp 0.0.0.0:5000: sendto: message too long",
		}, {
			name: "largest datagram fits",
			f:    func() error { _, err := pc.WriteTo(make([]byte, 1000-28), dst); return err },
		}, {
			name: "Write on an unconnected socket",
			f:    func() error { _, err := pc.(*udpConn).Write([]byte("x")); return err },
			is:   syscall.EDESTADDRREQ, msg: "write udp 0.0.0.0:5000: write: destination address required",
		}, {
			name: "WriteTo a non-UDP address",
			f:    func() error { _, err := pc.WriteTo([]byte("x"), &net.TCPAddr{}); return err },
			msg:  "write udp 0.0.0.0:5000: address :0: not a *net.UDPAddr",
		}, {
			name: "write deadline in the past",
			f: func() error {
				pc.SetWriteDeadline(time.Now().Add(-time.Second))
				defer pc.SetWriteDeadline(time.Time{})
				_, err := pc.WriteTo([]byte("x"), dst)
				return err
			},
			is: syscall.ETIMEDOUT, msg: "write udp 0.0.0.0:5000: i/o timeout",
		}, {
			name: "read deadline",
			f: func() error {
				start := time.Now()
				pc.SetReadDeadline(start.Add(250 * time.Millisecond))
				defer pc.SetReadDeadline(time.Time{})
				_, _, err := pc.ReadFrom(make([]byte, 1))
				if d := time.Since(start); d != 250*time.Millisecond {
					return fmt.Errorf("timed out after %v", d)
				}
				return err
			},
			msg: "read udp 0.0.0.0:5000: i/o timeout",
		}}
		for _, tt := range tests {
			err := tt.f()
			if tt.msg == "" {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
				continue
			}
			if err == nil || err.Error() != tt.msg {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.msg)
			}
			if tt.is == syscall.ETIMEDOUT {
				if !isTimeout(err) {
					t.Errorf("%s: %v is not a timeout", tt.name, err)
				}
			} else if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%s: errors.Is(%v, %v) = false", tt.name, err, tt.is)
			}
		}
		// Close wakes a blocked ReadFrom; later calls fail with ErrClosed.
		errc := make(chan error)
		go func() { _, _, err := pc.ReadFrom(make([]byte, 1)); errc <- err }()
		synctest.Wait()
		pc.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom blocked across Close: %v", err)
		}
		if _, err := pc.WriteTo([]byte("x"), dst); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteTo after Close: %v", err)
		}
		if err := pc.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
		// The port can be bound again.
		pc2, err := p.a.ListenPacket("udp", ":5000")
		if err != nil {
			t.Fatalf("rebinding a closed port: %v", err)
		}
		pc2.Close()
	})
}

// TestUDPReceiveQueueBounded sends more datagrams than a socket queues: the
// excess is dropped, as a full socket buffer drops it, and memory stays
// bounded.
func TestUDPReceiveQueueBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{seg: SegmentConfig{MTU: 9000}})
		srv, _ := p.b.ListenPacket("udp", ":9")
		defer srv.Close()
		c, _ := p.a.DialContext(t.Context(), "udp", "10.0.0.2:9")
		defer c.Close()
		// Resolve ARP first: packets waiting for it have a limit of their own.
		c.Write(nil)
		if _, _, err := srv.ReadFrom(nil); err != nil {
			t.Fatal(err)
		}
		for i := range udpQueueDatagrams + 100 {
			if _, err := c.Write([]byte{byte(i), byte(i >> 8)}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		srv.SetReadDeadline(time.Now().Add(time.Second))
		got := 0
		buf := make([]byte, 4)
		for {
			n, _, err := srv.ReadFrom(buf)
			if err != nil {
				break
			}
			if n != 2 || int(buf[0])|int(buf[1])<<8 != got {
				t.Fatalf("datagram %d carries %v", got, buf[:n])
			}
			got++
		}
		if got != udpQueueDatagrams {
			t.Errorf("received %d datagrams, want the first %d", got, udpQueueDatagrams)
		}
		// Large datagrams hit the byte limit first.
		big := make([]byte, 9000-28)
		for range udpQueueBytes/len(big) + 50 {
			c.Write(big)
		}
		synctest.Wait()
		u := srv.(*udpConn)
		u.mu.Lock()
		queued, count := u.queued, len(u.queue)
		u.mu.Unlock()
		if queued > udpQueueBytes || count != udpQueueBytes/len(big) {
			t.Errorf("socket holds %d datagrams, %d bytes; want %d datagrams within %d bytes", count, queued, udpQueueBytes/len(big), udpQueueBytes)
		}
	})
}

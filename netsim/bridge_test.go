package netsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bridgeRig puts bridges between a client and a server: start serves
// handle on each connection the server accepts and returns a dial function
// for the client. Every rig uses a pair: host a (10.0.0.1) and host b
// (10.0.0.2).
type bridgeRig struct {
	name  string
	start func(t *testing.T, p *pair, handle func(net.Conn)) (dial func(t *testing.T) net.Conn)
}

var bridgeRigs = []bridgeRig{
	{"in", func(t *testing.T, p *pair, handle func(net.Conn)) func(*testing.T) net.Conn {
		// real client -> BridgeIn on a -> server on b
		serveConns(t, listenWorld(t, p.b, ":7"), handle)
		in := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.2:7"))
		return func(t *testing.T) net.Conn { return dialReal(t, in.Addr().String()) }
	}},
	{"out", func(t *testing.T, p *pair, handle func(net.Conn)) func(*testing.T) net.Conn {
		// client on a -> BridgeOut on b -> real server
		srv := listenReal(t, "127.0.0.1:0")
		serveConns(t, srv, handle)
		bridgeOut(t, p.b, 443, srv.Addr().String())
		return func(t *testing.T) net.Conn { return dialWorld(t, p.a, "10.0.0.2:443") }
	}},
	{"chain", func(t *testing.T, p *pair, handle func(net.Conn)) func(*testing.T) net.Conn {
		// real client -> BridgeIn on a -> BridgeOut on b -> real server
		srv := listenReal(t, "127.0.0.1:0")
		serveConns(t, srv, handle)
		bridgeOut(t, p.b, 443, srv.Addr().String())
		in := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.2:443"))
		return func(t *testing.T) net.Conn { return dialReal(t, in.Addr().String()) }
	}},
}

func bridgeIn(t *testing.T, h *Host, listen string, dst netip.AddrPort) *Bridge {
	t.Helper()
	b, err := h.BridgeIn(listen, dst)
	if err != nil {
		t.Fatalf("BridgeIn(%s, %s): %v", listen, dst, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func bridgeOut(t *testing.T, h *Host, port uint16, dst string) *Bridge {
	t.Helper()
	b, err := h.BridgeOut(port, dst)
	if err != nil {
		t.Fatalf("BridgeOut(%d, %s): %v", port, dst, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func listenWorld(t *testing.T, h *Host, address string) net.Listener {
	t.Helper()
	l, err := h.Listen("tcp", address)
	if err != nil {
		t.Fatalf("Listen %s: %v", address, err)
	}
	return l
}

func listenReal(t *testing.T, address string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatalf("net.Listen %s: %v", address, err)
	}
	return l
}

func dialReal(t *testing.T, address string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatalf("net.Dial %s: %v", address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialWorld(t *testing.T, h *Host, address string) net.Conn {
	t.Helper()
	c, err := h.DialContext(t.Context(), "tcp", address)
	if err != nil {
		t.Fatalf("Dial %s: %v", address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serveConns runs handle on each connection ln accepts and closes the
// connection when handle returns. Cleanup closes ln and waits for the
// handlers.
func serveConns(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
}

// echo sends back everything it reads, then closes.
func echo(c net.Conn) { io.Copy(c, c) }

// checkEcho sends n bytes on c and half-closes it, and checks that exactly
// those bytes come back before EOF.
func checkEcho(t *testing.T, c net.Conn, seed uint64, n int) {
	t.Helper()
	data := payload(seed, n)
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = closeWrite(c)
		}
		sent <- err
	}()
	got, sum, err := readAllHash(c)
	if err != nil {
		t.Errorf("reading the echo: %v", err)
	}
	if got != int64(n) || sum != sha256sum(data) {
		t.Errorf("echo: %d bytes back (of %d), equal: %v", got, n, sum == sha256sum(data))
	}
	if err := <-sent; err != nil {
		t.Errorf("sending: %v", err)
	}
}

// blockedBridgeGoroutines counts the goroutines running a Bridge's code
// that are blocked (in I/O, on a channel or lock, asleep). A goroutine that
// has signalled it is done may still be returning, runnable; one that is
// blocked is still at work. TestMain's goleak check sees any that never
// end.
func blockedBridgeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		if strings.Contains(lines[0], "[running]") || strings.Contains(lines[0], "[runnable]") {
			continue
		}
		for _, line := range lines[1:] {
			if !strings.HasPrefix(line, "created by ") && (strings.Contains(line, "netsim.(*Bridge)") || strings.Contains(line, "netsim.(*relay)")) {
				count++
				break
			}
		}
	}
	return count
}

// TestBridgeEcho sends 1 MiB on each of four connections at once to an
// echo server across each rig's bridges and gets exactly the bytes back.
func TestBridgeEcho(t *testing.T) {
	for _, rig := range bridgeRigs {
		t.Run(rig.name, func(t *testing.T) {
			p := newPair(t, pairConfig{})
			dial := rig.start(t, p, echo)
			var wg sync.WaitGroup
			for i := range 4 {
				c := dial(t)
				wg.Go(func() { checkEcho(t, c, uint64(i+1), 1<<20) })
			}
			wg.Wait()
		})
	}
}

// TestBridgeInCarriesFromHost checks that a connection BridgeIn carries
// reaches the server from the bridge's host, and that IPv6 loopback works
// as a listening address.
func TestBridgeInCarriesFromHost(t *testing.T) {
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	p := newPair(t, pairConfig{})
	remotes := make(chan net.Addr, 1)
	serveConns(t, listenWorld(t, p.b, ":7"), func(c net.Conn) {
		remotes <- c.RemoteAddr()
		echo(c)
	})
	in := bridgeIn(t, p.a, "[::1]:0", addrPort("10.0.0.2:7"))
	if a := in.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv6loopback) || a.Port == 0 {
		t.Errorf("Addr() = %v, want [::1] with a port", a)
	}
	c := dialReal(t, in.Addr().String())
	checkEcho(t, c, 1, 1000)
	if ra := (<-remotes).(*net.TCPAddr); !ra.IP.Equal(net.IPv4(10, 0, 0, 1)) {
		t.Errorf("the server saw the connection come from %v, want host a (10.0.0.1)", ra)
	}
}

// TestBridgeHalfClose half-closes one direction across each rig's bridges
// and checks the other still carries data: a FIN is passed on as a FIN.
func TestBridgeHalfClose(t *testing.T) {
	for _, rig := range bridgeRigs {
		t.Run(rig.name+"/client first", func(t *testing.T) {
			p := newPair(t, pairConfig{})
			heard := make(chan string, 1)
			dial := rig.start(t, p, func(c net.Conn) {
				q, err := io.ReadAll(c) // to the client's FIN
				if err != nil {
					t.Errorf("server reading the question: %v", err)
				}
				heard <- string(q)
				if _, err := c.Write([]byte("answer to " + string(q))); err != nil {
					t.Errorf("server answering after the client's FIN: %v", err)
				}
			})
			c := dial(t)
			if _, err := c.Write([]byte("question")); err != nil {
				t.Fatal(err)
			}
			if err := closeWrite(c); err != nil {
				t.Fatal(err)
			}
			a, err := io.ReadAll(c)
			if err != nil || string(a) != "answer to question" {
				t.Errorf("client read %q, %v; want \"answer to question\" and EOF", a, err)
			}
			if q := <-heard; q != "question" {
				t.Errorf("server read %q, want \"question\"", q)
			}
		})
		t.Run(rig.name+"/server first", func(t *testing.T) {
			p := newPair(t, pairConfig{})
			heard := make(chan string, 1)
			dial := rig.start(t, p, func(c net.Conn) {
				if _, err := c.Write([]byte("greeting")); err != nil {
					t.Errorf("server greeting: %v", err)
				}
				if err := closeWrite(c); err != nil {
					t.Errorf("server CloseWrite: %v", err)
				}
				r, err := io.ReadAll(c)
				if err != nil {
					t.Errorf("server reading the reply after its FIN: %v", err)
				}
				heard <- string(r)
			})
			c := dial(t)
			g, err := io.ReadAll(c) // to the server's FIN
			if err != nil || string(g) != "greeting" {
				t.Errorf("client read %q, %v; want \"greeting\" and EOF", g, err)
			}
			if _, err := c.Write([]byte("reply to " + string(g))); err != nil {
				t.Fatalf("client replying after the server's FIN: %v", err)
			}
			if err := closeWrite(c); err != nil {
				t.Fatal(err)
			}
			if r := <-heard; r != "reply to greeting" {
				t.Errorf("server read %q, want \"reply to greeting\"", r)
			}
		})
	}
}

// TestBridgeReset resets one end of a connection across each rig's
// bridges; the other end's Read fails with syscall.ECONNRESET, on the real
// side as in the World.
func TestBridgeReset(t *testing.T) {
	for _, rig := range bridgeRigs {
		for _, serverResets := range []bool{false, true} {
			name := rig.name + "/client resets"
			if serverResets {
				name = rig.name + "/server resets"
			}
			t.Run(name, func(t *testing.T) {
				p := newPair(t, pairConfig{})
				ready := make(chan struct{})
				serverErr := make(chan error, 1)
				dial := rig.start(t, p, func(c net.Conn) {
					if _, err := io.ReadFull(c, make([]byte, 5)); err != nil {
						t.Errorf("server reading hello: %v", err)
					}
					if serverResets {
						resetConn(c)
						return
					}
					close(ready)
					_, err := c.Read(make([]byte, 1))
					serverErr <- err
				})
				c := dial(t)
				if _, err := c.Write([]byte("hello")); err != nil {
					t.Fatal(err)
				}
				if serverResets {
					if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
						t.Errorf("client Read after the server's reset: %v, want connection reset", err)
					}
					return
				}
				<-ready
				resetConn(c)
				if err := <-serverErr; !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("server Read after the client's reset: %v, want connection reset", err)
				}
			})
		}
	}
}

// TestBridgeRefusesNonLoopback checks that every real address but a
// literal loopback IP and port is refused, with an error that says what
// and why, before a socket is opened.
func TestBridgeRefusesNonLoopback(t *testing.T) {
	const why = "bridges use 127.0.0.0/8 and ::1 only, so that nothing beyond this machine reaches the simulated network or is reached from it"
	p := newPair(t, pairConfig{})
	for _, tt := range []struct {
		op, addr, want string
	}{
		{"listen", "0.0.0.0:0", "netsim: bridge listen 0.0.0.0:0: 0.0.0.0 is not a loopback address, and " + why},
		{"listen", "[::]:8443", "netsim: bridge listen [::]:8443: :: is not a loopback address, and " + why},
		{"listen", "192.168.1.10:8443", "netsim: bridge listen 192.168.1.10:8443: 192.168.1.10 is not a loopback address, and " + why},
		{"listen", "localhost:0", `netsim: bridge listen localhost:0: "localhost" is not an IP address (bridges resolve no names), and ` + why},
		{"listen", ":8443", "netsim: bridge listen :8443: an address without an IP means every interface, and " + why},
		{"listen", "127.0.0.1", "netsim: bridge listen 127.0.0.1: want ip:port (missing port in address)"},
		{"listen", "127.0.0.1:https", `netsim: bridge listen 127.0.0.1:https: port "https" is not a number from 0 to 65535`},
		{"dial", "10.0.0.5:443", "netsim: bridge dial 10.0.0.5:443: 10.0.0.5 is not a loopback address, and " + why},
		{"dial", "[2001:db8::1]:443", "netsim: bridge dial [2001:db8::1]:443: 2001:db8::1 is not a loopback address, and " + why},
		{"dial", "[::ffff:8.8.8.8]:53", "netsim: bridge dial [::ffff:8.8.8.8]:53: 8.8.8.8 is not a loopback address, and " + why},
		{"dial", "example.com:443", `netsim: bridge dial example.com:443: "example.com" is not an IP address (bridges resolve no names), and ` + why},
		{"dial", "127.0.0.1:0", "netsim: bridge dial 127.0.0.1:0: port 0 cannot be dialled"},
	} {
		var err error
		if tt.op == "listen" {
			_, err = p.a.BridgeIn(tt.addr, addrPort("10.0.0.2:7"))
		} else {
			_, err = p.a.BridgeOut(7, tt.addr)
		}
		var ae *BridgeAddrError
		if !errors.As(err, &ae) || err.Error() != tt.want {
			t.Errorf("%s %s: %v, want a *BridgeAddrError %q", tt.op, tt.addr, err, tt.want)
		}
	}
	// The refused BridgeOuts opened nothing in the World either.
	l := listenWorld(t, p.a, ":7")
	l.Close()
	if _, err := p.a.BridgeIn("127.0.0.1:0", addrPort("[::1]:7")); err == nil || err.Error() != `netsim: bridge into host a: destination "[::1]:7" is not an IPv4 address and port` {
		t.Errorf("BridgeIn to an IPv6 destination: %v", err)
	}
	if blockedBridgeGoroutines() != 0 {
		t.Errorf("%d blocked bridge goroutines after refusals", blockedBridgeGoroutines())
	}
}

// TestBridgeClose closes bridges that carry open connections and one whose
// dial into the World is still waiting: every peer's Read fails with a
// reset, the listener is gone, and no goroutine of the bridges is left when
// Close returns.
func TestBridgeClose(t *testing.T) {
	p := newPair(t, pairConfig{})
	serverErrs := make(chan error, 3)
	serveConns(t, listenWorld(t, p.b, ":7"), func(c net.Conn) {
		_, err := io.Copy(c, c)
		serverErrs <- err
	})
	in := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.2:7"))
	// Nothing answers ARP for 10.0.0.99: the dial waits until Close.
	stuck := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.99:7"))
	var clients []net.Conn
	for range 3 {
		c := dialReal(t, in.Addr().String())
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
			t.Fatalf("echo before Close: %v", err)
		}
		clients = append(clients, c)
	}
	clients = append(clients, dialReal(t, stuck.Addr().String()))
	for deadline := time.Now().Add(5 * time.Second); relayCount(stuck) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bridge to 10.0.0.99 accepted no connection")
		}
	}

	for _, b := range []*Bridge{in, stuck} {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if n := blockedBridgeGoroutines(); n != 0 {
		t.Errorf("%d blocked bridge goroutines when Close returned", n)
	}
	for i, c := range clients {
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client %d Read after Close: %v, want connection reset", i, err)
		}
	}
	for range 3 {
		if err := <-serverErrs; !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("server Read after Close: %v, want connection reset", err)
		}
	}
	if c, err := net.Dial("tcp", in.Addr().String()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Errorf("Dial after Close: %v, want connection refused", err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestBridgeWorldClose closes the World under both kinds of bridge with
// connections open: the real peers' Reads fail with a reset, and when
// World.Close returns no goroutine of the bridges is left.
func TestBridgeWorldClose(t *testing.T) {
	p := newPair(t, pairConfig{})
	serveConns(t, listenWorld(t, p.b, ":7"), echo)
	in := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.2:7"))
	srv := listenReal(t, "127.0.0.1:0")
	ready := make(chan struct{})
	serverErr := make(chan error, 1)
	serveConns(t, srv, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Errorf("real server reading: %v", err)
		}
		close(ready)
		_, err := c.Read(make([]byte, 1))
		serverErr <- err
	})
	out := bridgeOut(t, p.b, 443, srv.Addr().String())

	client := dialReal(t, in.Addr().String())
	checkEchoOnce(t, client)
	worldClient := dialWorld(t, p.a, "10.0.0.2:443")
	if _, err := worldClient.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-ready

	p.w.Close()
	if n := blockedBridgeGoroutines(); n != 0 {
		t.Errorf("%d blocked bridge goroutines when World.Close returned", n)
	}
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("real client Read after World.Close: %v, want connection reset", err)
	}
	if err := <-serverErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("real server Read after World.Close: %v, want connection reset", err)
	}
	for _, b := range []*Bridge{in, out} {
		if err := b.Close(); err != nil {
			t.Errorf("Close after World.Close: %v", err)
		}
	}
	if _, err := p.a.BridgeIn("127.0.0.1:0", addrPort("10.0.0.2:7")); !errors.Is(err, ErrWorldClosed) {
		t.Errorf("BridgeIn after World.Close: %v, want ErrWorldClosed", err)
	}
}

// relayCount is how many connections b carries or is dialling for.
func relayCount(b *Bridge) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.relays)
}

// checkEchoOnce sends a line and reads it back, leaving c open.
func checkEchoOnce(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping\n" {
		t.Fatalf("echo: %q, %v", b, err)
	}
}

// TestBridgeTLS runs a crypto/tls server in the World and a real tls.Dial
// through BridgeIn: the handshake verifies the server's certificate, and
// data crosses both ways.
func TestBridgeTLS(t *testing.T) {
	pki := newTestPKI(t)
	p := newPair(t, pairConfig{})
	l := tls.NewListener(listenWorld(t, p.b, ":443"), &tls.Config{Certificates: []tls.Certificate{pki.cert}, MinVersion: tls.VersionTLS13})
	serveConns(t, l, func(c net.Conn) {
		line := make([]byte, 64)
		n, err := c.Read(line)
		if err != nil {
			t.Errorf("server Read: %v", err)
			return
		}
		fmt.Fprintf(c, "hello, %s", bytes.TrimSpace(line[:n]))
	})
	in := bridgeIn(t, p.a, "127.0.0.1:0", addrPort("10.0.0.2:443"))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{RootCAs: pki.roots, ServerName: "server.test"}}
	c, err := d.DialContext(ctx, "tcp", in.Addr().String())
	if err != nil {
		t.Fatalf("tls.Dial through the bridge: %v", err)
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	if st := tc.ConnectionState(); st.Version != tls.VersionTLS13 || st.PeerCertificates[0].Subject.CommonName != "server.test" {
		t.Errorf("handshake: version %x, peer %s", st.Version, st.PeerCertificates[0].Subject)
	}
	if _, err := tc.Write([]byte("real client\n")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(tc)
	if err != nil || string(got) != "hello, real client" {
		t.Errorf("read %q, %v; want \"hello, real client\" and EOF", got, err)
	}
}

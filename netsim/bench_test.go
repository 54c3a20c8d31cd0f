package netsim

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

const (
	benchStreamBytes = 16 << 20
	benchWriteSize   = 64 << 10
)

// benchPair returns two connected hosts on one segment of the given MTU.
func benchPair(b *testing.B, mtu int) (w *World, lan *Segment, client, server *Host) {
	w = NewWorld(Config{Seed: 1})
	b.Cleanup(func() { w.Close() })
	lan = w.NewSegment("lan", SegmentConfig{MTU: mtu})
	client = w.NewHost("client", HostConfig{})
	server = w.NewHost("server", HostConfig{})
	if _, err := client.AddNIC(lan, NICConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")}); err != nil {
		b.Fatal(err)
	}
	if _, err := server.AddNIC(lan, NICConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")}); err != nil {
		b.Fatal(err)
	}
	return w, lan, client, server
}

// BenchmarkStream moves 16 MiB per op in 64 KiB writes through a stream and
// waits until the reader has read it all.
//
//   - netsim: the default Ethernet MTU (1500), so 11,500 frames per op, each
//     encoded, switched, checksum-verified and decoded.
//   - netsim-capture: the same with a segment tap writing pcapng; the stream
//     goes to io.Discard so the figure is netsim's cost, not the disk's.
//   - netsim-capture-file: the same, writing the pcapng to a file.
//   - netsim-mtu65535(-capture): the MTU of Linux's loopback interface, so
//     netsim and the kernel baseline move equally sized segments.
//   - loopback: kernel TCP on 127.0.0.1; pipe: net.Pipe.
func BenchmarkStream(b *testing.B) {
	b.Run("netsim", func(b *testing.B) { benchNetsimStream(b, 1500, nil) })
	b.Run("netsim-capture", func(b *testing.B) { benchNetsimStream(b, 1500, io.Discard) })
	b.Run("netsim-capture-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "bench.pcapng"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		benchNetsimStream(b, 1500, f)
	})
	b.Run("netsim-mtu65535", func(b *testing.B) { benchNetsimStream(b, 65535, nil) })
	b.Run("netsim-mtu65535-capture", func(b *testing.B) { benchNetsimStream(b, 65535, io.Discard) })
	b.Run("loopback", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Skip("no loopback:", err)
		}
		defer ln.Close()
		benchStream(b, ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	})
	b.Run("pipe", func(b *testing.B) {
		c1, c2 := net.Pipe()
		benchStreamConns(b, c1, c2)
	})
}

// benchNetsimStream runs the stream benchmark on a netsim segment of the
// given MTU, capturing it as pcapng into capture when that is not nil.
func benchNetsimStream(b *testing.B, mtu int, capture io.Writer) {
	_, lan, client, server := benchPair(b, mtu)
	if capture != nil {
		c, err := NewCapture(capture)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.AttachSegment(lan); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
	}
	ln, err := server.Listen("tcp", ":9000")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	benchStream(b, ln, func() (net.Conn, error) { return client.Dial("tcp", "10.0.0.2:9000") })
}

func benchStream(b *testing.B, ln net.Listener, dial func() (net.Conn, error)) {
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c1, err := dial()
	if err != nil {
		b.Fatal(err)
	}
	c2, ok := <-accepted
	if !ok {
		b.Fatal("accept failed")
	}
	benchStreamConns(b, c1, c2)
}

func benchStreamConns(b *testing.B, writer, reader net.Conn) {
	defer writer.Close()
	defer reader.Close()
	done := make(chan error)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		buf := make([]byte, benchWriteSize)
		for {
			n, err := io.CopyBuffer(io.Discard, io.LimitReader(reader, benchStreamBytes), buf)
			if err == nil && n != benchStreamBytes {
				err = io.ErrUnexpectedEOF
			}
			select {
			case done <- err:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	chunk := make([]byte, benchWriteSize)
	b.SetBytes(benchStreamBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for sent := 0; sent < benchStreamBytes; sent += len(chunk) {
			if _, err := writer.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
}

// BenchmarkTLSHandshake runs one full TLS 1.3 handshake per op with an
// ECDSA P-256 certificate, the client verifying chain and name, over a
// fresh connection: netsim, kernel TCP on 127.0.0.1, and net.Pipe.
func BenchmarkTLSHandshake(b *testing.B) {
	serverCfg, clientCfg := benchTLSConfigs(b)
	b.Run("netsim", func(b *testing.B) {
		_, _, client, server := benchPair(b, 1500)
		ln, err := server.Listen("tcp", ":443")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		benchHandshakes(b, ln, func() (net.Conn, error) {
			return client.DialContext(context.Background(), "tcp", "10.0.0.2:443")
		}, serverCfg, clientCfg)
	})
	b.Run("loopback", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Skip("no loopback:", err)
		}
		defer ln.Close()
		benchHandshakes(b, ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }, serverCfg, clientCfg)
	})
	b.Run("pipe", func(b *testing.B) {
		conns := make(chan net.Conn, 1)
		ln := &pipeListener{conns: conns, done: make(chan struct{})}
		defer ln.Close()
		benchHandshakes(b, ln, func() (net.Conn, error) {
			c1, c2 := net.Pipe()
			conns <- c2
			return c1, nil
		}, serverCfg, clientCfg)
	})
}

func benchHandshakes(b *testing.B, ln net.Listener, dial func() (net.Conn, error), serverCfg, clientCfg *tls.Config) {
	serverDone := make(chan error)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(c, serverCfg)
			err = tc.Handshake()
			c.Close()
			serverDone <- err
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		c, err := dial()
		if err != nil {
			b.Fatal(err)
		}
		tc := tls.Client(c, clientCfg)
		if err := tc.Handshake(); err != nil {
			b.Fatal(err)
		}
		if err := <-serverDone; err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// benchTLSConfigs returns a TLS 1.3 server with an ECDSA P-256
// certificate and a client that verifies its chain and name.
func benchTLSConfigs(b *testing.B) (server, client *tls.Config) {
	pki := newTestPKI(b)
	server = &tls.Config{
		Certificates:           []tls.Certificate{pki.cert},
		MinVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: true,
	}
	client = &tls.Config{
		RootCAs:    pki.roots,
		ServerName: "server.test",
		MinVersion: tls.VersionTLS13,
	}
	return server, client
}

// pipeListener hands out the server ends of net.Pipe pairs.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { close(l.done); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

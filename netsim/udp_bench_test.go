package netsim

import (
	"net"
	"testing"
)

// BenchmarkUDPRoundTrip measures a unicast UDP request and its answer
// between two hosts on one segment: the per-datagram cost of the UDP path
// (encode, switch, decode, socket queue) in both directions.
func BenchmarkUDPRoundTrip(b *testing.B) {
	p := newPair(b, pairConfig{})
	srv, err := p.b.ListenPacket("udp", ":53")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cli, err := p.a.ListenPacket("udp", "10.0.0.1:5300")
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:n], from)
		}
	}()
	to := &net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 53}
	msg := make([]byte, 512)
	buf := make([]byte, 1500)
	b.SetBytes(int64(2 * len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cli.WriteTo(msg, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := cli.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}

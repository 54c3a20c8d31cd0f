// Package netsimtest gives tests outside netsim a connected TCP pair on a
// simulated network, for exchanging real bytes (a TLS handshake, a line)
// without a real socket, and a segment's capture into a pcapng file. It
// is for tests only.
package netsimtest

import (
	"net"
	"net/netip"
	"testing"

	"github.com/tlslab/tlslab/netsim"
)

// Addresses of the pair's two hosts on their segment "lan".
var (
	ClientAddr = netip.MustParsePrefix("10.0.0.10/24")
	ServerAddr = netip.MustParsePrefix("10.0.0.20/24")
)

// TCPPair returns both ends of a TCP connection from "client" to
// "server":443 on a fresh World, which t's cleanup closes with both
// ends. Each end buffers what it is sent, as kernel TCP does, so both may
// write at once (as TLS does around a HelloRetryRequest) where net.Pipe
// would deadlock.
func TCPPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	hosts := make([]*netsim.Host, 2)
	for i, h := range []struct {
		name string
		addr netip.Prefix
	}{{"client", ClientAddr}, {"server", ServerAddr}} {
		hosts[i] = w.NewHost(h.name, netsim.HostConfig{})
		if _, err := hosts[i].AddNIC(lan, netsim.NICConfig{Addr: h.addr}); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := hosts[1].Listen("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The dial completes in the listen backlog, before Accept.
	if client, err = hosts[0].Dial("tcp", net.JoinHostPort(ServerAddr.Addr().String(), "443")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

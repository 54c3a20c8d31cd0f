package netsim

import (
	"io"
	"net"
	"net/netip"
	"testing"
)

// TestListenTransparent: a host whose neighbours' ARP caches send it frames
// for another host's address terminates TCP as that address, while other
// traffic is still forwarded.
func TestListenTransparent(t *testing.T) {
	w := NewWorld(Config{Seed: 3})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", SegmentConfig{})
	victim := w.NewHost("victim", HostConfig{})
	server := w.NewHost("server", HostConfig{})
	mallory := w.NewRouter("mallory", HostConfig{})
	mustNIC(t, victim, lan, "10.0.0.10/24")
	ns := mustNIC(t, server, lan, "10.0.0.20/24")
	nm := mustNIC(t, mallory, lan, "10.0.0.66/24")
	victim.SetStaticARP(ns.Addr(), nm.MAC()) // as an ARP spoof would leave it
	mallory.SetStaticARP(ns.Addr(), ns.MAC())

	ln, err := mallory.ListenTransparent("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := mallory.ListenTransparent("tcp", "10.0.0.66:444"); err == nil {
		t.Error("ListenTransparent accepted an address with an IP")
	}
	realServer, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer realServer.Close()
	go func() {
		c, err := realServer.Accept()
		if err == nil {
			c.Write([]byte("real server"))
			c.Close()
		}
	}()

	got := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		c.Write([]byte("mallory"))
		got <- c
	}()
	c, err := victim.Dial("tcp", "10.0.0.20:443")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mc := <-got
	if mc == nil {
		t.Fatal("mallory accepted nothing")
	}
	defer mc.Close()
	if got, want := mc.LocalAddr().String(), "10.0.0.20:443"; got != want {
		t.Errorf("intercepted conn LocalAddr = %s, want %s", got, want)
	}
	if got, want := c.RemoteAddr().String(), "10.0.0.20:443"; got != want {
		t.Errorf("victim's RemoteAddr = %s, want %s", got, want)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "mallory" {
		t.Fatalf("victim read %q, %v; want mallory's answer", buf, err)
	}
	// Port 80 is not intercepted: mallory forwards it to the real server.
	c80, err := victim.Dial("tcp", "10.0.0.20:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c80.Close()
	b, err := io.ReadAll(c80)
	if err != nil || string(b) != "real server" {
		t.Fatalf("port 80 read %q, %v; want the real server's answer", b, err)
	}
}

func mustNIC(t *testing.T, h *Host, seg *Segment, addr string) *NIC {
	t.Helper()
	n, err := h.AddNIC(seg, NICConfig{Addr: netip.MustParsePrefix(addr)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

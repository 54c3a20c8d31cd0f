package netsim

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/internal/tsharktest"
)

// TestBroadcastMulticastTshark captures a limited broadcast from an
// unaddressed host (source 0.0.0.0), a directed broadcast and a multicast,
// and has tshark decode them with IPv4 and UDP checksum validation: every
// frame must carry the right Ethernet destination, IPv4 addresses and TTL,
// with good checksums and nothing malformed. Without tshark it is skipped,
// except in CI (CI=true), where it fails.
func TestBroadcastMulticastTshark(t *testing.T) {
	tsharktest.Require(t)
	var pcap bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		g := newGroupLAN(t)
		c, err := NewCapture(&pcap)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AttachSegment(g.lan); err != nil {
			t.Fatal(err)
		}
		// Ports no dissector claims, so the payload is shown as data.
		unaddressed := listenUDP(t, g.u, "0.0.0.0:40068")
		sender := listenUDP(t, g.a, "10.0.0.1:40000")
		receiver, err := g.b.ListenMulticastUDP(mustAddr("239.1.2.3"), 40001)
		if err != nil {
			t.Fatal(err)
		}
		defer receiver.Close()
		sendDatagram(t, unaddressed, "255.255.255.255:40001", "limited")
		expectDatagram(t, receiver, "limited", "0.0.0.0:40068")
		sendDatagram(t, sender, "10.0.0.255:40001", "directed")
		expectDatagram(t, receiver, "directed", "10.0.0.1:40000")
		sendDatagram(t, sender, "239.1.2.3:40001", "multicast")
		expectDatagram(t, receiver, "multicast", "10.0.0.1:40000")
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
	file := tsharktest.WriteCapture(t, "broadcast.pcapng", pcap.Bytes())
	run := func(filter string, fields ...string) []string { return tsharktest.Fields(t, file, filter, fields...) }
	tsharktest.CheckClean(t, file, "")
	got := run("udp", "eth.dst", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "udp.checksum.status", "data.len")
	want := []string{
		"ff:ff:ff:ff:ff:ff|0.0.0.0|255.255.255.255|64|1|1|7",
		"ff:ff:ff:ff:ff:ff|10.0.0.1|10.0.0.255|64|1|1|8",
		"01:00:5e:01:02:03|10.0.0.1|239.1.2.3|1|1|1|9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes the UDP frames as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

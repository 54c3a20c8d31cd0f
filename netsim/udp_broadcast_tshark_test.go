package netsim

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
)

// TestBroadcastMulticastTshark captures a limited broadcast from an
// unaddressed host (source 0.0.0.0), a directed broadcast and a multicast,
// and has tshark decode them with IPv4 and UDP checksum validation: every
// frame must carry the right Ethernet destination, IPv4 addresses and TTL,
// with good checksums and nothing malformed. Without tshark it is skipped,
// except in CI (CI=true), where it fails.
func TestBroadcastMulticastTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must have it")
		}
		t.Skip("tshark not found")
	}
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
	file := filepath.Join(t.TempDir(), "broadcast.pcapng")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(filter string, fields ...string) []string {
		t.Helper()
		args := []string{"-r", file, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-Y", filter, "-T", "fields", "-E", "separator=,"}
		for _, f := range fields {
			args = append(args, "-e", f)
		}
		cmd := exec.CommandContext(t.Context(), tshark, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark -Y %q: %v\n%s", filter, err, stderr.String())
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			return strings.Split(s, "\n")
		}
		return nil
	}
	if bad := run("_ws.malformed || _ws.expert.severity >= warning", "frame.number", "_ws.expert.message"); len(bad) != 0 {
		t.Errorf("tshark finds malformed packets or warnings:\n%s", strings.Join(bad, "\n"))
	}
	got := run("udp", "eth.dst", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "udp.checksum.status", "data.len")
	want := []string{
		"ff:ff:ff:ff:ff:ff,0.0.0.0,255.255.255.255,64,1,1,7",
		"ff:ff:ff:ff:ff:ff,10.0.0.1,10.0.0.255,64,1,1,8",
		"01:00:5e:01:02:03,10.0.0.1,239.1.2.3,1,1,1,9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes the UDP frames as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

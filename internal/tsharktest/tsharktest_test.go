package tsharktest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writeUDP writes one Ethernet/IPv4/UDP frame, its UDP checksum right or
// wrong, as a pcapng file.
func writeUDP(t *testing.T, badChecksum bool) string {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 40001}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload("hello")); err != nil {
		t.Fatal(err)
	}
	frame := buf.Bytes()
	if badChecksum {
		frame[14+20+6] ^= 0xff
	}
	path := filepath.Join(t.TempDir(), "one.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(gopacket.CaptureInfo{CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFieldsAndCheckClean(t *testing.T) {
	Require(t)
	good := writeUDP(t, false)
	if rows := Fields(t, good, "udp", "ip.src", "udp.dstport", "udp.checksum.status"); len(rows) != 1 || rows[0] != "10.0.0.1|40001|1" {
		t.Errorf("Fields = %q, want one row 10.0.0.1|40001|1", rows)
	}
	CheckClean(t, good, "")
	// A bad checksum is caught: checksums are validated.
	bad := writeUDP(t, true)
	var ft fakeT
	CheckClean(&ft, bad, "")
	if !ft.failed {
		t.Error("CheckClean passed a frame with a bad UDP checksum")
	}
	var allowed fakeT
	CheckClean(&allowed, bad, "udp")
	if allowed.failed {
		t.Error("CheckClean reported a frame the allowed filter covers")
	}
}

// fakeT records failures instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Errorf(format string, a ...any) { f.failed = true }
func (f *fakeT) Fatalf(format string, a ...any) { f.failed = true }

package winname_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/internal/tsharktest"
)

// checkDecodes has tshark decode file and checks that it holds exactly
// want (one line per frame: "protocol|name|address", address empty for a
// query) and that no frame is malformed or carries an expert warning or
// error (bad checksums among them).
func checkDecodes(t *testing.T, file string, want []string) {
	t.Helper()
	var got []string
	for _, line := range tsharktest.Fields(t, file, "llmnr || nbns", "_ws.col.Protocol", "dns.qry.name", "nbns.name", "dns.a", "nbns.addr") {
		row := strings.Split(line, "|")
		got = append(got, row[0]+"|"+row[1]+row[2]+"|"+row[3]+row[4])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tsharktest.CheckClean(t, file, "")
}

// udpFrame is an Ethernet/IPv4/UDP frame with correct lengths and checksums.
func udpFrame(t *testing.T, src, dst netip.AddrPort, dstMAC net.HardwareAddr, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, src.Addr().As4()[3]}, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMessagesDecodeInTshark writes this package's LLMNR and NBNS queries
// and answers, as the responders produce them, into a pcapng and has
// tshark, a decoder nobody here wrote, read them back. Without tshark it is
// skipped, except in CI (CI=true), where it fails.
func TestMessagesDecodeInTshark(t *testing.T) {
	tsharktest.Require(t)
	client := netip.MustParseAddrPort("10.0.0.10:50000")
	owner := newResponder(t, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
	poisoner := newResponder(t, winname.ResponderConfig{Addr: attackerAddr, Policy: winname.AnswerEveryName})
	multicastMAC := net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc}
	broadcastMAC := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	clientMAC := net.HardwareAddr{2, 0, 0, 0, 0, 10}

	llmnrQuery, err := winname.NewLLMNRQuery(0x1234, "fileserv").Pack()
	if err != nil {
		t.Fatal(err)
	}
	nb, _ := winname.NetBIOSNameFor("fileserv", winname.SuffixWorkstation)
	nbnsQuery, err := winname.NewNBNSQuery(0x8001, nb).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	llmnrAnswer, _, ok1 := owner.AnswerLLMNR(llmnrQuery)
	nbnsAnswer, _, ok2 := poisoner.AnswerNBNS(nbnsQuery)
	if !ok1 || !ok2 {
		t.Fatal("a responder did not answer")
	}
	frames := [][]byte{
		udpFrame(t, client, netip.AddrPortFrom(winname.LLMNRGroup, winname.LLMNRPort), multicastMAC, llmnrQuery),
		udpFrame(t, netip.AddrPortFrom(fileservAddr, winname.LLMNRPort), client, clientMAC, llmnrAnswer),
		udpFrame(t, client, netip.MustParseAddrPort("10.0.0.255:137"), broadcastMAC, nbnsQuery),
		udpFrame(t, netip.AddrPortFrom(attackerAddr, winname.NBNSPort), client, clientMAC, nbnsAnswer),
	}
	file := filepath.Join(t.TempDir(), "winname.pcapng")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkDecodes(t, file, []string{
		"LLMNR|fileserv|",
		"LLMNR|fileserv|10.0.0.20",
		"NBNS|FILESERV<00>|",
		"NBNS|FILESERV<00> (Workstation/Redirector)|10.0.0.66",
	})
}

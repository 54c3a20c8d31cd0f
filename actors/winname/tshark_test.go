package winname_test

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlslab/tlslab/actors/winname"
)

// requireTshark skips the test when tshark is not installed, except in CI
// (CI=true), where its absence is a failure.
func requireTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not on PATH but CI=true: CI must install it (apt-get install -y tshark)")
		}
		t.Skip("tshark is not on PATH; install it (apt-get install tshark) to check the captures")
	}
}

// tsharkFields returns, for each frame of file matching filter, the given
// fields; it fails the test when tshark fails or complains.
func tsharkFields(t *testing.T, file, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-Y", filter, "-T", "fields", "-E", "separator=|", "-E", "aggregator=,"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(t.Context(), "tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	const root = `Running as user "root" and group "root". This could be dangerous.`
	if s := strings.TrimSpace(strings.ReplaceAll(stderr.String(), root, "")); s != "" {
		t.Errorf("tshark %s complained:\n%s", strings.Join(args, " "), s)
	}
	var rows [][]string
	for line := range strings.Lines(stdout.String()) {
		rows = append(rows, strings.Split(strings.TrimSuffix(line, "\n"), "|"))
	}
	return rows
}

// checkDecodes has tshark decode file and checks that it holds exactly
// want (one line per frame: "protocol|name|address", address empty for a
// query) and that no frame is malformed or carries an expert warning or
// error (bad checksums among them).
func checkDecodes(t *testing.T, file string, want []string) {
	t.Helper()
	var got []string
	for _, row := range tsharkFields(t, file, "llmnr || nbns", "_ws.col.Protocol", "dns.qry.name", "nbns.name", "dns.a", "nbns.addr") {
		got = append(got, row[0]+"|"+row[1]+row[2]+"|"+row[3]+row[4])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bad := tsharkFields(t, file, "_ws.malformed || _ws.expert.severity >= warning", "frame.number", "_ws.expert.message"); len(bad) > 0 {
		t.Errorf("tshark reports malformed frames or warnings: %q", bad)
	}
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
	requireTshark(t)
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

package dhcp_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/netsim"
)

// TestExchangeTshark captures a DISCOVER/OFFER/REQUEST/ACK exchange on the
// access segment and has tshark decode it as DHCP, with IPv4 and UDP
// checksum validation: the four messages in order, from 0.0.0.0 and the
// server to 255.255.255.255, the OFFER and ACK showing options 3, 6, 15
// and 252, and nothing malformed or warned about. Without tshark it is
// skipped, except in CI (CI=true), where it fails.
func TestExchangeTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must have it")
		}
		t.Skip("tshark not found")
	}
	var pcap bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		c, err := netsim.NewCapture(&pcap)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AttachSegment(l.lan); err != nil {
			t.Fatal(err)
		}
		serve(t, contoso(l.dc))
		if _, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: l.client(t, "alice")}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
	file := filepath.Join(t.TempDir(), "dhcp.pcapng")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(filter string, fields ...string) []string {
		t.Helper()
		args := []string{"-r", file, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
			"-Y", filter, "-T", "fields", "-E", "separator=;", "-E", "aggregator=,"}
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
	got := run("dhcp", "ip.src", "ip.dst", "udp.checksum.status", "dhcp.option.dhcp", "dhcp.ip.your",
		"dhcp.option.router", "dhcp.option.domain_name_server", "dhcp.option.domain_name",
		"dhcp.option.private_proxy_autodiscovery")
	want := []string{
		"0.0.0.0;255.255.255.255;1;1;0.0.0.0;;;;",
		"10.0.0.10;255.255.255.255;1;2;10.0.0.100;10.0.0.1;10.0.0.53,10.0.0.54;contoso.com;http://wpad.contoso.com/wpad.dat",
		"0.0.0.0;255.255.255.255;1;3;0.0.0.0;;;;",
		"10.0.0.10;255.255.255.255;1;5;10.0.0.100;10.0.0.1;10.0.0.53,10.0.0.54;contoso.com;http://wpad.contoso.com/wpad.dat",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes the exchange as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

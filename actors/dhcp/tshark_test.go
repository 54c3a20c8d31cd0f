package dhcp_test

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/internal/tsharktest"
	"github.com/tlslab/tlslab/netsim"
)

// TestExchangeTshark captures a DISCOVER/OFFER/REQUEST/ACK exchange on the
// access segment and has tshark decode it as DHCP, with IPv4 and UDP
// checksum validation: the four messages in order, from 0.0.0.0 and the
// server to 255.255.255.255, the OFFER and ACK showing options 3, 6, 15
// and 252, and nothing malformed or warned about. Without tshark it is
// skipped, except in CI (CI=true), where it fails.
func TestExchangeTshark(t *testing.T) {
	tsharktest.Require(t)
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
	file := tsharktest.WriteCapture(t, "dhcp.pcapng", pcap.Bytes())
	run := func(filter string, fields ...string) []string { return tsharktest.Fields(t, file, filter, fields...) }
	tsharktest.CheckClean(t, file, "")
	got := run("dhcp", "ip.src", "ip.dst", "udp.checksum.status", "dhcp.option.dhcp", "dhcp.ip.your",
		"dhcp.option.router", "dhcp.option.domain_name_server", "dhcp.option.domain_name",
		"dhcp.option.private_proxy_autodiscovery")
	want := []string{
		"0.0.0.0|255.255.255.255|1|1|0.0.0.0||||",
		"10.0.0.10|255.255.255.255|1|2|10.0.0.100|10.0.0.1|10.0.0.53,10.0.0.54|contoso.com|http://wpad.contoso.com/wpad.dat",
		"0.0.0.0|255.255.255.255|1|3|0.0.0.0||||",
		"10.0.0.10|255.255.255.255|1|5|10.0.0.100|10.0.0.1|10.0.0.53,10.0.0.54|contoso.com|http://wpad.contoso.com/wpad.dat",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes the exchange as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package ntlm_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/internal/tsharktest"
	"github.com/tlslab/tlslab/netsim"
)

// TestExchangeTshark captures alice authenticating to the web server
// (401, NTLM), then through a proxy to the proxy (407, Negotiate carrying
// NTLMSSP) and the same
// server, on the LAN segment, and has tshark decode it, with IPv4 and TCP
// checksum validation: three NEGOTIATE / CHALLENGE / AUTHENTICATE
// exchanges in order, the AUTHENTICATE naming
// CONTOSO\alice from ALICE-PC, and nothing malformed or warned about.
// Without tshark it is skipped, except in CI (CI=true), where it fails.
func TestExchangeTshark(t *testing.T) {
	tsharktest.Require(t)
	var pcap bytes.Buffer
	func() {
		l := newLAN(t)
		capture, err := netsim.NewCapture(&pcap)
		if err != nil {
			t.Fatal(err)
		}
		if err := capture.AttachSegment(l.seg); err != nil {
			t.Fatal(err)
		}
		webAuth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Rand: seeded(7), Now: l.w.Now, Target: fe01})
		serve(t, l.web, webAuth.Wrap(whoami), webAuth)
		proxyAuth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Proxy: true, Rand: seeded(8), Now: l.w.Now,
			Schemes: []ntlm.Scheme{ntlm.SchemeNegotiate},
			Target:  ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "PROXY"}})
		serve(t, l.proxy, proxyAuth.Wrap(l.forwarder(t)), proxyAuth)

		direct := l.client(t, alice, "", nil)
		if status, _, err := get(t, direct, "POST", "http://fe01.contoso.com/autodiscover", "hello"); err != nil || status != 200 {
			t.Fatalf("direct: %d %v", status, err)
		}
		viaProxy := l.client(t, alice, "http://proxy.contoso.com:80", nil)
		if status, _, err := get(t, viaProxy, "GET", "http://fe01.contoso.com/lyncdiscover", ""); err != nil || status != 200 {
			t.Fatalf("via proxy: %d %v", status, err)
		}
		direct.CloseIdleConnections()
		viaProxy.CloseIdleConnections()
		if err := capture.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	file := tsharktest.WriteCapture(t, "ntlm.pcapng", pcap.Bytes())
	run := func(filter string, fields ...string) []string { return tsharktest.Fields(t, file, filter, fields...) }
	tsharktest.CheckClean(t, file, "")
	// The header columns keep only their scheme; the tokens are the
	// NTLMSSP fields that follow.
	got := run("ntlmssp", "ip.src", "ip.dst", "http.response.code",
		"http.authorization", "http.www_authenticate", "http.proxy_authorization", "http.proxy_authenticate",
		"ntlmssp.messagetype", "ntlmssp.auth.domain", "ntlmssp.auth.username", "ntlmssp.auth.hostname")
	for i, row := range got {
		cols := strings.Split(row, "|")
		for j := 3; j < 7 && j < len(cols); j++ {
			cols[j], _, _ = strings.Cut(cols[j], " ")
		}
		got[i] = strings.Join(cols, "|")
	}
	// src|dst|status|Authorization|WWW-Authenticate|Proxy-Authorization|Proxy-Authenticate|type|domain|user|host
	want := []string{
		"10.0.0.20|10.0.0.80||NTLM||||0x00000001|||",
		"10.0.0.80|10.0.0.20|401||NTLM|||0x00000002|||",
		"10.0.0.20|10.0.0.80||NTLM||||0x00000003|CONTOSO|alice|ALICE-PC",
		// The proxy offers only Negotiate: raw NTLMSSP inside it.
		"10.0.0.20|10.0.0.8||||Negotiate||0x00000001|||",
		"10.0.0.8|10.0.0.20|407||||Negotiate|0x00000002|||",
		"10.0.0.20|10.0.0.8||||Negotiate||0x00000003|CONTOSO|alice|ALICE-PC",
		// The origin demands NTLM too: alice's second handshake crosses
		// the authenticated proxy connection.
		"10.0.0.20|10.0.0.8||NTLM||||0x00000001|||",
		"10.0.0.8|10.0.0.80||NTLM||||0x00000001|||",
		"10.0.0.80|10.0.0.8|401||NTLM|||0x00000002|||",
		"10.0.0.8|10.0.0.20|401||NTLM|||0x00000002|||",
		"10.0.0.20|10.0.0.8||NTLM||||0x00000003|CONTOSO|alice|ALICE-PC",
		"10.0.0.8|10.0.0.80||NTLM||||0x00000003|CONTOSO|alice|ALICE-PC",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes NTLMSSP as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package sip_test

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/internal/tsharktest"
)

// TestNTLMTshark captures alice registering over plaintext SIP (port
// 5060) with a Front End that demands NTLM, and has tshark decode the SIP,
// with checksums checked and nothing malformed: the three REGISTERs, the
// two 401s and the 200, the MS-SIPAE header values as tshark reads them,
// and the NTLMSSP messages 1, 2, 3 in their gssapi-data. tshark (4.0)
// does not dissect NTLMSSP inside SIP headers, so the test decodes the
// base64 tshark shows and reads the NTLMSSP message type itself. Without
// tshark it is skipped, except in CI (CI=true), where it fails.
func TestNTLMTshark(t *testing.T) {
	tsharktest.Require(t)
	file := filepath.Join(t.TempDir(), "sip-ntlm.pcapng")
	t.Run("exchange", func(t *testing.T) {
		tp := newTopo(t)
		netsimtest.CaptureToFile(t, tp.lan, file) // closed after the servers
		withNTLM(t, tp)
		tp.fe01.PlainAddr = fe01IP + ":5060"
		tp.client.AllowPlaintextFallback = true
		noTLSRecord(t, tp)
		d := tp.start(t)
		send(t, d, "dave@contoso.com")
	})
	tsharktest.CheckClean(t, file, "")
	rows := tsharktest.Fields(t, file, "sip && tcp.port == 5060", "ip.src", "sip.Method", "sip.Status-Code", "sip.WWW-Authenticate", "sip.Authorization")
	gssapi := regexp.MustCompile(`gssapi-data="([^"]*)"`)
	opaque := regexp.MustCompile(`opaque="[0-9a-f]{8}"`)
	var got []string
	for _, row := range rows {
		cols := strings.Split(row, "|")
		header := cols[3] + cols[4]
		msgType := ""
		if m := gssapi.FindStringSubmatch(header); m != nil {
			msg, err := base64.StdEncoding.DecodeString(m[1])
			if err != nil || len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
				t.Fatalf("gssapi-data %q is not NTLMSSP: %v", m[1], err)
			}
			msgType = fmt.Sprint(binary.LittleEndian.Uint32(msg[8:12]))
			if msgType == "3" {
				a, err := ntlm.ParseAuthenticate(msg)
				if err != nil {
					t.Fatal(err)
				}
				msgType += " " + a.Domain + `\` + a.User + " " + a.Workstation
			}
			header = gssapi.ReplaceAllString(header, `gssapi-data="..."`)
		}
		header = opaque.ReplaceAllString(header, `opaque="<id>"`)
		got = append(got, strings.Join([]string{cols[0], cols[1] + cols[2], msgType, header}, "|"))
	}
	const realm = `realm="SIP Communications Service", targetname="fe01.contoso.com"`
	want := []string{
		"10.0.0.50|REGISTER||",
		"10.0.0.11|401||NTLM " + realm + ", version=4",
		"10.0.0.50|REGISTER|1|" + `NTLM qop="auth", ` + realm + `, gssapi-data="...", version=4`,
		"10.0.0.11|401|2|" + `NTLM opaque="<id>", ` + realm + `, gssapi-data="...", version=4`,
		"10.0.0.50|REGISTER|3 CONTOSO\\alice ALICE-PC|" + `NTLM qop="auth", opaque="<id>", ` + realm + `, gssapi-data="...", version=4`,
		"10.0.0.11|200||",
		"10.0.0.50|MESSAGE||",
		"10.0.0.11|200||",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tshark's view of the exchange:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

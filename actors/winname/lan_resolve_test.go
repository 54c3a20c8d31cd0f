package winname_test

import (
	"cmp"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/internal/tsharktest"
)

// resolveCase is one lookup by the client on the test LAN.
type resolveCase struct {
	llmnr, nbtns bool // the client's switches
	fileserv     bool // the file server runs its responder
	poisoner     bool // the attacker runs a Responder-style responder
	slowFileserv bool // the file server's link is slower than the attacker's
	silentDNS    bool // the client's DNS server does not answer
	host         string
	want         netip.Addr // invalid: the lookup fails with DNS's error
	wantErr      error      // that error's cause; nil means dns.ErrNoSuchHost
	wantSteps    []string
	// poisonerAnswers is what the attacker's responder must have answered.
	poisonerAnswers []string
}

const deniedStep = "DNS fileserv.contoso.com: dns: lookup fileserv.contoso.com: no such host"

func testResolve(t *testing.T, tc resolveCase) {
	cfg := lanConfig{silentDNS: tc.silentDNS}
	if tc.slowFileserv {
		cfg.fileservLatency = 50 * time.Millisecond
	}
	l := newLAN(t, cfg)
	if tc.fileserv {
		respond(t, l.fs, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
	}
	var poisoner *winname.Responder
	if tc.poisoner {
		poisoner = respond(t, l.attacker, winname.ResponderConfig{Addr: attackerAddr, Policy: winname.AnswerEveryName})
	}
	r := l.resolver(t, tc.llmnr, tc.nbtns, winname.NetQuerierConfig{})
	addrs, err := r.LookupNetIP(t.Context(), "ip4", tc.host)
	if tc.want.IsValid() {
		if err != nil || !slices.Equal(addrs, []netip.Addr{tc.want}) {
			t.Errorf("LookupNetIP(%s) = %v, %v; want [%v]", tc.host, addrs, err, tc.want)
		}
	} else {
		want := cmp.Or(tc.wantErr, dns.ErrNoSuchHost)
		var le *dns.LookupError
		if !errors.As(err, &le) || !errors.Is(err, want) || addrs != nil {
			t.Errorf("LookupNetIP(%s) = %v, %v; want DNS's %v", tc.host, addrs, err, want)
		}
	}
	sent := 0
	for _, s := range tc.wantSteps {
		if !strings.HasPrefix(s, "DNS ") && !strings.Contains(s, "not asked on the link") {
			sent++
		}
	}
	if n := l.linkQueries.Load(); (n == 0) != (sent == 0) {
		t.Errorf("%d LLMNR or NBNS queries on the wire for %d link-local steps", n, sent)
	}
	if got := stepStrings(r.Steps()); !slices.Equal(got, tc.wantSteps) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantSteps, "\n"))
	}
	if poisoner != nil {
		var got []string
		for _, a := range poisoner.Answers() {
			if a.To.Addr() != clientAddr {
				t.Errorf("poisoner answered %v", a)
			}
			got = append(got, a.Protocol.String()+" "+a.Name+" "+a.Addr.String())
		}
		if !slices.Equal(got, tc.poisonerAnswers) {
			t.Errorf("poisoner answered %q, want %q", got, tc.poisonerAnswers)
		}
	}
}

// TestResolveOnLAN resolves over netsim: the client's DNS denies
// fileserv.contoso.com, and the link answers, or does not.
func TestResolveOnLAN(t *testing.T) {
	for _, tc := range []struct {
		desc string
		resolveCase
	}{
		{"LLMNR answers what DNS denies", resolveCase{
			llmnr: true, nbtns: true, fileserv: true, host: "fileserv", want: fileservAddr,
			wantSteps: []string{deniedStep, "LLMNR fileserv: [10.0.0.20] from 10.0.0.20:5355"},
		}},
		{"NBT-NS answers when LLMNR is off", resolveCase{
			nbtns: true, fileserv: true, host: "fileserv", want: fileservAddr,
			wantSteps: []string{deniedStep, "NBT-NS FILESERV<00>: [10.0.0.20] from 10.0.0.20:137"},
		}},
		{"a poisoner answering first takes the name by LLMNR", resolveCase{
			llmnr: true, nbtns: true, fileserv: true, poisoner: true, slowFileserv: true, host: "fileserv", want: attackerAddr,
			wantSteps:       []string{deniedStep, "LLMNR fileserv: [10.0.0.66] from 10.0.0.66:5355"},
			poisonerAnswers: []string{"LLMNR fileserv 10.0.0.66"},
		}},
		{"a poisoner answering first takes the name by NBT-NS", resolveCase{
			nbtns: true, fileserv: true, poisoner: true, slowFileserv: true, host: "fileserv", want: attackerAddr,
			wantSteps:       []string{deniedStep, "NBT-NS FILESERV<00>: [10.0.0.66] from 10.0.0.66:137"},
			poisonerAnswers: []string{"NBT-NS FILESERV<00> 10.0.0.66"},
		}},
		{"both off: DNS's error, and the poisoner hears nothing", resolveCase{
			fileserv: true, poisoner: true, host: "fileserv",
			wantSteps: []string{deniedStep, "LLMNR fileserv: winname: fileserv not asked on the link: LLMNR and NBT-NS are off"},
		}},
		{"a DNS time-out does not fall back", resolveCase{
			llmnr: true, nbtns: true, fileserv: true, poisoner: true, silentDNS: true, host: "fileserv", wantErr: os.ErrDeadlineExceeded,
			wantSteps: []string{"DNS fileserv.contoso.com: dns: lookup fileserv.contoso.com: i/o timeout after 1 try"},
		}},
		{"an FQDN DNS answers never reaches the link", resolveCase{
			llmnr: true, nbtns: true, fileserv: true, poisoner: true, host: "pool01.contoso.com", want: netip.MustParseAddr("10.0.0.80"),
			wantSteps: []string{"DNS pool01.contoso.com: [10.0.0.80]"},
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) { testResolve(t, tc.resolveCase) })
	}
}

// TestExchangeDecodesInTshark captures an LLMNR and an NBT-NS resolution
// on the simulated LAN and has tshark decode the capture: the queries to
// 224.0.0.252 and to the subnet broadcast, the unicast answers, nothing
// malformed, no bad checksum. Without tshark it is skipped, except in CI
// (CI=true), where it fails.
func TestExchangeDecodesInTshark(t *testing.T) {
	tsharktest.Require(t)
	file := filepath.Join(t.TempDir(), "winname.pcapng")
	t.Run("capture", func(t *testing.T) {
		l := newLAN(t, lanConfig{pcap: file})
		respond(t, l.fs, winname.ResponderConfig{Name: "fileserv", Addr: fileservAddr})
		for _, llmnr := range []bool{true, false} {
			r := l.resolver(t, llmnr, !llmnr, winname.NetQuerierConfig{})
			if addrs, err := r.LookupNetIP(t.Context(), "ip4", "fileserv"); err != nil || addrs[0] != fileservAddr {
				t.Fatalf("LLMNR %v: %v, %v", llmnr, addrs, err)
			}
		}
	}) // the World and the capture are closed here
	checkDecodes(t, file, []string{
		"LLMNR|fileserv|",
		"LLMNR|fileserv|10.0.0.20",
		"NBNS|FILESERV<00>|",
		"NBNS|FILESERV<00> (Workstation/Redirector)|10.0.0.20",
	})
	var rows [][]string
	for _, line := range tsharktest.Fields(t, file, "llmnr || nbns", "ip.src", "ip.dst", "udp.srcport", "udp.dstport") {
		rows = append(rows, strings.Split(line, "|"))
	}
	want := [][]string{
		{"10.0.0.10", "224.0.0.252", "", "5355"},
		{"10.0.0.20", "10.0.0.10", "5355", ""},
		{"10.0.0.10", "10.0.0.255", "", "137"},
		{"10.0.0.20", "10.0.0.10", "137", ""},
	}
	for i, row := range rows {
		if i >= len(want) {
			break
		}
		w := want[i]
		if row[0] != w[0] || row[1] != w[1] || (w[2] != "" && row[2] != w[2]) || (w[3] != "" && row[3] != w[3]) {
			t.Errorf("frame %d: %v, want %v (empty: any port)", i, row, w)
		}
	}
}

package wpad_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/netsim"
)

const (
	companyPAC  = `function FindProxyForURL(url, host) { if (dnsDomainIs(host, ".contoso.com")) return "DIRECT"; return "PROXY proxy.contoso.com:8080"; }`
	attackerPAC = `function FindProxyForURL(url, host) { return "PROXY 10.0.0.66:8080"; }`
	wpadRecord  = "wpad IN A 10.0.0.80\n"
	dhcpURL     = "http://wpad.contoso.com/wpad.dat"
)

type discoverCase struct {
	zone         string
	dhcpURL      string
	llmnr, nbtns bool
	poisoner     bool
	// companyPath, when set, is the only path the company's PAC server
	// answers.
	companyPath string
	want        []string // step strings
	wantSource  wpad.Source
	// wantProxy is the PAC's answer for https://www.example.org/; empty
	// when no PAC must be found.
	wantProxy string
	// wantFetches are the PAC fetches each server saw, "host path".
	wantCompany, wantAttacker []string
}

func testDiscover(t *testing.T, tc discoverCase) {
	l := newLAN(t, tc.zone, "")
	company, err := wpad.NewPACServer(wpad.PACServerConfig{Script: companyPAC, Paths: []string{"/wpad.dat"}})
	if err != nil {
		t.Fatal(err)
	}
	if tc.companyPath != "" {
		company, _ = wpad.NewPACServer(wpad.PACServerConfig{Script: companyPAC, Paths: []string{tc.companyPath}})
	}
	serveHTTP(t, l.proxy, 80, company)
	var attacker *wpad.PACServer
	if tc.poisoner {
		l.poison(t)
		attacker = servePAC(t, l.attack, attackerPAC)
	}
	res, err := wpad.Discover(t.Context(), wpad.DiscoverConfig{
		DHCPURL: tc.dhcpURL, Resolver: l.windows(t, tc.llmnr, tc.nbtns), Dialer: l.client,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Steps {
		got = append(got, s.String())
	}
	if !slices.Equal(got, tc.want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
	}
	if res.Source != tc.wantSource {
		t.Errorf("source %v, want %v", res.Source, tc.wantSource)
	}
	switch {
	case tc.wantProxy == "" && res.PAC != nil:
		t.Errorf("found a PAC at %s", res.URL)
	case tc.wantProxy != "":
		if res.PAC == nil {
			t.Fatal("found no PAC")
		}
		if p, err := res.PAC.FindProxyForURL(t.Context(), wpad.Env{}, "https://www.example.org/", "www.example.org"); p != tc.wantProxy || err != nil {
			t.Errorf("PAC answers %q, %v; want %q", p, err, tc.wantProxy)
		}
	}
	fetches := func(s *wpad.PACServer) []string {
		var out []string
		for _, f := range s.Fetches() {
			if f.From.Addr() != clientAddr {
				t.Errorf("fetch from %v", f.From)
			}
			out = append(out, f.Host+" "+f.Path)
		}
		return out
	}
	if got := fetches(company); !slices.Equal(got, tc.wantCompany) {
		t.Errorf("company's PAC server saw %q, want %q", got, tc.wantCompany)
	}
	if attacker != nil {
		if got := fetches(attacker); !slices.Equal(got, tc.wantAttacker) {
			t.Errorf("attacker's PAC server saw %q, want %q", got, tc.wantAttacker)
		}
	}
}

// TestDiscoverWPAD runs WPAD discovery over netsim: DHCP's option 252, DNS,
// and LLMNR / NBT-NS answered by a poisoner.
func TestDiscoverWPAD(t *testing.T) {
	const (
		noOption  = "DHCP option 252 (lease): the lease has no option 252"
		viaDNS    = "DNS wpad: GET http://wpad.contoso.com/wpad.dat from 10.0.0.80:80: PAC (application/x-ns-proxy-autoconfig)"
		dnsDenied = "DNS wpad: dns: lookup wpad.contoso.com: no such host"
	)
	for _, tc := range []struct {
		desc string
		discoverCase
	}{
		{"DHCP option 252 first", discoverCase{
			zone: wpadRecord, dhcpURL: dhcpURL, llmnr: true, poisoner: true,
			want:       []string{"DHCP option 252 http://wpad.contoso.com/wpad.dat: GET http://wpad.contoso.com/wpad.dat from 10.0.0.80:80: PAC (application/x-ns-proxy-autoconfig)"},
			wantSource: wpad.SourceDHCP, wantProxy: "PROXY proxy.contoso.com:8080",
			wantCompany: []string{"wpad.contoso.com /wpad.dat"},
		}},
		{"DNS wpad.<suffix> without option 252", discoverCase{
			zone: wpadRecord, llmnr: true, nbtns: true, poisoner: true,
			want:       []string{noOption, viaDNS},
			wantSource: wpad.SourceDNS, wantProxy: "PROXY proxy.contoso.com:8080",
			wantCompany: []string{"wpad.contoso.com /wpad.dat"},
		}},
		{"option 252's fetch fails: DNS next", discoverCase{
			zone: wpadRecord, dhcpURL: "http://wpad.contoso.com/proxy.pac", companyPath: "/wpad.dat",
			want: []string{
				"DHCP option 252 http://wpad.contoso.com/proxy.pac: GET http://wpad.contoso.com/proxy.pac from 10.0.0.80:80: HTTP 404 Not Found",
				viaDNS,
			},
			wantSource: wpad.SourceDNS, wantProxy: "PROXY proxy.contoso.com:8080",
			wantCompany: []string{"wpad.contoso.com /wpad.dat"},
		}},
		{"DNS denies wpad: the poisoner answers LLMNR and serves its PAC", discoverCase{
			llmnr: true, nbtns: true, poisoner: true,
			want:       []string{noOption, "LLMNR wpad: GET http://wpad/wpad.dat from 10.0.0.66:80: PAC (application/x-ns-proxy-autoconfig)"},
			wantSource: wpad.SourceLLMNR, wantProxy: "PROXY 10.0.0.66:8080",
			wantAttacker: []string{"wpad /wpad.dat"},
		}},
		{"LLMNR off: the poisoner answers NBT-NS", discoverCase{
			nbtns: true, poisoner: true,
			want:       []string{noOption, "NBT-NS wpad: GET http://wpad/wpad.dat from 10.0.0.66:80: PAC (application/x-ns-proxy-autoconfig)"},
			wantSource: wpad.SourceNBTNS, wantProxy: "PROXY 10.0.0.66:8080",
			wantAttacker: []string{"wpad /wpad.dat"},
		}},
		{"both off: no PAC, no proxy, the poisoner hears nothing", discoverCase{
			poisoner: true,
			want:     []string{noOption, dnsDenied},
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) { testDiscover(t, tc.discoverCase) })
	}
}

func TestDiscoverRecordsResolution(t *testing.T) {
	l := newLAN(t, "", "")
	l.poison(t)
	servePAC(t, l.attack, attackerPAC)
	res, err := wpad.Discover(t.Context(), wpad.DiscoverConfig{Resolver: l.windows(t, true, true), Dialer: l.client})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Steps[1].Resolution {
		got = append(got, s.String())
	}
	want := []string{"DNS wpad.contoso.com: dns: lookup wpad.contoso.com: no such host", "LLMNR wpad: [10.0.0.66] from 10.0.0.66:5355"}
	if !slices.Equal(got, want) {
		t.Errorf("resolution %q, want %q", got, want)
	}
}

// TestDiscoverFromDHCPLease has a laptop join the LAN by DHCP: the real
// server's lease names the DNS server and the WPAD URL (option 252), and
// WPAD follows that URL to the company's PAC file.
func TestDiscoverFromDHCPLease(t *testing.T) {
	l := newLAN(t, wpadRecord, "")
	company := servePAC(t, l.proxy, companyPAC)
	srv, err := dhcp.NewServer(dhcp.ServerConfig{
		Host: l.ns, Subnet: netip.MustParsePrefix("10.0.0.0/24"),
		PoolFirst: netip.MustParseAddr("10.0.0.100"), PoolLast: netip.MustParseAddr("10.0.0.199"),
		DNS: []netip.Addr{nsAddr}, Domain: "contoso.com", WPAD: dhcpURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := l.ns.ListenPacket("udp", ":67")
	if err != nil {
		t.Fatal(err)
	}
	netsimtest.GoServe(t, "DHCP server", func(ctx context.Context) error { return srv.Serve(ctx, pc) })
	laptop := l.w.NewHost("laptop", netsim.HostConfig{})
	nic, err := laptop.AddNIC(l.seg, netsim.NICConfig{Unaddressed: true})
	if err != nil {
		t.Fatal(err)
	}
	lease, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: nic})
	if err != nil {
		t.Fatal(err)
	}
	var servers []netip.AddrPort
	for _, a := range lease.DNS {
		servers = append(servers, netip.AddrPortFrom(a, 53))
	}
	stub, err := dns.NewResolver(dns.ResolverConfig{Net: laptop, Servers: servers})
	if err != nil {
		t.Fatal(err)
	}
	res, err := wpad.Discover(t.Context(), wpad.DiscoverConfig{DHCPURL: lease.WPAD, Resolver: stub, Domain: lease.Domain, Dialer: laptop})
	if err != nil || res.Source != wpad.SourceDHCP || res.URL != dhcpURL || res.PAC == nil {
		t.Fatalf("Discover: %+v, %v; want the PAC of %s by DHCP", res, err, dhcpURL)
	}
	f := company.Fetches()
	if len(f) != 1 || f[0].From.Addr() != lease.Addr.Addr() || f[0].Host != "wpad.contoso.com" {
		t.Errorf("PAC server saw %+v, want one fetch from %v", f, lease.Addr.Addr())
	}
}

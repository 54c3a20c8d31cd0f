package winname_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/winname"
)

// fakeDNS answers from a table: a name in addrs resolves, a name in errs
// fails with that error, any other name is NXDOMAIN.
type fakeDNS struct {
	addrs map[string][]netip.Addr
	errs  map[string]error
}

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f.addrs[host]; ok {
		return a, nil
	}
	if err, ok := f.errs[host]; ok {
		return nil, err
	}
	return nil, &dns.LookupError{Name: host, Err: dns.ErrNoSuchHost}
}

func (f fakeDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return "", nil, &dns.LookupError{Name: "_" + service + "._" + proto + "." + name, Err: dns.ErrNoSuchHost}
}

// fakeQuerier answers the link-local protocols from tables (protocol's
// responder address by name) and logs every question.
type fakeQuerier struct {
	llmnr, nbns map[string]netip.Addr

	mu    sync.Mutex
	asked []string // "LLMNR fileserv", "NBT-NS FILESERV<00>"
}

func (f *fakeQuerier) QueryLLMNR(_ context.Context, name string) (netip.AddrPort, []netip.Addr, error) {
	f.log("LLMNR " + name)
	if a, ok := f.llmnr[name]; ok {
		return netip.AddrPortFrom(a, winname.LLMNRPort), []netip.Addr{a}, nil
	}
	return netip.AddrPort{}, nil, &winname.NoAnswerError{Protocol: winname.LLMNR, Name: name, Tries: 2}
}

func (f *fakeQuerier) QueryNBNS(_ context.Context, name winname.NetBIOSName) (netip.AddrPort, []netip.Addr, error) {
	f.log("NBT-NS " + name.String())
	if a, ok := f.nbns[name.String()]; ok {
		return netip.AddrPortFrom(a, winname.NBNSPort), []netip.Addr{a}, nil
	}
	return netip.AddrPort{}, nil, &winname.NoAnswerError{Protocol: winname.NBTNS, Name: name.String(), Tries: 3}
}

func (f *fakeQuerier) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, s)
}

var (
	poolAddr   = netip.MustParseAddr("10.0.0.80")
	timeoutErr = &dns.LookupError{Name: "slow", Err: &dns.TimeoutError{Tries: 3}}
)

func TestResolverFallback(t *testing.T) {
	dnsTable := fakeDNS{
		addrs: map[string][]netip.Addr{"pool01.contoso.com": {poolAddr}},
		errs:  map[string]error{"slow": timeoutErr},
	}
	everywhere := map[string]netip.Addr{"fileserv": fileservAddr, "FILESERV<00>": fileservAddr,
		"fileserv.contoso.com": fileservAddr, "slow": fileservAddr, "SLOW<00>": fileservAddr,
		"pool01.contoso.com": attackerAddr}
	for _, tc := range []struct {
		desc                     string
		llmnr, nbtns, multiLabel bool
		llmnrTable               map[string]netip.Addr
		nbnsTable                map[string]netip.Addr
		network                  string
		host                     string
		wantAddr                 netip.Addr // invalid: the lookup fails
		wantErr                  error      // the error it fails with
		wantAsked                []string
		wantSteps                []string
	}{
		{
			desc: "LLMNR answers what DNS denies", llmnr: true, nbtns: true,
			llmnrTable: everywhere, nbnsTable: everywhere, host: "fileserv", wantAddr: fileservAddr,
			wantAsked: []string{"LLMNR fileserv"},
			wantSteps: []string{"DNS fileserv: dns: lookup fileserv: no such host", "LLMNR fileserv: [10.0.0.20] from 10.0.0.20:5355"},
		},
		{
			desc: "NBT-NS answers when LLMNR is off", nbtns: true,
			llmnrTable: everywhere, nbnsTable: everywhere, host: "fileserv", wantAddr: fileservAddr,
			wantAsked: []string{"NBT-NS FILESERV<00>"},
			wantSteps: []string{"DNS fileserv: dns: lookup fileserv: no such host", "NBT-NS FILESERV<00>: [10.0.0.20] from 10.0.0.20:137"},
		},
		{
			desc: "NBT-NS answers when LLMNR gets no answer", llmnr: true, nbtns: true,
			nbnsTable: everywhere, host: "fileserv", wantAddr: fileservAddr,
			wantAsked: []string{"LLMNR fileserv", "NBT-NS FILESERV<00>"},
			wantSteps: []string{"DNS fileserv: dns: lookup fileserv: no such host",
				"LLMNR fileserv: winname: LLMNR fileserv: no answer to 2 queries",
				"NBT-NS FILESERV<00>: [10.0.0.20] from 10.0.0.20:137"},
		},
		{
			desc: "both off: DNS's error, and the link not asked", llmnrTable: everywhere, nbnsTable: everywhere,
			host: "fileserv", wantErr: dns.ErrNoSuchHost,
			wantSteps: []string{"DNS fileserv: dns: lookup fileserv: no such host",
				"LLMNR fileserv: winname: fileserv not asked on the link: LLMNR and NBT-NS are off"},
		},
		{
			desc: "nobody answers: DNS's error", llmnr: true, nbtns: true, host: "fileserv", wantErr: dns.ErrNoSuchHost,
			wantAsked: []string{"LLMNR fileserv", "NBT-NS FILESERV<00>"},
		},
		{
			desc: "an FQDN DNS answers is never sent on", llmnr: true, nbtns: true,
			llmnrTable: everywhere, nbnsTable: everywhere, host: "pool01.contoso.com", wantAddr: poolAddr,
			wantSteps: []string{"DNS pool01.contoso.com: [10.0.0.80]"},
		},
		{
			desc: "a DNS time-out does not fall back", llmnr: true, nbtns: true,
			llmnrTable: everywhere, nbnsTable: everywhere, host: "slow", wantErr: os.ErrDeadlineExceeded,
		},
		{
			desc: "an FQDN DNS denies is not asked on the link, as Windows does", llmnr: true, nbtns: true,
			llmnrTable: everywhere, nbnsTable: everywhere, host: "fileserv.contoso.com", wantErr: dns.ErrNoSuchHost,
			wantSteps: []string{"DNS fileserv.contoso.com: dns: lookup fileserv.contoso.com: no such host",
				"LLMNR fileserv.contoso.com: winname: fileserv.contoso.com not asked on the link: LLMNR and NBT-NS are asked only for single-label names"},
		},
		{
			desc: "with LinkMultiLabel an FQDN DNS denies goes to LLMNR but not to NBT-NS", llmnr: true, nbtns: true, multiLabel: true,
			nbnsTable: everywhere, host: "fileserv.contoso.com", wantErr: dns.ErrNoSuchHost,
			wantAsked: []string{"LLMNR fileserv.contoso.com"},
		},
		{
			desc: "ip6 lookups do not fall back", llmnr: true, nbtns: true, network: "ip6",
			llmnrTable: everywhere, nbnsTable: everywhere, host: "fileserv", wantErr: dns.ErrNoSuchHost,
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			q := &fakeQuerier{llmnr: tc.llmnrTable, nbns: tc.nbnsTable}
			var seen []winname.Step
			r, err := winname.NewResolver(winname.ResolverConfig{DNS: dnsTable, LLMNR: tc.llmnr, NBTNS: tc.nbtns,
				LinkMultiLabel: tc.multiLabel, Querier: q, OnStep: func(s winname.Step) { seen = append(seen, s) }})
			if err != nil {
				t.Fatal(err)
			}
			network := cmpOr(tc.network, "ip4")
			addrs, err := r.LookupNetIP(t.Context(), network, tc.host)
			if tc.wantAddr.IsValid() {
				if err != nil || !slices.Equal(addrs, []netip.Addr{tc.wantAddr}) {
					t.Errorf("LookupNetIP = %v, %v; want [%v]", addrs, err, tc.wantAddr)
				}
			} else if !errors.Is(err, tc.wantErr) || addrs != nil {
				t.Errorf("LookupNetIP = %v, %v; want error %v", addrs, err, tc.wantErr)
			}
			if !slices.Equal(q.asked, tc.wantAsked) {
				t.Errorf("asked %q, want %q", q.asked, tc.wantAsked)
			}
			steps := r.Steps()
			if !slices.EqualFunc(steps, seen, func(a, b winname.Step) bool { return a.String() == b.String() }) {
				t.Errorf("Steps() %v differ from OnStep's %v", steps, seen)
			}
			if tc.wantSteps != nil {
				var got []string
				for _, s := range steps {
					got = append(got, s.String())
				}
				if !slices.Equal(got, tc.wantSteps) {
					t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantSteps, "\n"))
				}
			}
			notAsked := 0
			for _, s := range steps {
				var na *winname.NotAskedError
				if errors.As(s.Err, &na) {
					notAsked++
				}
			}
			if len(steps) != 1+len(q.asked)+notAsked {
				t.Errorf("%d steps for %d fallback questions", len(steps), len(q.asked))
			}
		})
	}
}

func TestDenied(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&dns.LookupError{Name: "x", Err: dns.ErrNoSuchHost}, true},
		{&net.DNSError{Name: "x", Err: "no such host", IsNotFound: true}, true},
		{timeoutErr, false},
		{&dns.LookupError{Name: "x", Err: &dns.RcodeError{Rcode: 2}}, false},
		{&net.DNSError{Name: "x", Err: "i/o timeout", IsTimeout: true}, false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := winname.Denied(tc.err); got != tc.want {
			t.Errorf("Denied(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestNewResolverRejects(t *testing.T) {
	var ce *winname.ConfigError
	if _, err := winname.NewResolver(winname.ResolverConfig{}); !errors.As(err, &ce) {
		t.Errorf("no DNS: %v", err)
	}
	if _, err := winname.NewResolver(winname.ResolverConfig{DNS: fakeDNS{}, LLMNR: true}); !errors.As(err, &ce) {
		t.Errorf("LLMNR without a querier: %v", err)
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// A single-label name is asked of DNS with each search suffix, never bare;
// the link is asked the bare name only when every suffix is denied.
func TestResolverSearchList(t *testing.T) {
	dnsTable := fakeDNS{addrs: map[string][]netip.Addr{"pool01.contoso.com": {poolAddr}}}
	q := &fakeQuerier{llmnr: map[string]netip.Addr{"fileserv": attackerAddr, "pool01": attackerAddr}}
	r, err := winname.NewResolver(winname.ResolverConfig{DNS: dnsTable, LLMNR: true, Querier: q,
		SearchList: []string{"corp.contoso.com", ".contoso.com."}})
	if err != nil {
		t.Fatal(err)
	}
	if addrs, err := r.LookupNetIP(t.Context(), "ip4", "pool01"); err != nil || !slices.Equal(addrs, []netip.Addr{poolAddr}) {
		t.Errorf("pool01: %v, %v", addrs, err)
	}
	if addrs, err := r.LookupNetIP(t.Context(), "ip4", "fileserv"); err != nil || !slices.Equal(addrs, []netip.Addr{attackerAddr}) {
		t.Errorf("fileserv: %v, %v", addrs, err)
	}
	if _, err := r.LookupNetIP(t.Context(), "ip4", "10.0.0.1"); err == nil {
		t.Error("the fake DNS answered an address literal")
	}
	want := []string{
		"DNS pool01.corp.contoso.com: dns: lookup pool01.corp.contoso.com: no such host",
		"DNS pool01.contoso.com: [10.0.0.80]",
		"DNS fileserv.corp.contoso.com: dns: lookup fileserv.corp.contoso.com: no such host",
		"DNS fileserv.contoso.com: dns: lookup fileserv.contoso.com: no such host",
		"LLMNR fileserv: [10.0.0.66] from 10.0.0.66:5355",
		"DNS 10.0.0.1: dns: lookup 10.0.0.1: no such host", // asked as given, and of no one else
	}
	if got := stepStrings(r.Steps()); !slices.Equal(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

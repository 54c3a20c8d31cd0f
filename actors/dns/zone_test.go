package dns_test

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
)

func TestZoneHelpersAndText(t *testing.T) {
	built, err := dns.NewZone("Contoso.COM",
		dns.A("pool01.contoso.com", netip.MustParseAddr("10.0.0.80")),
		dns.CNAME("sip.contoso.com.", "pool01.contoso.com"),
		dns.SRV("_sip._tls.contoso.com", 0, 0, 443, "sip.contoso.com"),
	)
	if err != nil {
		t.Fatal(err)
	}
	parsed := mustZone(t, "contoso.com", `
$TTL 3600
pool01    A     10.0.0.80
sip       CNAME pool01
_sip._tls SRV   0 0 443 sip
`)
	if got, want := built.String(), parsed.String(); got != want {
		t.Errorf("zone from helpers:\n%s\nzone from text:\n%s", got, want)
	}
	if got := built.Origin(); got != "contoso.com." {
		t.Errorf("Origin() = %q, want contoso.com.", got)
	}
	want := []string{
		"contoso.com. SOA ns1.contoso.com. hostmaster.contoso.com. 1 7200 3600 1209600 300",
		"_sip._tls.contoso.com. SRV 0 0 443 sip.contoso.com.",
		"pool01.contoso.com. A 10.0.0.80",
		"sip.contoso.com. CNAME pool01.contoso.com.",
	}
	if got := rrStrings(built.Records()); !slices.Equal(got, want) {
		t.Errorf("Records() =\n%q\nwant (canonical order)\n%q", got, want)
	}
	if got := rrStrings(built.RRset("POOL01.contoso.com", miekg.TypeA)); !slices.Equal(got, want[2:3]) {
		t.Errorf("RRset(POOL01.contoso.com, A) = %q", got)
	}
}

func TestZoneErrors(t *testing.T) {
	z := mustZone(t, "contoso.com", "pool01 A 10.0.0.80\n")
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"outside the zone", func() error { return z.Add(dns.A("edge.fabrikam.com", netip.MustParseAddr("192.0.2.10"))) },
			"dns: zone contoso.com: edge.fabrikam.com. A is outside the zone"},
		{"CNAME beside data", func() error { return z.Add(dns.CNAME("pool01.contoso.com", "fe01.contoso.com")) },
			"dns: zone contoso.com: pool01.contoso.com. would have a CNAME and other data (A)"},
		{"data beside CNAME in one batch", func() error {
			return z.Add(dns.CNAME("sip.contoso.com", "pool01.contoso.com"), dns.A("sip.contoso.com", netip.MustParseAddr("10.0.0.1")))
		}, "dns: zone contoso.com: sip.contoso.com. would have a CNAME and other data (CNAME)"},
		{"bad text", func() error { _, err := dns.ParseZone("contoso.com", "pool01 A 10.0.0.300\n"); return err },
			`dns: zone contoso.com: bad A A: "10.0.0.300" at line: 1:19`},
		{"bad origin", func() error { _, err := dns.NewZone(""); return err },
			`dns: zone : "" is not a domain name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			var ze *dns.ZoneError
			if !errors.As(err, &ze) {
				t.Errorf("error is %T, want *dns.ZoneError", err)
			}
		})
	}
	// A failed Add adds nothing.
	if rrs := z.RRset("sip.contoso.com", miekg.TypeCNAME); rrs != nil {
		t.Errorf("failed Add left %v behind", rrs)
	}
}

func TestZoneSign(t *testing.T) {
	z := mustZone(t, "contoso.com", contosoText)
	if z.Signed() || z.KSK() != nil || z.DS() != nil {
		t.Fatal("unsigned zone reports keys")
	}
	if err := z.Sign(dns.SignConfig{}); err != nil {
		t.Fatal(err)
	}
	ksk := z.KSK()
	if ksk.Flags != 257 || ksk.Algorithm != miekg.ECDSAP256SHA256 {
		t.Errorf("KSK flags %d algorithm %d, want 257 and 13", ksk.Flags, ksk.Algorithm)
	}
	if ds := z.DS(); ds.KeyTag != ksk.KeyTag() || ds.DigestType != miekg.SHA256 {
		t.Errorf("DS %v does not digest the KSK (tag %d) with SHA-256", ds, ksk.KeyTag())
	}
	// Every RRset is signed, and the NSEC chain links every name.
	signed := map[string]bool{}
	var nsecs []*miekg.NSEC
	for _, rr := range z.Records() {
		switch rr := rr.(type) {
		case *miekg.RRSIG:
			signed[rr.Hdr.Name+" "+miekg.Type(rr.TypeCovered).String()] = true
		case *miekg.NSEC:
			nsecs = append(nsecs, rr)
		}
	}
	for _, rr := range z.Records() {
		h := rr.Header()
		if h.Rrtype != miekg.TypeRRSIG && !signed[h.Name+" "+miekg.Type(h.Rrtype).String()] {
			t.Errorf("%s %s has no RRSIG", h.Name, miekg.Type(h.Rrtype))
		}
	}
	for i, n := range nsecs {
		if want := nsecs[(i+1)%len(nsecs)].Hdr.Name; n.NextDomain != want {
			t.Errorf("NSEC %s next %s, want %s", n.Hdr.Name, n.NextDomain, want)
		}
	}
	// Add re-signs.
	if err := z.Add(dns.A("fe03.contoso.com", netip.MustParseAddr("10.0.0.83"))); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rr := range z.Records() {
		if s, ok := rr.(*miekg.RRSIG); ok && s.Hdr.Name == "fe03.contoso.com." && s.TypeCovered == miekg.TypeA {
			found = s.KeyTag != ksk.KeyTag()
		}
	}
	if !found {
		t.Error("record added after Sign has no RRSIG by the ZSK")
	}
}

func TestZoneRemove(t *testing.T) {
	z := mustZone(t, "contoso.com", contosoText)
	if err := z.Sign(dns.SignConfig{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := z.Remove("FE01.contoso.com", miekg.TypeA); !ok || err != nil {
		t.Fatalf("Remove(fe01 A) = %v, %v", ok, err)
	}
	if ok, _ := z.Remove("fe01.contoso.com", miekg.TypeA); ok {
		t.Error("second Remove found the RRset again")
	}
	if ok, _ := z.Remove("contoso.com", miekg.TypeSOA); ok {
		t.Error("Remove took the SOA")
	}
	for _, rr := range z.Records() {
		if rr.Header().Name == "fe01.contoso.com." {
			t.Errorf("%v left behind", rr)
		}
		if n, ok := rr.(*miekg.NSEC); ok && n.NextDomain == "fe01.contoso.com." {
			t.Errorf("NSEC chain still points at fe01: %v", n)
		}
	}
}

package dns_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
)

// signedContoso returns contoso.com signed with the default window around
// the (virtual) clock.
func signedContoso(t testing.TB) *dns.Zone {
	t.Helper()
	z := mustZone(t, "contoso.com", contosoText)
	if err := z.Sign(dns.SignConfig{}); err != nil {
		t.Fatal(err)
	}
	return z
}

// copyZone builds a zone from src's records (signatures included) passed
// through edit; edit returns nil to drop a record.
func copyZone(t testing.TB, src *dns.Zone, edit func(miekg.RR) miekg.RR) *dns.Zone {
	t.Helper()
	z, err := dns.NewZone(src.Origin())
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range src.Records() {
		if rr = edit(rr); rr != nil {
			if err := z.Add(rr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return z
}

// isPool01A reports whether rr is pool01's A record.
func isPool01A(rr miekg.RR) bool {
	_, ok := rr.(*miekg.A)
	return ok && rr.Header().Name == "pool01.contoso.com."
}

// TestDNSSECValid resolves names in a signed zone with a validating
// resolver anchored by DS or by KSK: positive and negative answers pass.
func TestDNSSECValid(t *testing.T) {
	anchors := map[string]func(z *dns.Zone) miekg.RR{
		"DS":  func(z *dns.Zone) miekg.RR { return z.DS() },
		"KSK": func(z *dns.Zone) miekg.RR { return z.KSK() },
	}
	for name, anchor := range anchors {
		for _, tc := range lookupCases[:12] { // all but REFUSED and bad network
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l := newLab(t, labConfig{})
					z := signedContoso(t)
					serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{z, mustZone(t, "fabrikam.com", fabrikamText)}})
					r := l.resolver(t, dns.ResolverConfig{TrustAnchors: []miekg.RR{anchor(z)}}, nsAddr)
					got, err := tc.run(t.Context(), r)
					if err != nil {
						got = err.Error()
					}
					if got != tc.want {
						t.Errorf("got  %s\nwant %s", got, tc.want)
					}
				})
			})
		}
	}
}

// TestDNSSECServesSignatures checks what a signed zone's server sends: no
// DNSSEC records without DO; RRSIGs, and NSEC proofs for negative answers,
// with DO.
func TestDNSSECServesSignatures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		serve(t, l.ns, dns.ServerConfig{Zones: []*dns.Zone{signedContoso(t)}})
		r := l.resolver(t, dns.ResolverConfig{}, nsAddr)
		ask := func(name string, qtype uint16, do bool) string {
			q := new(miekg.Msg)
			q.SetQuestion(name, qtype)
			if do {
				q.SetEdns0(1232, true)
			}
			m, err := r.Exchange(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(types(m.Answer), types(m.Ns))
		}
		for _, tc := range []struct {
			name  string
			qtype uint16
			do    bool
			want  string
		}{
			{"pool01.contoso.com.", miekg.TypeA, false, "[A] []"},
			{"pool01.contoso.com.", miekg.TypeA, true, "[A RRSIG] []"},
			{"meet.contoso.com.", miekg.TypeA, true, "[CNAME RRSIG CNAME RRSIG A RRSIG] []"},
			{"contoso.com.", miekg.TypeDNSKEY, true, "[DNSKEY DNSKEY RRSIG] []"},
			{"nope.contoso.com.", miekg.TypeA, false, "[] [SOA]"},
			{"nope.contoso.com.", miekg.TypeA, true, "[] [SOA RRSIG NSEC RRSIG]"},
			{"pool01.contoso.com.", miekg.TypeAAAA, true, "[] [SOA RRSIG NSEC RRSIG]"},
			{"b.deep.contoso.com.", miekg.TypeA, true, "[] [SOA RRSIG NSEC RRSIG]"},
		} {
			if got := ask(tc.name, tc.qtype, tc.do); got != tc.want {
				t.Errorf("%s %s DO=%v: answer and authority types %s, want %s", tc.name, miekg.Type(tc.qtype), tc.do, got, tc.want)
			}
		}
	})
}

func types(rrs []miekg.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		out = append(out, miekg.Type(rr.Header().Rrtype).String())
	}
	return out
}

// TestDNSSECForgery points a validating resolver at a rogue server that
// answers for the signed zone in various ways: each forgery is rejected
// with the exact reason; data from a zone without an anchor still passes.
func TestDNSSECForgery(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's clock
	tests := []struct {
		name  string
		rogue func(t *testing.T, real *dns.Zone) []*dns.Zone
		host  string
		want  string
		is    error
	}{
		{"unsigned answer", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			return []*dns.Zone{mustZone(t, "contoso.com", "pool01 A 10.6.6.6\n")}
		}, "pool01.contoso.com", "dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG", dns.ErrNoRRSIG},
		{"altered answer with the real RRSIG", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			return []*dns.Zone{copyZone(t, real, func(rr miekg.RR) miekg.RR {
				if isPool01A(rr) {
					rr.(*miekg.A).A = mallory.AsSlice()
				}
				return rr
			})}
		}, "pool01.contoso.com", "dns: DNSSEC validation failed for pool01.contoso.com A: RRSIG does not verify", dns.ErrBadSignature},
		{"answer signed with the rogue's own keys", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			z := mustZone(t, "contoso.com", "pool01 A 10.6.6.6\n")
			if err := z.Sign(dns.SignConfig{}); err != nil {
				t.Fatal(err)
			}
			return []*dns.Zone{z}
		}, "pool01.contoso.com",
			"dns: DNSSEC validation failed for pool01.contoso.com A: no trusted DNSKEY for contoso.com: no key in the DNSKEY set matches the trust anchor",
			dns.ErrNoTrustedKey},
		{"real keys, answer signed by the rogue", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			own := mustZone(t, "contoso.com", "pool01 A 10.6.6.6\n")
			if err := own.Sign(dns.SignConfig{}); err != nil {
				t.Fatal(err)
			}
			var forged []miekg.RR
			for _, rr := range own.Records() {
				if s, ok := rr.(*miekg.RRSIG); isPool01A(rr) || ok && s.Hdr.Name == "pool01.contoso.com." && s.TypeCovered == miekg.TypeA {
					forged = append(forged, rr)
				}
			}
			z := copyZone(t, real, func(rr miekg.RR) miekg.RR {
				if s, ok := rr.(*miekg.RRSIG); isPool01A(rr) || ok && s.Hdr.Name == "pool01.contoso.com." && s.TypeCovered == miekg.TypeA {
					return nil
				}
				return rr
			})
			if err := z.Add(forged...); err != nil {
				t.Fatal(err)
			}
			return []*dns.Zone{z}
		}, "pool01.contoso.com",
			"dns: DNSSEC validation failed for pool01.contoso.com A: RRSIG does not verify: signed by key tag %d, which is not in the trusted DNSKEY set of contoso.com",
			dns.ErrBadSignature},
		{"replayed expired signature", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			// Last month pool01 was 10.6.6.6, signed for that month with the
			// zone's keys; the rogue kept that answer and replays it inside
			// today's zone (whose DNSKEY set validates).
			setPool01 := func(addr netip.Addr) {
				if _, err := real.Remove("pool01.contoso.com", miekg.TypeA); err != nil {
					t.Fatal(err)
				}
				if err := real.Add(dns.A("pool01.contoso.com", addr)); err != nil {
					t.Fatal(err)
				}
			}
			setPool01(mallory)
			if err := real.Sign(dns.SignConfig{Inception: epoch.AddDate(0, -2, 0), Expiration: epoch.AddDate(0, -1, 0)}); err != nil {
				t.Fatal(err)
			}
			oldA := real.RRset("pool01.contoso.com", miekg.TypeA)[0]
			oldSig := rrsigOf(real, "pool01.contoso.com.", miekg.TypeA)
			setPool01(pool01)
			if err := real.Sign(dns.SignConfig{}); err != nil {
				t.Fatal(err)
			}
			return []*dns.Zone{copyZone(t, real, func(rr miekg.RR) miekg.RR {
				if isPool01A(rr) {
					return oldA
				}
				if s, ok := rr.(*miekg.RRSIG); ok && s.Hdr.Name == "pool01.contoso.com." && s.TypeCovered == miekg.TypeA {
					return oldSig
				}
				return rr
			})}
		}, "pool01.contoso.com", "", nil},
		{"forged NXDOMAIN", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			return []*dns.Zone{mustZone(t, "contoso.com", "")}
		}, "pool01.contoso.com", "dns: DNSSEC validation failed for pool01.contoso.com A: no NSEC proof of nonexistence", dns.ErrNoDenial},
		{"forged NODATA", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			return []*dns.Zone{mustZone(t, "contoso.com", "pool01 TXT \"gone\"\n")}
		}, "pool01.contoso.com", "dns: DNSSEC validation failed for pool01.contoso.com A: no NSEC proof of nonexistence", dns.ErrNoDenial},
		{"unanchored zone unaffected", func(t *testing.T, real *dns.Zone) []*dns.Zone {
			return []*dns.Zone{mustZone(t, "fabrikam.com", "edge A 10.6.6.6\n")}
		}, "edge.fabrikam.com", "[10.6.6.6]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t, labConfig{})
				real := signedContoso(t)
				zones := tt.rogue(t, real)
				serve(t, l.rogue, dns.ServerConfig{Zones: zones})
				r := l.resolver(t, dns.ResolverConfig{TrustAnchors: []miekg.RR{real.DS()}}, rogueAddr)
				want := tt.want
				switch tt.name {
				case "real keys, answer signed by the rogue":
					want = fmt.Sprintf(want, rrsigOf(zones[0], "pool01.contoso.com.", miekg.TypeA).KeyTag)
				case "replayed expired signature":
					s := rrsigOf(zones[0], "pool01.contoso.com.", miekg.TypeA)
					want = fmt.Sprintf("dns: DNSSEC validation failed for pool01.contoso.com A: RRSIG is outside its validity period: valid %s to %s, now %s",
						time.Unix(int64(s.Inception), 0).UTC().Format(time.RFC3339), time.Unix(int64(s.Expiration), 0).UTC().Format(time.RFC3339),
						// Each forged answer is dropped while the resolver waits
						// for one that validates; the error reported is the
						// last try's, which starts after two 2 s timeouts.
						epoch.Add(2*dns.DefaultTimeout).Format(time.RFC3339))
					tt.is = dns.ErrSignatureTime
				}
				addrs, err := r.LookupNetIP(t.Context(), "ip", tt.host)
				got := fmt.Sprint(addrs)
				if err != nil {
					got = err.Error()
				}
				if got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
				if tt.is == nil {
					return
				}
				var ve *dns.ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, tt.is) {
					t.Errorf("error %#v: want a *ValidationError wrapping %v", err, tt.is)
				}
			})
		})
	}
}

// rrsigOf returns the RRSIG over (name, covered) in z, or nil.
func rrsigOf(z *dns.Zone, name string, covered uint16) *miekg.RRSIG {
	for _, rr := range z.Records() {
		if s, ok := rr.(*miekg.RRSIG); ok && s.Hdr.Name == name && s.TypeCovered == covered {
			return s
		}
	}
	return nil
}

// TestDNSSECUnanchoredResolver checks that a resolver without anchors
// accepts a rogue's unsigned answer for the signed zone: validation is what
// stops the forgery.
func TestDNSSECUnanchoredResolver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t, labConfig{})
		serve(t, l.rogue, dns.ServerConfig{Zones: []*dns.Zone{mustZone(t, "contoso.com", "pool01 A 10.6.6.6\n")}})
		r := l.resolver(t, dns.ResolverConfig{}, rogueAddr)
		addrs, err := r.LookupNetIP(t.Context(), "ip", "pool01.contoso.com")
		if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("10.6.6.6") {
			t.Errorf("got %v, %v; want the forged 10.6.6.6", addrs, err)
		}
	})
}

package autodiscover_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/autodiscover"
)

// The zone's records the cases combine.
const (
	// Autodiscover names on the Front End, and the real pool.
	zoneAutodiscover = "lyncdiscoverinternal IN A 10.0.0.30\nlyncdiscover IN A 10.0.0.30\npool01 IN A 10.0.0.30\n"
	// The internal autodiscover name taken over by the attacker.
	zoneAttackerAutodiscover = "lyncdiscoverinternal IN A 10.0.0.66\nlyncdiscover IN A 10.0.0.66\n"
	zoneSRV                  = "_sipinternaltls._tcp IN SRV 0 0 5061 sip.contoso.com.\nsip IN A 10.0.0.30\n"
)

// discoverCase is one discovery by the client.
type discoverCase struct {
	zone string
	// servers sets up the LAN's web servers.
	servers func(t *testing.T, l *lan)
	policy  autodiscover.Policy
	// want is the step summaries (see summary); wantPool the result's
	// "pool:port via kind", empty when Discover must fail with wantErr.
	want     []string
	wantPool string
	wantErr  any // a pointer to the error type, for errors.As
	// verify is the client's VerifyConnection (the lab's TLS policy).
	verify func(tls.ConnectionState) error
	// check, when not nil, checks more of the result.
	check func(t *testing.T, res *autodiscover.Result)
}

const (
	httpsIn  = "autodiscover https://lyncdiscoverinternal.contoso.com"
	httpIn   = "autodiscover http://lyncdiscoverinternal.contoso.com"
	httpsOut = "autodiscover https://lyncdiscover.contoso.com"
	httpOut  = "autodiscover http://lyncdiscover.contoso.com"
	noName   = "no such host"
)

// summary is a step without its error text: kind, URL or name (the root
// path cut), who answered, certificate verdict, pool, verdict, and the
// reason when it is one of the policy's.
func summary(s autodiscover.Step) string {
	out := s.Kind.String() + " " + strings.TrimSuffix(s.Asked, autodiscover.RootPath)
	if s.From.IsValid() {
		out += " @" + s.From.String()
	}
	if s.Cert != nil {
		if s.CertErr != nil {
			out += " cert-rejected"
		} else {
			out += " cert-ok"
		}
	}
	if s.Pool != "" {
		out += fmt.Sprintf(" %s:%d", s.Pool, s.Port)
	}
	out += " " + s.Verdict.String()
	switch {
	case strings.Contains(s.Reason, "no such host"):
		out += ": " + noName
	case strings.Contains(s.Reason, "connect"):
		out += ": refused"
	case s.Verdict != autodiscover.Failed && s.Reason != "":
		out += ": " + s.Reason
	}
	return out
}

func testDiscover(t *testing.T, tc discoverCase) {
	l := newLAN(t, tc.zone, "")
	if tc.servers != nil {
		tc.servers(t, l)
	}
	var seen []autodiscover.Step
	res, err := autodiscover.Discover(t.Context(), autodiscover.Config{
		SIPDomain: "contoso.com", Resolver: l.stub, Dialer: l.client, RootCAs: l.root.Pool(), Time: l.w.Now,
		VerifyConnection: tc.verify, Policy: tc.policy, OnStep: func(s autodiscover.Step) { seen = append(seen, s) },
	})
	if tc.wantPool != "" {
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
		if got := fmt.Sprintf("%s:%d via %s", res.Pool, res.Port, res.Via); got != tc.wantPool {
			t.Errorf("Discover found %s, want %s", got, tc.wantPool)
		}
	} else if !errors.As(err, tc.wantErr) {
		t.Errorf("Discover: %v, want a %T", err, tc.wantErr)
	}
	var got []string
	for _, s := range res.Steps {
		got = append(got, summary(s))
	}
	if !slices.Equal(got, tc.want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
	}
	if tc.check != nil {
		tc.check(t, res)
	}
	if len(seen) != len(res.Steps) {
		t.Errorf("OnStep saw %d steps, Result has %d", len(seen), len(res.Steps))
	}
}

// frontEnd serves the real service over HTTPS, and over HTTP when plain.
func frontEnd(plain bool) func(t *testing.T, l *lan) {
	return func(t *testing.T, l *lan) {
		serve(t, l.fe, 443, l.root, autodiscover.WebNames("contoso.com"), service(t, "pool01.contoso.com"))
		if plain {
			serve(t, l.fe, 80, nil, nil, service(t, "pool01.contoso.com"))
		}
	}
}

// attackerHTTP serves, on the attacker's port 80, a service linking pool.
func attackerHTTP(pool string) func(t *testing.T, l *lan) {
	return func(t *testing.T, l *lan) { serve(t, l.attack, 80, nil, nil, service(t, pool)) }
}

var notFound = []string{
	"SRV _sipinternaltls._tcp.contoso.com failed: " + noName,
	"SRV _sip._tls.contoso.com failed: " + noName,
	"A sipinternal.contoso.com failed: " + noName,
	"A sip.contoso.com failed: " + noName,
	"A sipexternal.contoso.com failed: " + noName,
}

// TestDiscover runs the chain over netsim against a real DNS server and
// real HTTP(S) servers.
func TestDiscover(t *testing.T) {
	evilPool := "pool.fabrikam.com"
	for _, tc := range []struct {
		desc string
		discoverCase
	}{
		{"HTTPS internal answers first", discoverCase{
			zone: zoneAutodiscover, servers: frontEnd(true), policy: autodiscover.Policy{HTTPSOnly: true},
			want:     []string{httpsIn + " @10.0.0.30:443 cert-ok pool01.contoso.com:5061 accepted: pool in the SIP domain"},
			wantPool: "pool01.contoso.com:5061 via autodiscover",
		}},
		{"the lab's TLS policy refusing the connection fails the HTTPS steps", discoverCase{
			zone: zoneAutodiscover + zoneSRV, servers: frontEnd(false), policy: autodiscover.Policy{HTTPSOnly: true, StrictDNSNaming: true},
			verify: func(cs tls.ConnectionState) error { return errors.New("policy: refused") },
			want: []string{
				httpsIn + " @10.0.0.30:443 cert-rejected failed",
				httpIn + " skipped: HTTPS only",
				httpsOut + " @10.0.0.30:443 cert-rejected failed",
				httpOut + " skipped: HTTPS only",
				"SRV _sipinternaltls._tcp.contoso.com sip.contoso.com:5061 accepted: pool in the SIP domain",
			},
			wantPool: "sip.contoso.com:5061 via SRV",
			check: func(t *testing.T, res *autodiscover.Result) {
				if s := res.Steps[0]; s.Cert.Subject.CommonName != "lyncdiscoverinternal.contoso.com" || !strings.Contains(s.CertErr.Error(), "policy: refused") {
					t.Errorf("first step: cert %q, %v", s.Cert.Subject.CommonName, s.CertErr)
				}
			},
		}},
		{"HTTP internal when HTTPS is not published and HTTP is allowed", discoverCase{
			zone: zoneAutodiscover, servers: func(t *testing.T, l *lan) { serve(t, l.fe, 80, nil, nil, service(t, "pool01.contoso.com")) },
			want: []string{
				httpsIn + " @10.0.0.30:443 failed: refused",
				httpIn + " @10.0.0.30:80 pool01.contoso.com:5061 accepted: pool in the SIP domain",
			},
			wantPool: "pool01.contoso.com:5061 via autodiscover",
		}},
		{"HTTPS only skips the HTTP steps and falls to SRV", discoverCase{
			zone: zoneAutodiscover + zoneSRV, servers: func(t *testing.T, l *lan) { serve(t, l.fe, 80, nil, nil, service(t, "pool01.contoso.com")) },
			policy: autodiscover.Policy{HTTPSOnly: true, StrictDNSNaming: true},
			want: []string{
				httpsIn + " @10.0.0.30:443 failed: refused",
				httpIn + " skipped: HTTPS only",
				httpsOut + " @10.0.0.30:443 failed: refused",
				httpOut + " skipped: HTTPS only",
				"SRV _sipinternaltls._tcp.contoso.com sip.contoso.com:5061 accepted: pool in the SIP domain",
			},
			wantPool: "sip.contoso.com:5061 via SRV",
		}},
		{"a certificate from an untrusted CA fails the step; HTTP then links the attacker's pool, and the user declines", discoverCase{
			zone: zoneAttackerAutodiscover, policy: autodiscover.Policy{DeclinePrompts: true},
			servers: func(t *testing.T, l *lan) {
				serve(t, l.attack, 443, l.rogue, autodiscover.WebNames("contoso.com"), service(t, evilPool))
				attackerHTTP(evilPool)(t, l)
			},
			want: []string{
				httpsIn + " @10.0.0.66:443 cert-rejected failed",
				httpIn + " @10.0.0.66:80 pool.fabrikam.com:5061 offered: pool outside the SIP domain contoso.com",
				"prompt pool.fabrikam.com pool.fabrikam.com:5061 declined: the user declined",
			},
			wantErr: new(*autodiscover.DeclinedError),
			check: func(t *testing.T, res *autodiscover.Result) {
				s := res.Steps[0]
				var unknown x509.UnknownAuthorityError
				if s.Cert.Issuer.CommonName != "Rogue Root" || !errors.As(s.CertErr, &unknown) {
					t.Errorf("first step checked a cert from %q: %v; want Rogue Root's, unknown authority", s.Cert.Issuer.CommonName, s.CertErr)
				}
			},
		}},
		{"the attacker's pool outside the SIP domain: the user accepts", discoverCase{
			zone: zoneAttackerAutodiscover, servers: attackerHTTP(evilPool),
			want: []string{
				httpsIn + " @10.0.0.66:443 failed: refused",
				httpIn + " @10.0.0.66:80 pool.fabrikam.com:5061 offered: pool outside the SIP domain contoso.com",
				"prompt pool.fabrikam.com pool.fabrikam.com:5061 accepted: the user accepted",
			},
			wantPool: "pool.fabrikam.com:5061 via autodiscover",
		}},
		{"the attacker's domain in the Trusted Domain List: not asked", discoverCase{
			zone: zoneAttackerAutodiscover, servers: attackerHTTP(evilPool),
			policy: autodiscover.Policy{DeclinePrompts: true, TrustedDomains: []string{"fabrikam.com"}},
			want: []string{
				httpsIn + " @10.0.0.66:443 failed: refused",
				httpIn + " @10.0.0.66:80 pool.fabrikam.com:5061 offered: pool outside the SIP domain contoso.com",
				"prompt pool.fabrikam.com pool.fabrikam.com:5061 accepted: fabrikam.com is in the Trusted Domain List: not asked",
			},
			wantPool: "pool.fabrikam.com:5061 via autodiscover",
		}},
		{"strict naming refuses an SRV target in the domain that is not sip.<domain>", discoverCase{
			zone:   "_sipinternaltls._tcp IN SRV 0 0 5061 ws042.contoso.com.\n_sip._tls IN SRV 0 0 443 sip.contoso.com.\n",
			policy: autodiscover.Policy{HTTPSOnly: true, StrictDNSNaming: true},
			want: []string{
				httpsIn + " failed: " + noName, httpIn + " skipped: HTTPS only",
				httpsOut + " failed: " + noName, httpOut + " skipped: HTTPS only",
				"SRV _sipinternaltls._tcp.contoso.com ws042.contoso.com:5061 refused: strict DNS naming: the target must be contoso.com or sip.contoso.com",
				"SRV _sip._tls.contoso.com sip.contoso.com:443 accepted: pool in the SIP domain",
			},
			wantPool: "sip.contoso.com:443 via SRV",
		}},
		{"relaxed naming takes the SRV target in a sub-domain", discoverCase{
			zone:   "_sipinternaltls._tcp IN SRV 0 0 5061 sip.evil.contoso.com.\n",
			policy: autodiscover.Policy{HTTPSOnly: true},
			want: []string{
				httpsIn + " failed: " + noName, httpIn + " skipped: HTTPS only",
				httpsOut + " failed: " + noName, httpOut + " skipped: HTTPS only",
				"SRV _sipinternaltls._tcp.contoso.com sip.evil.contoso.com:5061 accepted: pool in the SIP domain",
			},
			wantPool: "sip.evil.contoso.com:5061 via SRV",
		}},
		{"an SRV target outside the domain is not a naming question: the Trusted Domain List decides", discoverCase{
			zone:   "_sipinternaltls._tcp IN SRV 0 0 5061 pool.fabrikam.com.\n",
			policy: autodiscover.Policy{HTTPSOnly: true, StrictDNSNaming: true, TrustedDomains: []string{"fabrikam.com"}},
			want: []string{
				httpsIn + " failed: " + noName, httpIn + " skipped: HTTPS only",
				httpsOut + " failed: " + noName, httpOut + " skipped: HTTPS only",
				"SRV _sipinternaltls._tcp.contoso.com pool.fabrikam.com:5061 offered: pool outside the SIP domain contoso.com",
				"prompt pool.fabrikam.com pool.fabrikam.com:5061 accepted: fabrikam.com is in the Trusted Domain List: not asked",
			},
			wantPool: "pool.fabrikam.com:5061 via SRV",
		}},
		{"A records after SRV: sip.<domain>", discoverCase{
			zone:   "sip IN A 10.0.0.30\n",
			policy: autodiscover.Policy{HTTPSOnly: true},
			want: append([]string{
				httpsIn + " failed: " + noName, httpIn + " skipped: HTTPS only",
				httpsOut + " failed: " + noName, httpOut + " skipped: HTTPS only",
			}, append(notFound[:3:3], "A sip.contoso.com sip.contoso.com:5061 accepted: resolves to 10.0.0.30")...),
			wantPool: "sip.contoso.com:5061 via A",
		}},
		{"nothing anywhere", discoverCase{
			want: append([]string{
				httpsIn + " failed: " + noName, httpIn + " failed: " + noName,
				httpsOut + " failed: " + noName, httpOut + " failed: " + noName,
			}, notFound...),
			wantErr: new(*autodiscover.NotFoundError),
		}},
		{"a pinned pool asks nothing, even with the attacker answering everything", discoverCase{
			zone: zoneAttackerAutodiscover, servers: attackerHTTP(evilPool),
			policy:   autodiscover.Policy{PinnedPool: "pool01.contoso.com"},
			want:     []string{"pinned pool01.contoso.com pool01.contoso.com:5061 accepted: manual server configuration"},
			wantPool: "pool01.contoso.com:5061 via pinned",
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) { testDiscover(t, tc.discoverCase) })
	}
}

func TestNamingAllows(t *testing.T) {
	for _, tc := range []struct {
		target          string
		strict, relaxed bool
	}{
		{"contoso.com", true, true},
		{"sip.contoso.com", true, true},
		{"SIP.Contoso.com.", true, true},
		{"pool01.contoso.com", false, true},
		{"sip.division.contoso.com", false, true},
		{"attacker.contoso.com", false, true},
		{"contoso.com.evil.net", false, false},
		{"evilcontoso.com", false, false},
	} {
		if got := autodiscover.NamingAllows(tc.target, "contoso.com", true); got != tc.strict {
			t.Errorf("strict NamingAllows(%s) = %v", tc.target, got)
		}
		if got := autodiscover.NamingAllows(tc.target, "contoso.com", false); got != tc.relaxed {
			t.Errorf("relaxed NamingAllows(%s) = %v", tc.target, got)
		}
	}
}

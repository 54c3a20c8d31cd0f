package scenarios

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// Each discovery scenario ends as catalogued, for the exact reason: the
// first credited refusal of a held one, every compromise of a broken one.
func TestDiscoveryReasons(t *testing.T) {
	const challenge = `[0-9a-f]{16}`
	credential := `^mallory: obtained alice's credential: the NTLMv2 response of CONTOSO\\alice from ALICE-PC to her server challenge ` +
		challenge + ` verifies with alice's password: crackable offline, relayable$`
	canary := `^mallory: 1 of 1 canary in \d+ B alice sent to her pool at 10\.0\.0\.66$`
	accepted := func(name string) string {
		return `^alice: accepted the attacker as "` + regexp.QuoteMeta(name) + `": completed the TLS 1\.3 handshake with mallory's machine 10\.0\.0\.66:5061, ` +
			`certificate CN=` + regexp.QuoteMeta(name) + ` issued by CN=Public Trust TLS CA,O=Public Trust$`
	}
	const root = "/autodiscover/autodiscoverservice.svc/root"
	for _, tc := range []struct {
		name    string
		service lab.Availability
		refusal string   // the decisive refusal's line, for held
		broken  []string // every compromise line, patterns, for broken
	}{
		{name: "discovery/autodiscover-http-downgrade", service: lab.ServiceIntact,
			refusal: "alice: autodiscover http://lyncdiscoverinternal.contoso.com" + root + ": skipped (HTTPS only)"},
		{name: "discovery/autodiscover-http-downgrade-trusted-domain", service: lab.ServiceDenied,
			broken: []string{accepted(discMalloryPool), credential, canary}},
		{name: "discovery/srv-autoenrolled-workstation", service: lab.ServiceIntact,
			refusal: "alice: autodiscover: SRV _sipinternaltls._tcp.contoso.com: pool mallory-pc.contoso.com:5061 refused " +
				"(strict DNS naming: the target must be contoso.com or sip.contoso.com)"},
		{name: "discovery/srv-subdomain-relaxed-naming", service: lab.ServiceDenied,
			broken: []string{accepted(discSubdomainSIP), credential, canary}},
		{name: "discovery/rogue-dhcp-dns", service: lab.ServiceDenied,
			refusal: "alice: autodiscover https://lyncdiscoverinternal.contoso.com" + root + ": from 10.0.0.66:443, cert lyncdiscoverinternal.contoso.com " +
				"rejected failed (TLS: tls: failed to verify certificate: x509: certificate signed by unknown authority)"},
		{name: "discovery/llmnr-poisoning-fqdn-control", service: lab.ServiceIntact,
			refusal: "alice: name: LLMNR lyncdiscoverinternal.contoso.com: winname: lyncdiscoverinternal.contoso.com not asked on the link: " +
				"LLMNR and NBT-NS are asked only for single-label names"},
		{name: "discovery/wpad-llmnr-proxy-ntlm", service: lab.ServiceIntact, broken: []string{credential, credential}}, // the autodiscover and web services tunnels
		{name: "discovery/wpad-rewrites-http-autodiscover", service: lab.ServiceIntact,
			refusal: "alice: autodiscover http://lyncdiscoverinternal.contoso.com" + root + ": skipped (HTTPS only)"},
		{name: "discovery/rogue-registrar-ntlm", service: lab.ServiceDenied,
			refusal: "alice: ntlm: refused to answer the NTLM demand of sip.contoso.com (10.0.0.66:5060): plaintext SIP: the server is not authenticated"},
	} {
		t.Run(strings.TrimPrefix(tc.name, "discovery/"), func(t *testing.T) {
			t.Parallel()
			s, err := Catalog().Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			res := lab.Runner{}.Run(context.Background(), s)
			if !res.OK || res.Service != tc.service {
				t.Fatalf("%s: %s %v, service %s, want as catalogued with service %s; err %v\n%s",
					tc.name, res.Verdict, res.StoppedBy, res.Service, tc.service, res.Err, strings.Join(res.Evidence, "\n"))
			}
			if tc.refusal != "" {
				i := slices.IndexFunc(res.Refusals, func(r lab.Refusal) bool { return r.Credited })
				if i < 0 || res.Refusals[i].Line != tc.refusal {
					t.Errorf("decisive refusal %+v\nwant %q", res.Refusals, tc.refusal)
				}
			}
			if res.Verdict == lab.Held {
				// Its decisive defense switched off, the outcome changes:
				// another defense decides, or the attack breaks through.
				decisive := res.StoppedBy[0]
				sw, _ := lab.SwitchNamed(decisive)
				flip := lab.Runner{Override: func(d *lab.Defenses) {
					if err := sw.Set(d, "off"); err != nil {
						t.Error(err)
					}
				}}.Run(context.Background(), s)
				if flip.Verdict == lab.Error || flip.Verdict == lab.Held && flip.StoppedBy[0] == decisive {
					t.Errorf("with %s off: %s %v, err %v; want another outcome", decisive, flip.Verdict, flip.StoppedBy, flip.Err)
				}
				t.Logf("with %s off: %s %v, service %s", decisive, flip.Verdict, flip.StoppedBy, flip.Service)
			}
			var got []string
			for _, c := range res.Compromises {
				got = append(got, c.Line)
			}
			if len(got) != len(tc.broken) {
				t.Fatalf("compromises %q, want %d matching %q", got, len(tc.broken), tc.broken)
			}
			for i, pat := range tc.broken {
				if !regexp.MustCompile(pat).MatchString(got[i]) {
					t.Errorf("compromise %d %q does not match %q", i, got[i], pat)
				}
			}
		})
	}
}

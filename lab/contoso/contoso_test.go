package contoso_test

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

func certOf(td lab.TopologyDescription, holder string) (lab.CertificateDescription, bool) {
	for _, c := range td.Certificates {
		if c.Holder == holder {
			return c, true
		}
	}
	return lab.CertificateDescription{}, false
}

func trustOf(td lab.TopologyDescription, prefix string) []string {
	for _, t := range td.Trust {
		if strings.HasPrefix(t.Who, prefix) {
			return t.Roots
		}
	}
	return nil
}

func hostOf(td lab.TopologyDescription, name string) (lab.HostDescription, bool) {
	for _, h := range td.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return lab.HostDescription{}, false
}

func TestContosoDescribe(t *testing.T) {
	d := lab.Hardened()
	td := contoso.Config{}.Describe(d)
	if !reflect.DeepEqual(td, contoso.Config{}.Describe(d)) {
		t.Error("two descriptions of the same config differ")
	}
	var segs []string
	for _, s := range td.Segments {
		segs = append(segs, s.Name+" "+s.Prefix.String())
	}
	if want := []string{"contoso-lan 10.0.0.0/24", "contoso-perimeter 172.16.0.0/24", "internet 203.0.113.0/24", "fabrikam-lan 10.1.0.0/24"}; !slices.Equal(segs, want) {
		t.Errorf("segments %q, want %q", segs, want)
	}
	if r, ok := hostOf(td, "rtr01"); !ok || !r.Router || len(r.NICs) != 3 || r.NICs[2].Addr != netip.MustParsePrefix("203.0.113.1/24") {
		t.Errorf("rtr01 %+v, want a router with NICs on the LAN, the perimeter and the Internet", r)
	}
	if e, ok := hostOf(td, "edge01"); !ok || len(e.NICs) != 2 || e.NICs[1].Addr != netip.MustParsePrefix("203.0.113.10/24") ||
		!slices.Equal(e.Routes, []string{"10.0.0.0/24 via 172.16.0.1"}) || e.Resolver != "203.0.113.53" {
		t.Errorf("edge01 %+v", e)
	}
	if c, _ := certOf(td, "fe01"); c.Issuer != "Contoso Issuing CA 01" || c.Purpose != "server+client" ||
		!slices.Equal(c.Names, []string{"fe01.contoso.com", "pool01.contoso.com"}) || c.Key != "ECDSA P-256" || c.Status != "valid" {
		t.Errorf("fe01's certificate %+v", c)
	}
	if c, _ := certOf(td, "edge01-external"); c.Issuer != "Contoso Issuing CA 01" {
		t.Errorf("partner-CA federation: edge01's external certificate from %q", c.Issuer)
	}
	if roots := trustOf(td, "edge01 (external"); !slices.Contains(roots, "Fabrikam Root CA") {
		t.Errorf("contoso's Edge trusts %q, want Fabrikam's root imported", roots)
	}
	for _, z := range td.Zones {
		if z.Signed {
			t.Errorf("zone %s signed with DNSSEC validation off", z.Origin)
		}
	}

	cfg := contoso.Config{
		Federation:                   contoso.FederationPublicCA,
		ContosoEdgeOmitsFabrikamRoot: true,
		Insiders:                     []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.99")}},
		Revoked:                      []contoso.Revocation{{Cert: "fe02", Reason: pki.ReasonKeyCompromise}},
	}
	d.DNSSECValidation = true
	td = cfg.Describe(d)
	if c, _ := certOf(td, "edge01-external"); c.Issuer != "Public Trust TLS CA" {
		t.Errorf("public-CA federation: edge01's external certificate from %q", c.Issuer)
	}
	if c, _ := certOf(td, "fabrikam-edge01-external"); c.Issuer != "Public Trust TLS CA" {
		t.Errorf("public-CA federation: fabrikam's external certificate from %q", c.Issuer)
	}
	if roots := trustOf(td, "edge01 (external"); slices.Contains(roots, "Fabrikam Root CA") {
		t.Errorf("contoso's Edge trusts %q, want Fabrikam's root left out", roots)
	}
	if c, ok := certOf(td, "fe99"); !ok || c.Issuer != "Contoso Issuing CA 01" || c.Purpose != "server+client" {
		t.Errorf("insider certificate %+v", c)
	}
	if h, ok := hostOf(td, "fe99"); !ok || h.NICs[0].Addr != netip.MustParsePrefix("10.0.0.99/24") {
		t.Errorf("insider host %+v", h)
	}
	if c, _ := certOf(td, "fe02"); c.Status != "revoked at build time, reason keyCompromise" {
		t.Errorf("fe02's certificate status %q", c.Status)
	}
	if !slices.Contains(td.Zones[0].Records, "fe99.contoso.com A 10.0.0.99") || !td.Zones[0].Signed {
		t.Errorf("internal zone %+v", td.Zones[0])
	}
}

func TestContosoInvalid(t *testing.T) {
	tests := []struct {
		cfg  contoso.Config
		want string
	}{
		{contoso.Config{Federation: 7}, "Federation is FederationMode(7)"},
		{contoso.Config{Insiders: []contoso.Insider{{Name: "FE 99", Addr: netip.MustParseAddr("10.0.0.99")}}}, `insider name "FE 99" is not a DNS label`},
		{contoso.Config{Insiders: []contoso.Insider{{Name: "fe01", Addr: netip.MustParseAddr("10.0.0.99")}}}, `insider name "fe01" is already used`},
		{contoso.Config{Insiders: []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.0.0.11")}}}, "fe01 and fe99 both have address 10.0.0.11"},
		{contoso.Config{Insiders: []contoso.Insider{{Name: "fe99", Addr: netip.MustParseAddr("10.9.0.1")}}}, "is not a host address in contoso-lan"},
		{contoso.Config{Revoked: []contoso.Revocation{{Cert: "fe03"}}}, `Revoked names certificate "fe03"; the topology has fe01, fe02,`},
	}
	for _, tt := range tests {
		s := lab.Scenario{Name: "x/invalid", Summary: "s", Expected: lab.Held, Run: func(ctx context.Context, env *lab.Env) error {
			c, err := tt.cfg.Build(ctx, env)
			if err == nil {
				c.Close()
			}
			return err
		}}
		res := lab.Runner{}.Run(context.Background(), s)
		if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) || !strings.HasPrefix(res.Err.Error(), "lab: contoso: ") {
			t.Errorf("Build: %v, want an error containing %q", res.Err, tt.want)
		}
		s.Topology = tt.cfg
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "topology: lab: contoso: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Scenario.Validate: %v, want the topology's error %q", err, tt.want)
		}
		opts := tt.cfg.Describe(lab.Hardened()).Options
		if last := opts[len(opts)-1]; !strings.HasPrefix(last, "INVALID: ") || !strings.Contains(last, tt.want) {
			t.Errorf("Describe's last option %q, want INVALID and %q", last, tt.want)
		}
	}
}

// TestContosoBuild runs alice's three kinds of message under several
// defense sets: every path must work whatever the defenses that do not
// stop legitimate traffic, and Close must leave no goroutine (TestMain).
func TestContosoBuild(t *testing.T) {
	tests := []struct {
		name   string
		change func(*lab.Defenses)
	}{
		{"hardened", nil},
		{"dnssec, static arp, predictable dns", func(d *lab.Defenses) {
			d.DNSSECValidation = true
			d.ARPPolicy = netsim.ARPStaticOnly
			d.DNSRandomization = false
		}},
		{"soft-fail, plaintext allowed, every certificate check off", func(d *lab.Defenses) {
			d.Revocation = pki.RevocationSoftFail
			d.TLSOnly = false
			d.ChainValidation, d.HostnameCheck, d.ValidityCheck = false, false, false
			d.ClientCertRequired, d.TrustedServerList = false, false
			d.FederationAllowList, d.FederationSRVDomainMatch = false, false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			s := lab.Scenario{Name: "x/build", Summary: "s", Expected: lab.Passed, Defenses: tt.change,
				Run: func(ctx context.Context, env *lab.Env) error {
					c, err := contoso.Config{}.Build(ctx, env)
					if err != nil {
						return err
					}
					defer c.Close()
					if c.Host("fe01").Addr() != netip.MustParseAddr("10.0.0.11") || c.Segment("internet") == nil ||
						c.Resolver("alice") == nil || c.Resolver("pki01") != nil || c.CA("attacker") == nil || c.Defenses() != env.Defenses {
						return fmt.Errorf("accessors")
					}
					if addrs, err := c.Resolver("alice").LookupNetIP(ctx, "ip4", "pool01.contoso.com"); err != nil || len(addrs) != 2 {
						return fmt.Errorf("alice resolving the pool: %v %v", addrs, err)
					}
					client, err := c.Client("alice", "alice@contoso.com")
					if err != nil {
						return err
					}
					for _, to := range []string{"dave@contoso.com", "bob@contoso.com", "carol@fabrikam.com"} {
						res, err := client.SendMessage(ctx, to, "hello "+to)
						if err != nil {
							return fmt.Errorf("to %s: %w", to, err)
						}
						got = append(got, fmt.Sprintf("%s %s", to, res.Conn.Transport))
					}
					for host, n := range map[string]int{"fe01": 1, "fe02": 1, "fabrikam-fe01": 1} {
						if len(c.FrontEnd(host).Deliveries()) != n {
							return fmt.Errorf("%s delivered %d", host, len(c.FrontEnd(host).Deliveries()))
						}
					}
					if env.Defenses.Revocation != pki.RevocationOff && len(c.Revocations()) == 0 {
						return fmt.Errorf("no revocation check was made")
					}
					env.Evidence.Delivered("fe01", "delivered the messages")
					return nil
				}}
			res := lab.Runner{}.Run(context.Background(), s)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if want := []string{"dave@contoso.com TLS", "bob@contoso.com TLS", "carol@fabrikam.com TLS"}; !slices.Equal(got, want) {
				t.Errorf("sent %q, want %q", got, want)
			}
		})
	}
}

// TestRunnerDefenses: Env.Defenses is Hardened, then the scenario's
// changes, then the Runner's override.
func TestRunnerDefenses(t *testing.T) {
	var seen lab.Defenses
	s := lab.Scenario{Name: "x/defenses", Summary: "s", Expected: lab.Passed,
		Defenses: func(d *lab.Defenses) { d.TrustedServerList = false; d.TLSOnly = false },
		Run: func(ctx context.Context, env *lab.Env) error {
			seen = env.Defenses
			env.Evidence.Delivered("fe01", "delivered")
			return nil
		},
	}
	r := lab.Runner{Override: func(d *lab.Defenses) { d.TLSOnly = true; d.Revocation = pki.RevocationSoftFail }}
	if res := r.Run(context.Background(), s); res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []string{"revocation: hard-fail -> soft-fail", "trusted-server-list: on -> off"}
	if got := seen.Diff(lab.Hardened()); !slices.Equal(got, want) {
		t.Errorf("Env.Defenses differ from Hardened by %q, want %q", got, want)
	}
	if got := r.Defenses(s); got != seen {
		t.Errorf("Runner.Defenses = %+v, want what Run saw, %+v", got, seen)
	}
	if got := s.DefensesFor().Diff(lab.Hardened()); !slices.Equal(got, []string{"trusted-server-list: on -> off", "tls-only: on -> off"}) {
		t.Errorf("DefensesFor differs by %q", got)
	}
}

package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// Every discovery attack has one position name, distinct from every
// other family's, that names it back, and labels to derive.
func TestFileDiscoveryPositions(t *testing.T) {
	for i, pos := range discoveryPositions {
		a := discoveryAttack(i)
		if pos == "" || a.position() != pos {
			t.Errorf("attack %d: position %q", i, pos)
		}
		if got, ok := discoveryAttackAt(pos); !ok || got != a {
			t.Errorf("discoveryAttackAt(%q) = %d, %v; want %d", pos, got, ok, i)
		}
		if strings.HasPrefix(discoveryParams{attack: a}.attackerText(), "discoveryAttack(") {
			t.Errorf("position %q names no attack discovery.go knows", pos)
		}
		if len(discoveryLabels[a]) == 0 {
			t.Errorf("position %q: no labels", pos)
		}
		n := 0
		for _, p := range filePositions {
			if p == pos {
				n++
			}
		}
		if n != 1 {
			t.Errorf("position %q is in filePositions %d times, want once", pos, n)
		}
	}
	for _, p := range discoveryCatalog {
		if int(p.attack) >= len(discoveryPositions) {
			t.Errorf("%s: attack %d has no position name", p.name, p.attack)
		}
	}
	if _, ok := discoveryAttackAt("arp"); ok {
		t.Error("arp read as a discovery attack")
	}
}

// discovery: sets contoso.Discovery, field by field; without it the
// deployment is the zero one (autodiscover records published over HTTPS
// only, no option 252).
func TestFileDiscoveryDeployment(t *testing.T) {
	for _, c := range []struct {
		deployment string
		want       contoso.Discovery
		insider    bool
	}{
		{"", contoso.Discovery{}, false},
		{"discovery: {autodiscover_records: true}\n", contoso.Discovery{}, false},
		{"discovery: {autodiscover_records: false}\n", contoso.Discovery{NoAutodiscoverRecords: true}, false},
		{"discovery: {autodiscover_http: true}\n", contoso.Discovery{AutodiscoverHTTP: true}, false},
		{"discovery:\n  dhcp_wpad: true\n", contoso.Discovery{DHCPWPAD: true}, false},
		{"discovery: {autodiscover_records: false, autodiscover_http: true, dhcp_wpad: true}\n",
			contoso.Discovery{NoAutodiscoverRecords: true, AutodiscoverHTTP: true, DHCPWPAD: true}, true},
	} {
		pos := "rogue-dhcp"
		if c.insider {
			pos = "srv-on-path" // mallory's workstation is an insider of the topology
		}
		data := "name: training/d\nsummary: x\nattacker:\n  position: " + pos + "\n" + c.deployment + "expected: broken\n"
		s, err := ParseFile("d.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", c.deployment, err)
		}
		cfg, ok := s.Topology.(contoso.Config)
		if !ok || cfg.Discovery == nil {
			t.Fatalf("%q: topology %#v, want a contoso.Config with Discovery", c.deployment, s.Topology)
		}
		if *cfg.Discovery != c.want {
			t.Errorf("%q: Discovery %+v, want %+v", c.deployment, *cfg.Discovery, c.want)
		}
		if got := len(cfg.Insiders) == 1 && cfg.Insiders[0].Name == discMalloryPC; got != c.insider {
			t.Errorf("%q at %s: insiders %+v", c.deployment, pos, cfg.Insiders)
		}
	}
}

// Derived labels count as misconfig what the hardened defenses are not,
// except what a Windows PC has out of the box.
func TestFileDiscoveryLabels(t *testing.T) {
	for _, c := range []struct {
		pos, defenses string
		want          []lab.Label
	}{
		{"wpad-proxy-ntlm", "", []lab.Label{lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS}},
		{"wpad-proxy-ntlm", "  wpad-disabled: off\n  llmnr-nbtns-disabled: off\n  ntlm-verified-servers-only: off\n", []lab.Label{lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS}},
		{"wpad-proxy-ntlm", "  wpad-disabled: off\n  dhcp-snooping: off\n", []lab.Label{lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig}},
		{"responder", "  tls-only: off\n", []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelMisconfig}},
		{"srv-on-path", "", []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI}},
	} {
		data := "name: training/d\nsummary: x\nattacker:\n  position: " + c.pos + "\n"
		if c.defenses != "" {
			data += "defenses:\n" + c.defenses
		}
		s, err := ParseFile("d.yaml", []byte(data+"expected: broken\n"))
		if err != nil {
			t.Fatalf("%s %q: %v", c.pos, c.defenses, err)
		}
		if !slices.Equal(s.Labels, c.want) {
			t.Errorf("%s %q: labels %v, want %v", c.pos, c.defenses, s.Labels, c.want)
		}
	}
}

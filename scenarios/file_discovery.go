package scenarios

import (
	"slices"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The discovery family in a scenario file: alice's Windows PC signs in as
// the client does (DHCP, autodiscover, SRV, LLMNR/NBT-NS, WPAD, NTLM on
// REGISTER), and mallory aims at one step, named by her position
// (discoveryPositions, one per discoveryAttack):
//
//	attacker:
//	  position: srv-on-path        # victim alice, no server
//	discovery:                     # contoso.Discovery; all optional
//	  autodiscover_records: false  # NoAutodiscoverRecords (default true: published)
//	  autodiscover_http: true      # AutodiscoverHTTP (default false)
//	  dhcp_wpad: true              # DHCPWPAD (default false)
//
// What mallory runs, her certificates and alice's recipient are the
// attack's, as the catalog declares them: the attacker mapping takes no
// other key, and hosts:, to: and the other families' root keys are
// refused. The discovery defenses are switches of defenses:.

// fileDiscoveryKeys are the keys of discovery:, in contoso.Discovery's
// order.
var fileDiscoveryKeys = []string{"autodiscover_records", "autodiscover_http", "dhcp_wpad"}

// discoveryLabels are the labels of each attack's scenarios, before
// misconfig: the steps it touches (dns when mallory answers names by
// DNS, tls when alice's TLS checks meet her, pki when her certificate is
// the enterprise's own).
var discoveryLabels = map[discoveryAttack][]lab.Label{
	discAutodiscoverHTTP: {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
	discSRVInsider:       {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI},
	discSRVSubdomain:     {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
	discRogueDHCP:        {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
	discLinkPoison:       {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP},
	discWPADNTLM:         {lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS},
	discWPADRewrite:      {lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS},
	discRogueRegistrar:   {lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
}

// discoveryAttackForm reads the attacker of a discovery position.
func (d *fileDecoder) discoveryAttackForm(top, m *mapping, pos string) (fileAttack, *FileError) {
	attack, _ := discoveryAttackAt(pos) // place() matched pos to familyDiscovery
	what := "position " + pos + " (discovery)"
	for _, k := range m.order {
		if k != "position" {
			return fileAttack{}, d.errAt(m.keys[k], fieldPath(m.path, k), "%s does not use it: what mallory runs and presents is the attack's own; the attacker mapping takes only position", what)
		}
	}
	if err := d.onlyTop(top, what, "discovery"); err != nil {
		return fileAttack{}, err
	}
	deployment, err := d.discoveryDeployment(top)
	if err != nil {
		return fileAttack{}, err
	}
	return fileAttack{discovery: &discoveryParams{attack: attack, deployment: deployment}}, nil
}

// discoveryDeployment reads discovery:, contoso's discovery deployment
// (absent: the zero contoso.Discovery).
func (d *fileDecoder) discoveryDeployment(top *mapping) (contoso.Discovery, *FileError) {
	var out contoso.Discovery
	if !top.has("discovery") {
		return out, nil
	}
	m, err := d.mapping(top.values["discovery"], "discovery", fileDiscoveryKeys)
	if err != nil {
		return out, err
	}
	if len(m.order) == 0 {
		return out, d.errAt(top.keys["discovery"], "discovery", "no change; give one of %s, or leave discovery out", joinComma(fileDiscoveryKeys))
	}
	records, err := d.boolean(m, "autodiscover_records")
	if err != nil {
		return out, err
	}
	out.NoAutodiscoverRecords = m.has("autodiscover_records") && !records
	if out.AutodiscoverHTTP, err = d.boolean(m, "autodiscover_http"); err != nil {
		return out, err
	}
	if out.DHCPWPAD, err = d.boolean(m, "dhcp_wpad"); err != nil {
		return out, err
	}
	return out, nil
}

// discoveryLabelsOf derives the labels of a discovery file that lists
// none: the attack's, then misconfig when the defenses differ from the
// hardened ones other than in what a Windows PC has out of the box
// (windowsDefaults: the catalog does not count those as misconfiguration).
func discoveryLabelsOf(p *discoveryParams, defenses func(*lab.Defenses)) []lab.Label {
	out := slices.Clone(discoveryLabels[p.attack])
	base := lab.Hardened().With(windowsDefaults)
	if len(lab.Hardened().With(defenses, windowsDefaults).Diff(base)) > 0 {
		out = append(out, lab.LabelMisconfig)
	}
	return out
}

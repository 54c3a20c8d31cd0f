package lab

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// DefenseSwitch is one defense switch as people name and set it: `tlslab
// show`, the scenario files' defenses mapping and the matrix columns all
// derive from the one table Switches returns.
type DefenseSwitch struct {
	Name   string   // e.g. "hostname-check", one of the Defense* constants
	Doc    string   // what it means, one line
	Values []string // every value it takes, as Value prints them

	get func(Defenses) string
	set func(*Defenses, string)
}

// Value returns the switch's value in d, e.g. "on", "soft-fail",
// "TLS 1.2".
func (s DefenseSwitch) Value(d Defenses) string { return s.get(d) }

// Set sets the switch in d to value, one of Values; any other value is an
// error listing the valid ones.
func (s DefenseSwitch) Set(d *Defenses, value string) error {
	if !slices.Contains(s.Values, value) {
		return fmt.Errorf("lab: %s cannot be %q; valid: %s", s.Name, value, strings.Join(s.Values, ", "))
	}
	s.set(d, value)
	return nil
}

var onOff = []string{"on", "off"}

// boolSwitch is a switch that is a bool field of Defenses.
func boolSwitch(name, doc string, field func(*Defenses) *bool) DefenseSwitch {
	return DefenseSwitch{Name: name, Doc: doc, Values: onOff,
		get: func(d Defenses) string {
			if *field(&d) {
				return "on"
			}
			return "off"
		},
		set: func(d *Defenses, v string) { *field(d) = v == "on" },
	}
}

// tlsVersions are the values of min-tls-version, by name.
var tlsVersions = map[string]uint16{
	"TLS 1.0": tls.VersionTLS10, "TLS 1.1": tls.VersionTLS11, "TLS 1.2": tls.VersionTLS12, "TLS 1.3": tls.VersionTLS13,
}

// arpPolicies are the values of arp-policy, by name.
var arpPolicies = map[string]netsim.ARPPolicy{
	netsim.ARPAcceptAny.String(): netsim.ARPAcceptAny, netsim.ARPAcceptSolicited.String(): netsim.ARPAcceptSolicited,
	netsim.ARPStaticOnly.String(): netsim.ARPStaticOnly,
}

// Switches returns every defense switch, in the order `tlslab show`
// prints them.
func Switches() []DefenseSwitch {
	return []DefenseSwitch{
		boolSwitch(DefenseChainValidation, "certificates must chain to a trusted root", func(d *Defenses) *bool { return &d.ChainValidation }),
		boolSwitch(DefenseHostnameCheck, "the server certificate must name the host dialled", func(d *Defenses) *bool { return &d.HostnameCheck }),
		boolSwitch(DefenseValidityCheck, "certificates must be inside their validity period", func(d *Defenses) *bool { return &d.ValidityCheck }),
		{Name: DefenseRevocation, Doc: "CRL and OCSP checks (off, soft-fail, hard-fail)",
			Values: []string{pki.RevocationOff.String(), pki.RevocationSoftFail.String(), pki.RevocationHardFail.String()},
			get:    func(d Defenses) string { return d.Revocation.String() },
			set:    func(d *Defenses, v string) { d.Revocation, _ = pki.ParseRevocationMode(v) }},
		boolSwitch(DefenseClientCertRequired, "MTLS servers require a verified client certificate", func(d *Defenses) *bool { return &d.ClientCertRequired }),
		boolSwitch(DefenseTrustedServerList, "MTLS peers must be servers listed in the topology", func(d *Defenses) *bool { return &d.TrustedServerList }),
		boolSwitch(DefenseTLSOnly, "no plaintext SIP fallback", func(d *Defenses) *bool { return &d.TLSOnly }),
		{Name: DefenseMinTLSVersion, Doc: "lowest TLS version accepted",
			Values: []string{"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"},
			get:    func(d Defenses) string { return tls.VersionName(d.MinTLSVersion) },
			set:    func(d *Defenses, v string) { d.MinTLSVersion = tlsVersions[v] }},
		boolSwitch(DefenseForwardSecrecyOnly, "only ECDHE key exchange, no static RSA", func(d *Defenses) *bool { return &d.ForwardSecrecyOnly }),
		boolSwitch(DefenseFederationSRVDomainMatch, "federation SRV targets must lie in the partner domain", func(d *Defenses) *bool { return &d.FederationSRVDomainMatch }),
		boolSwitch(DefenseFederationAllowList, "only allow-listed partners federate", func(d *Defenses) *bool { return &d.FederationAllowList }),
		boolSwitch(DefenseDNSRandomization, "random DNS transaction IDs and source ports", func(d *Defenses) *bool { return &d.DNSRandomization }),
		boolSwitch(DefenseDNSSECValidation, "resolvers validate signed zones", func(d *Defenses) *bool { return &d.DNSSECValidation }),
		{Name: DefenseARPPolicy, Doc: "which ARP messages may change ARP caches",
			Values: []string{netsim.ARPAcceptAny.String(), netsim.ARPAcceptSolicited.String(), netsim.ARPStaticOnly.String()},
			get:    func(d Defenses) string { return d.ARPPolicy.String() },
			set:    func(d *Defenses, v string) { d.ARPPolicy = arpPolicies[v] }},
		boolSwitch(DefenseDistrustList, "roots on the enterprise distrust list are refused even when installed", func(d *Defenses) *bool { return &d.DistrustList }),
		boolSwitch(DefenseAutodiscoverHTTPSOnly, "autodiscover is asked over HTTPS only, never plain HTTP", func(d *Defenses) *bool { return &d.AutodiscoverHTTPSOnly }),
		boolSwitch(DefenseStrictDNSNaming, "an SRV target in the SIP domain must be the domain or sip.<domain>", func(d *Defenses) *bool { return &d.StrictDNSNaming }),
		boolSwitch(DefenseTrustedDomainsEmpty, "the Trusted Domain List is empty: pools outside the SIP domain need consent", func(d *Defenses) *bool { return &d.TrustedDomainsEmpty }),
		boolSwitch(DefenseDeclinePrompts, "the user declines certificate and outside-domain pool prompts", func(d *Defenses) *bool { return &d.DeclinePrompts }),
		boolSwitch(DefenseLLMNRNBTNSDisabled, "clients never ask LLMNR or NBT-NS for a name DNS denied", func(d *Defenses) *bool { return &d.LLMNRNBTNSDisabled }),
		boolSwitch(DefenseLinkSingleLabelOnly, "LLMNR and NBT-NS are asked only for single-label names, never an FQDN", func(d *Defenses) *bool { return &d.LinkSingleLabelOnly }),
		boolSwitch(DefenseWPADDisabled, "clients do not look for a proxy with WPAD", func(d *Defenses) *bool { return &d.WPADDisabled }),
		boolSwitch(DefenseDHCPSnooping, "the access switch drops DHCP offers from ports other than the DHCP server's", func(d *Defenses) *bool { return &d.DHCPSnooping }),
		boolSwitch(DefenseNTLMVerifiedServersOnly, "NTLM is answered only to servers whose certificate verified", func(d *Defenses) *bool { return &d.NTLMVerifiedServersOnly }),
		boolSwitch(DefensePoolPinning, "deployment: the pool is configured by hand, discovery skipped (off by default)", func(d *Defenses) *bool { return &d.PoolPinning }),
	}
}

// SwitchNamed returns the switch called name.
func SwitchNamed(name string) (DefenseSwitch, bool) {
	for _, s := range Switches() {
		if s.Name == name {
			return s, true
		}
	}
	return DefenseSwitch{}, false
}

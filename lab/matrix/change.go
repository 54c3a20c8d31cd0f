package matrix

import (
	"crypto/tls"
	"slices"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Change is one column of the defense matrix: a single switch moved away
// from the hardened defaults. Most columns switch a defense off (or weaken
// it); the two defenses the hardened defaults leave off, DNSSEC validation
// and static ARP, are columns that switch them on.
type Change struct {
	Switch string // the switch's name (lab.Switches): "hostname-check"
	To     string // the value it is changed to, one of the switch's Values: "off", "soft-fail", "TLS 1.0", "on"
	Short  string // a column header for terminals: "name-", "rev:soft", "+dnssec"
	// Strengthens is true for a change that adds a defense the hardened
	// defaults lack, false for one that removes or weakens a defense.
	Strengthens bool
	// StillRefuses is true for a weakening that leaves the switch refusing
	// some attacks, so a held cell of this column may credit it: revocation
	// soft-fail still refuses a certificate reported revoked. A held cell
	// crediting the switch of any other weakening column is a finding (see
	// Result.CreditViolations).
	StillRefuses bool
	// AppliesTo lists the labels of the attacks this switch bears on: the
	// change applies to a scenario carrying any of them. A cell where it
	// does not apply is still run, and shown as not applicable only when
	// its outcome equals the hardened one.
	AppliesTo []lab.Label
}

// Name is the column's name: "hostname-check off".
func (c Change) Name() string { return c.Switch + " " + c.To }

// Apply sets the column's switch to its value in d, through the switch
// table (lab.Switches). A change whose Switch or To the table does not
// know changes nothing; every column of Changes is known.
func (c Change) Apply(d *lab.Defenses) {
	if s, ok := lab.SwitchNamed(c.Switch); ok {
		_ = s.Set(d, c.To)
	}
}

// Applies reports whether the change bears on scenario s (see AppliesTo).
func (c Change) Applies(s lab.Scenario) bool {
	return slices.ContainsFunc(c.AppliesTo, s.HasLabel)
}

// Labels of the attacks each group of switches bears on.
var (
	certificateAttacks = []lab.Label{lab.LabelTLS, lab.LabelMTLS, lab.LabelPKI, lab.LabelRevocation}
	handshakeAttacks   = []lab.Label{lab.LabelTLS, lab.LabelMTLS, lab.LabelEavesdrop}
	discoveryAttacks   = []lab.Label{lab.LabelDiscovery}
)

// Changes returns the matrix's columns after the hardened one, in the
// order of lab.Defenses.Settings: every switch of lab.Hardened() weakened
// on its own (revocation twice: soft-fail and off), then DNSSEC validation
// and static ARP switched on, the distrust list switched off, and last the
// discovery switches: each defense off, and the pool pinned (a deployment
// choice that refuses nothing: it changes what the client asks).
//
// The minimum TLS version is lowered to TLS 1.0, the lowest version the
// lab's TLS stack speaks: nothing an attacker can offer lies below that
// floor, so the column is the switch turned off, and a min-tls-version
// refusal in it (a host that still enforced the hardened floor) is a
// finding. Revocation soft-fail, by contrast, still refuses a certificate
// reported revoked; its column is marked StillRefuses.
func Changes() []Change {
	return []Change{
		{Switch: lab.DefenseChainValidation, To: "off", Short: "chain-", AppliesTo: certificateAttacks},
		{Switch: lab.DefenseHostnameCheck, To: "off", Short: "name-", AppliesTo: certificateAttacks},
		{Switch: lab.DefenseValidityCheck, To: "off", Short: "valid-", AppliesTo: certificateAttacks},
		{Switch: lab.DefenseRevocation, To: pki.RevocationSoftFail.String(), Short: "rev:soft", AppliesTo: certificateAttacks, StillRefuses: true},
		{Switch: lab.DefenseRevocation, To: pki.RevocationOff.String(), Short: "rev:off", AppliesTo: certificateAttacks},
		{Switch: lab.DefenseClientCertRequired, To: "off", Short: "ccert-", AppliesTo: []lab.Label{lab.LabelMTLS}},
		{Switch: lab.DefenseTrustedServerList, To: "off", Short: "tsl-", AppliesTo: []lab.Label{lab.LabelMTLS}},
		{Switch: lab.DefenseTLSOnly, To: "off", Short: "tls-only-", AppliesTo: []lab.Label{lab.LabelTLS, lab.LabelPlaintext, lab.LabelEavesdrop}},
		{Switch: lab.DefenseMinTLSVersion, To: tls.VersionName(tls.VersionTLS10), Short: "tls1.0", AppliesTo: handshakeAttacks},
		{Switch: lab.DefenseForwardSecrecyOnly, To: "off", Short: "fs-", AppliesTo: handshakeAttacks},
		{Switch: lab.DefenseFederationSRVDomainMatch, To: "off", Short: "srv-", AppliesTo: []lab.Label{lab.LabelFederation}},
		{Switch: lab.DefenseFederationAllowList, To: "off", Short: "allow-", AppliesTo: []lab.Label{lab.LabelFederation}},
		{Switch: lab.DefenseDNSRandomization, To: "off", Short: "dnsrand-", AppliesTo: []lab.Label{lab.LabelDNS}},
		{Switch: lab.DefenseDNSSECValidation, To: "on", Short: "+dnssec", Strengthens: true, AppliesTo: []lab.Label{lab.LabelDNS}},
		{Switch: lab.DefenseARPPolicy, To: netsim.ARPStaticOnly.String(), Short: "+arpstatic", Strengthens: true, AppliesTo: []lab.Label{lab.LabelARP}},
		{Switch: lab.DefenseDistrustList, To: "off", Short: "distrust-", AppliesTo: certificateAttacks},
		{Switch: lab.DefenseAutodiscoverHTTPSOnly, To: "off", Short: "https-only-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseStrictDNSNaming, To: "off", Short: "strict-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseTrustedDomainsEmpty, To: "off", Short: "tdl-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseDeclinePrompts, To: "off", Short: "decline-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseLLMNRNBTNSDisabled, To: "off", Short: "+llmnr", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseLinkSingleLabelOnly, To: "off", Short: "+fqdn-link", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseWPADDisabled, To: "off", Short: "+wpad", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseDHCPSnooping, To: "off", Short: "snoop-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefenseNTLMVerifiedServersOnly, To: "off", Short: "ntlm-", AppliesTo: discoveryAttacks},
		{Switch: lab.DefensePoolPinning, To: "on", Short: "+pin", Strengthens: true, AppliesTo: discoveryAttacks},
	}
}

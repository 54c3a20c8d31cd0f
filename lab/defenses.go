package lab

import (
	"crypto/tls"
	"fmt"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// Defenses holds every defense switch of the simulated deployment in one
// place. Hardened returns the configuration the trust model describes; a
// scenario (Scenario.Defenses) or a matrix run turns single switches off.
// Actors never read Defenses themselves: the topology presets translate it
// into tls.Configs, resolver and ARP settings when they build the world.
type Defenses struct {
	// ChainValidation: peers' certificates must chain to a trusted root.
	ChainValidation bool
	// HostnameCheck: a server's certificate must name the host dialled.
	HostnameCheck bool
	// ValidityCheck: certificates must be inside their validity period,
	// judged against the World's clock.
	ValidityCheck bool
	// Revocation: how certificates are checked against CRLs and OCSP.
	Revocation pki.RevocationMode
	// ClientCertRequired: MTLS servers require and verify a client
	// certificate (tls.RequireAndVerifyClientCert).
	ClientCertRequired bool
	// TrustedServerList: an MTLS peer's certificate must name a server
	// listed in the topology, not merely chain to the enterprise CA.
	TrustedServerList bool
	// TLSOnly: clients never fall back to plaintext SIP.
	TLSOnly bool
	// MinTLSVersion is the lowest protocol version clients and servers
	// accept (tls.VersionTLS12 hardened).
	MinTLSVersion uint16
	// ForwardSecrecyOnly: only (EC)DHE key exchange; static RSA key
	// exchange, which a stolen server key decrypts after the fact, is off.
	ForwardSecrecyOnly bool
	// FederationSRVDomainMatch: a federation SRV target must lie inside the
	// partner's domain.
	FederationSRVDomainMatch bool
	// FederationAllowList: only partners on the Edge's allow-list federate.
	FederationAllowList bool
	// DNSRandomization: resolvers use random transaction IDs and source
	// ports.
	DNSRandomization bool
	// DNSSECValidation: resolvers validate answers for signed zones.
	DNSSECValidation bool
	// ARPPolicy is every host's ARP cache policy.
	ARPPolicy netsim.ARPPolicy
	// DistrustList: certificates on the enterprise's distrust list
	// (TLSPolicy.Distrusted) are refused even when a machine trusts them.
	DistrustList bool

	// The discovery defenses: how a Windows client finds its pool and its
	// proxy, and whom it answers with NTLM (see actors/autodiscover,
	// actors/winname, actors/wpad, actors/ntlm).

	// AutodiscoverHTTPSOnly: the client never asks the plain-HTTP
	// autodiscover URLs (http://lyncdiscoverinternal.<domain>, ...).
	AutodiscoverHTTPSOnly bool
	// StrictDNSNaming: an SRV target inside the SIP domain counts only
	// when it is the domain itself or sip.<domain> (the
	// DisableStrictDNSNaming policy not set).
	StrictDNSNaming bool
	// TrustedDomainsEmpty: the client's Trusted Domain List
	// (TrustModelData) is empty, so a pool outside the SIP domain needs
	// the user's consent. Off, the list names the domain the scenario's
	// attacker controls (a lapsed partner domain she registered).
	TrustedDomainsEmpty bool
	// DeclinePrompts: the user declines the client's prompts, for a
	// certificate it cannot verify and for a pool outside the SIP
	// domain. Off, the user clicks "Yes".
	DeclinePrompts bool
	// LLMNRNBTNSDisabled: the client never asks the link (LLMNR,
	// NBT-NS) for a name DNS denied.
	LLMNRNBTNSDisabled bool
	// LinkSingleLabelOnly: when LLMNR or NBT-NS is on, the client asks
	// the link only for single-label names, as Windows does; an FQDN DNS
	// denied is never multicast. Off, FQDNs are asked on the link too.
	LinkSingleLabelOnly bool
	// WPADDisabled: the client does not look for a proxy
	// (automatically detect settings off).
	WPADDisabled bool
	// DHCPSnooping: the access switch drops DHCP server messages from
	// ports other than the DHCP server's.
	DHCPSnooping bool
	// NTLMVerifiedServersOnly: the client answers an NTLM demand only
	// from a server whose certificate it verified: never a plain-HTTP
	// server, a proxy, or a server accepted at a prompt.
	NTLMVerifiedServersOnly bool
	// PoolPinning is a deployment choice rather than a defense: the
	// client's pool is configured by hand and discovery is skipped.
	// Hardened leaves it off, as Skype for Business deployments do.
	PoolPinning bool
}

// Hardened returns the defaults: every protection the trust model claims
// for TLS and MTLS is on, with hard-fail revocation. The network layer is as
// the model assumes an enterprise LAN to be: resolvers randomise IDs and
// ports but do not validate DNSSEC, and ARP caches accept any reply. The
// model does not rely on those two, and scenarios turn them on to show what
// they add. Discovery is hardened as the trust model's DNS claim needs it:
// HTTPS-only autodiscover, strict DNS naming, no trusted outside domain,
// prompts declined, no LLMNR, NBT-NS or WPAD, DHCP snooping, NTLM to
// verified servers only; the pool is discovered, not pinned.
func Hardened() Defenses {
	return Defenses{
		ChainValidation:          true,
		HostnameCheck:            true,
		ValidityCheck:            true,
		Revocation:               pki.RevocationHardFail,
		ClientCertRequired:       true,
		TrustedServerList:        true,
		TLSOnly:                  true,
		MinTLSVersion:            tls.VersionTLS12,
		ForwardSecrecyOnly:       true,
		FederationSRVDomainMatch: true,
		FederationAllowList:      true,
		DNSRandomization:         true,
		DNSSECValidation:         false,
		ARPPolicy:                netsim.ARPAcceptAny,
		DistrustList:             true,
		AutodiscoverHTTPSOnly:    true,
		StrictDNSNaming:          true,
		TrustedDomainsEmpty:      true,
		DeclinePrompts:           true,
		LLMNRNBTNSDisabled:       true,
		LinkSingleLabelOnly:      true,
		WPADDisabled:             true,
		DHCPSnooping:             true,
		NTLMVerifiedServersOnly:  true,
		PoolPinning:              false,
	}
}

// With returns a copy of d changed by each non-nil change, in order. The
// Runner builds a scenario's defenses as Hardened().With(s.Defenses,
// r.Override).
func (d Defenses) With(changes ...func(*Defenses)) Defenses {
	for _, change := range changes {
		if change != nil {
			change(&d)
		}
	}
	return d
}

// DefenseSetting is one switch as shown to people: its name, its value,
// and what it means.
type DefenseSetting struct {
	Name  string
	Value string
	Doc   string
}

// Settings lists the switches in a fixed order (Switches), with their
// values in d, for `tlslab show` and reports.
func (d Defenses) Settings() []DefenseSetting {
	sw := Switches()
	out := make([]DefenseSetting, len(sw))
	for i, s := range sw {
		out[i] = DefenseSetting{Name: s.Name, Value: s.Value(d), Doc: s.Doc}
	}
	return out
}

// Diff lists the switches whose value differs from base, as
// "name: base -> d", in the order of Settings.
func (d Defenses) Diff(base Defenses) []string {
	var out []string
	mine, theirs := d.Settings(), base.Settings()
	for i := range mine {
		if mine[i].Value != theirs[i].Value {
			out = append(out, fmt.Sprintf("%s: %s -> %s", mine[i].Name, theirs[i].Value, mine[i].Value))
		}
	}
	return out
}

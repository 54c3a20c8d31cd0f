package scenarios

import (
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// The discovery family: alice's Windows PC signs in to Skype for Business
// as the client really does (contoso.Deployment.SignIn): DHCP, then the
// autodiscover chain (lyncdiscoverinternal, lyncdiscover, SRV, A records)
// resolved by DNS with the LLMNR and NBT-NS fallbacks Windows has, WPAD
// for a proxy, SIP over TLS with NTLM on REGISTER, and a canary to dave.
// Mallory aims at each step: a DNS answer on the path, her workstation's
// autoenrolled certificate, a rogue DHCP server, Responder on the link, a
// WPAD proxy. Every step alice takes is evidence; the defense switches of
// discovery (autodiscover-https-only, strict-dns-naming,
// trusted-domains-empty, decline-prompts, llmnr-nbtns-disabled,
// link-single-label-only, wpad-disabled, dhcp-snooping,
// ntlm-verified-servers-only, and the pool-pinning deployment switch) are
// what refuse her. A credential counts as obtained only when an NTLMv2
// response she captured verifies with alice's planted password.

// discoveryAttack is where mallory aims.
type discoveryAttack int

const (
	// discAutodiscoverHTTP: on the path, she answers the autodiscover
	// names with her address, where only plain HTTP answers, linking a
	// pool in her own domain.
	discAutodiscoverHTTP discoveryAttack = iota
	// discSRVInsider: on the path, she answers _sipinternaltls._tcp with
	// her workstation, whose autoenrolled enterprise certificate is good
	// for TLS servers.
	discSRVInsider
	// discSRVSubdomain: as discSRVInsider, with a target in a sub-domain
	// delegated to her and a public certificate for it.
	discSRVSubdomain
	// discRogueDHCP: her DHCP server races dns01's and names her DNS
	// server, which sends every name to her.
	discRogueDHCP
	// discLinkPoison: Responder answers every LLMNR and NBT-NS name.
	discLinkPoison
	// discWPADNTLM: Responder answers "wpad" and serves a PAC file naming
	// her proxy, which demands NTLM.
	discWPADNTLM
	// discWPADRewrite: as discWPADNTLM, with an open proxy that refuses
	// HTTPS and answers plain-HTTP autodiscover itself.
	discWPADRewrite
	// discRogueRegistrar: after the rogue DHCP takeover, her registrar
	// demands NTLM of a client that accepted her certificate at a prompt.
	discRogueRegistrar
)

// discoveryParams declares one scenario of the family.
type discoveryParams struct {
	header
	attack discoveryAttack
	// deployment is contoso's discovery deployment (zero: autodiscover
	// published over HTTPS only, no option 252).
	deployment contoso.Discovery
}

// Mallory's machine, names and domain in the family.
const (
	discMalloryPC     = "mallory-pc" // her domain-joined workstation (Config.Insiders)
	discMalloryDomain = "contoso-lync.net"
	discMalloryPool   = "pool." + discMalloryDomain
	discSubdomainSIP  = "sip.lab.contoso.com"
)

var discMalloryAddr = netip.MustParsePrefix("10.0.0.66/24")

// windowsDefaults are the switches a Windows PC has out of the box: LLMNR
// and NBT-NS on, WPAD on, NTLM answered to any intranet server or proxy.
func windowsDefaults(d *lab.Defenses) {
	d.LLMNRNBTNSDisabled, d.WPADDisabled, d.NTLMVerifiedServersOnly = false, false, false
}

var (
	discHTTPDowngrade = discoveryParams{
		header: header{
			name:    "discovery/autodiscover-http-downgrade",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS},
			summary: "mallory answers the autodiscover names with her machine, where only plain HTTP links her pool; the client asks HTTPS only",
			story: "Mallory, on a switch of contoso-lan, answers alice's lookups of lyncdiscoverinternal.contoso.com and " +
				"lyncdiscover.contoso.com with her address 10.0.0.66. There nothing listens on 443, and on port 80 her own " +
				"autodiscover service links the pool " + discMalloryPool + ", in a domain she owns, with a public certificate. " +
				"Alice's client asks autodiscover over HTTPS only: both HTTPS requests fail, the plain-HTTP ones are never " +
				"sent, the chain goes on to SRV and sip.contoso.com, and dave gets the canary.",
			expected: lab.Held, stoppedBy: lab.DefenseAutodiscoverHTTPSOnly,
		},
		attack: discAutodiscoverHTTP,
	}
	discHTTPDowngradeTrusted = discoveryParams{
		header: header{
			name:    "discovery/autodiscover-http-downgrade-trusted-domain",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
			summary: "the HTTP downgrade against a client that falls back to HTTP and trusts the attacker's domain",
			story: "The attack of discovery/autodiscover-http-downgrade against a client that falls back to plain-HTTP " +
				"autodiscover (autodiscover-https-only off) and whose Trusted Domain List names " + discMalloryDomain +
				" (trusted-domains-empty off: a partner domain that lapsed and mallory registered). Alice takes " + discMalloryPool +
				" without asking, verifies its public certificate, answers its NTLM demand and sends it the canary: her " +
				"credential and the message are mallory's.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.AutodiscoverHTTPSOnly, d.TrustedDomainsEmpty = false, false },
		},
		attack: discAutodiscoverHTTP,
	}
	discSRVWorkstation = discoveryParams{
		header: header{
			name:    "discovery/srv-autoenrolled-workstation",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelPKI},
			summary: "mallory answers _sipinternaltls._tcp with her workstation, whose autoenrolled enterprise certificate is good for servers",
			story: "Contoso never published the autodiscover names, so alice's client goes on to SRV. Mallory's workstation " +
				discMalloryPC + ".contoso.com (10.0.0.66) holds a certificate Contoso Issuing CA 01 issued by autoenrolment, " +
				"valid for TLS servers. On a switch of contoso-lan she answers _sipinternaltls._tcp.contoso.com with her " +
				"workstation. Strict DNS naming takes an SRV target inside contoso.com only when it is contoso.com or " +
				"sip.contoso.com: alice refuses it, takes _sip._tls's sip.contoso.com and dave gets the canary. Under " +
				"relaxed naming her certificate passes every check; with the pool pinned, the client never asks SRV.",
			expected: lab.Held, stoppedBy: lab.DefenseStrictDNSNaming,
		},
		attack:     discSRVInsider,
		deployment: contoso.Discovery{NoAutodiscoverRecords: true},
	}
	discSRVSub = discoveryParams{
		header: header{
			name:    "discovery/srv-subdomain-relaxed-naming",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
			summary: "under relaxed DNS naming, an SRV target in a sub-domain mallory controls, with a public certificate, is taken",
			story: "Contoso delegated lab.contoso.com to a team's DNS server, which mallory runs, and set " +
				"DisableStrictDNSNaming (strict-dns-naming off) so that a pool in a sub-domain would do. Mallory got a public " +
				"certificate for " + discSubdomainSIP + " (she answers for the sub-domain) and, on a switch of contoso-lan, " +
				"answers _sipinternaltls._tcp.contoso.com with it. Alice's client takes a target ending in contoso.com, " +
				"verifies the certificate, answers the NTLM demand and sends the canary to mallory.",
			expected: lab.Broken,
			defenses: func(d *lab.Defenses) { d.StrictDNSNaming = false },
		},
		attack:     discSRVSubdomain,
		deployment: contoso.Discovery{NoAutodiscoverRecords: true},
	}
	discRogueDHCPDNS = discoveryParams{
		header: header{
			name:    "discovery/rogue-dhcp-dns",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
			summary: "a rogue DHCP server wins the race and hands alice mallory's DNS; certificate checks refuse her servers",
			story: "Contoso-lan's access switch does no DHCP snooping (dhcp-snooping off). Mallory's DHCP server answers " +
				"alice's DISCOVER before dns01's and offers the same address, with DNS server 10.0.0.66: hers, which answers " +
				"every name with her address. Alice's client meets her autodiscover service and her pool, each with a " +
				"certificate from her own CA, and refuses both: nothing is read, and alice cannot sign in.",
			expected: lab.Held, stoppedBy: lab.DefenseChainValidation,
			defenses: func(d *lab.Defenses) { d.DHCPSnooping = false },
		},
		attack: discRogueDHCP,
	}
	discLinkPoisonControl = discoveryParams{
		header: header{
			name:    "discovery/llmnr-poisoning-fqdn-control",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP},
			summary: "the negative control: Responder on the link never sees the client's FQDN lookups",
			story: "Alice's PC has LLMNR and NBT-NS on, as Windows does by default, and Contoso never published the " +
				"autodiscover names, so DNS denies lyncdiscoverinternal.contoso.com and lyncdiscover.contoso.com. Mallory " +
				"runs Responder on contoso-lan, answering every LLMNR and NBT-NS name with her address. Windows asks the " +
				"link only for single-label names: neither FQDN is multicast, the chain goes on to SRV, and dave gets the " +
				"canary. Whatever the poisoner answers, the discovery chain never asks her.",
			expected: lab.Held, stoppedBy: lab.DefenseLinkSingleLabelOnly,
			defenses: func(d *lab.Defenses) { d.LLMNRNBTNSDisabled = false },
		},
		attack:     discLinkPoison,
		deployment: contoso.Discovery{NoAutodiscoverRecords: true},
	}
	discWPADProxyNTLM = discoveryParams{
		header: header{
			name:    "discovery/wpad-llmnr-proxy-ntlm",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS},
			summary: "Responder answers \"wpad\"; mallory's PAC file sends alice to her proxy, which demands NTLM",
			story: "Alice's PC is as Windows ships it: LLMNR and NBT-NS on, proxy auto-detection on, NTLM answered to any " +
				"intranet proxy. dns01 answers \"wpad\" with no such name (the query block list), so the PC asks the link, and mallory's " +
				"Responder answers. Her PAC file sends every URL to her proxy on 10.0.0.66:8080, which answers alice's " +
				"CONNECT for autodiscover with 407 and NTLM. Alice answers: the NTLMv2 response verifies with her " +
				"password, a credential mallory can crack or relay. The tunnel itself carries TLS to the real Front End, " +
				"and SIP never goes through the proxy: the SIP canary reaches dave unread.",
			expected: lab.Broken,
			defenses: windowsDefaults,
		},
		attack: discWPADNTLM,
	}
	discWPADRewriteHTTP = discoveryParams{
		header: header{
			name:    "discovery/wpad-rewrites-http-autodiscover",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelSIP, lab.LabelTLS},
			summary: "mallory's WPAD proxy refuses HTTPS and answers plain-HTTP autodiscover herself, linking her workstation",
			story: "As in discovery/wpad-llmnr-proxy-ntlm, Responder makes mallory alice's proxy, an open one; this time " +
				"it answers NBT-NS only, after alice's LLMNR query for \"wpad\" went unanswered. Her proxy " +
				"refuses every CONNECT to port 443 and answers plain-HTTP requests itself: autodiscover linking " +
				discMalloryPC + ".contoso.com, whose autoenrolled certificate is good for servers. Alice's client asks " +
				"autodiscover over HTTPS only: the plain-HTTP URLs are never asked, the chain goes on to SRV and " +
				"sip.contoso.com, and dave gets the canary.",
			expected: lab.Held, stoppedBy: lab.DefenseAutodiscoverHTTPSOnly,
			defenses: windowsDefaults,
		},
		attack: discWPADRewrite,
	}
	discRegistrarNTLM = discoveryParams{
		header: header{
			name:    "discovery/rogue-registrar-ntlm",
			labels:  []lab.Label{lab.LabelDiscovery, lab.LabelDNS, lab.LabelSIP, lab.LabelTLS, lab.LabelMisconfig},
			summary: "after a DNS takeover, alice's client falls back to plaintext SIP to mallory's registrar, which demands NTLM",
			story: "The takeover of discovery/rogue-dhcp-dns (no DHCP snooping), against a client allowed to fall back to " +
				"plaintext SIP (tls-only off). Mallory's DNS server answers only the SRV records and sip.contoso.com, " +
				"with her address, where nothing listens on 5061: the client falls back to port 5060, and her registrar " +
				"answers REGISTER with 401 and NTLM. The client answers NTLM only to a server whose certificate it " +
				"verified: it refuses, REGISTER fails, and neither the credential nor the canary leaves.",
			expected: lab.Held, stoppedBy: lab.DefenseNTLMVerifiedServersOnly,
			defenses: func(d *lab.Defenses) { d.DHCPSnooping, d.TLSOnly = false, false },
		},
		attack: discRogueRegistrar,
	}
)

// discoveryCatalog is the family, in catalog order.
var discoveryCatalog = []discoveryParams{
	discHTTPDowngrade, discHTTPDowngradeTrusted, discSRVWorkstation, discSRVSub, discRogueDHCPDNS,
	discLinkPoisonControl, discWPADProxyNTLM, discWPADRewriteHTTP, discRegistrarNTLM,
}

// discoveryFamily returns the family's scenarios.
func discoveryFamily() []lab.Scenario {
	out := make([]lab.Scenario, len(discoveryCatalog))
	for i, p := range discoveryCatalog {
		out[i] = p.scenario()
	}
	return out
}

// scenario declares p as a lab scenario.
func (p discoveryParams) scenario() lab.Scenario {
	return p.header.scenario(p.attackerText(), p.topologyConfig(), p.run)
}

// topologyConfig is the contoso preset with discovery, and mallory's
// workstation for the attacks that need its certificate.
func (p discoveryParams) topologyConfig() contoso.Config {
	d := p.deployment
	cfg := contoso.Config{Discovery: &d}
	if p.attack == discSRVInsider || p.attack == discWPADRewrite {
		cfg.Insiders = []contoso.Insider{{Name: discMalloryPC, Addr: discMalloryAddr.Addr()}}
	}
	return cfg
}

// attackerText says where mallory is and what she runs, for handouts.
func (p discoveryParams) attackerText() string {
	const at = "mallory (10.0.0.66) on contoso-lan"
	switch p.attack {
	case discAutodiscoverHTTP:
		return at + ", on the path to dns01: she answers lyncdiscoverinternal, lyncdiscover and " + discMalloryPool +
			" with her address, serves autodiscover on port 80 linking " + discMalloryPool + " and plays that pool with a public certificate, demanding NTLM"
	case discSRVInsider:
		return at + " as " + discMalloryPC + ".contoso.com with its autoenrolled enterprise certificate, on the path to dns01: she answers _sipinternaltls._tcp.contoso.com with her workstation and plays the pool there, demanding NTLM"
	case discSRVSubdomain:
		return at + ", on the path to dns01: she answers _sipinternaltls._tcp.contoso.com with " + discSubdomainSIP + " and its address with hers, and plays the pool with a public certificate for it, demanding NTLM"
	case discRogueDHCP:
		return at + ": a DHCP server racing dns01's, naming her DNS server, which answers every name with her address; autodiscover on 443 and the pool on 5061 with certificates from her own CA, demanding NTLM"
	case discRogueRegistrar:
		return at + ": a DHCP server racing dns01's, naming her DNS server, which answers the SRV records and sip.contoso.com with her address; a plaintext registrar on 5060 demanding NTLM"
	case discLinkPoison:
		return at + ": Responder, answering every LLMNR and NBT-NS name with her address, and autodiscover on 443 with a certificate from her own CA"
	case discWPADNTLM:
		return at + ": Responder answering every LLMNR and NBT-NS name, a PAC file on port 80 naming her proxy 10.0.0.66:8080, which demands NTLM"
	case discWPADRewrite:
		return at + " as " + discMalloryPC + ".contoso.com: Responder (NBT-NS only), a PAC file naming her open proxy 10.0.0.66:8080, which refuses HTTPS and answers plain-HTTP autodiscover linking her workstation, and the pool there"
	}
	return fmt.Sprintf("discoveryAttack(%d)", int(p.attack))
}

package autodiscover

import "strings"

// Policy is the client's switches. The zero value is the permissive
// client: HTTP fallback on, relaxed naming, no trusted domain, prompts
// accepted, no pinned pool. The lab maps its defenses onto these fields.
type Policy struct {
	// HTTPSOnly skips the plain-HTTP autodiscover URLs (the store and
	// mobile apps' HTTP internal and HTTP external steps).
	HTTPSOnly bool
	// StrictDNSNaming applies Lync's strict naming rule to SRV targets
	// (see NamingAllows). False is the DisableStrictDNSNaming policy set.
	StrictDNSNaming bool
	// TrustedDomains is the Trusted Domain List (the TrustModelData
	// policy): a pool outside the SIP domain in one of these domains (the
	// domain itself or below it) is used without asking the user.
	TrustedDomains []string
	// DeclinePrompts makes the user decline the prompt for a pool outside
	// the SIP domain whose domain is not trusted (hardened); false, the
	// user clicks "Yes".
	DeclinePrompts bool
	// PinnedPool is a manually configured pool ("fqdn" or "fqdn:port",
	// port 5061 by default): discovery is skipped altogether.
	PinnedPool string
}

// InDomain reports whether fqdn is domain or a name below it.
func InDomain(fqdn, domain string) bool {
	f, d := normalize(fqdn), normalize(domain)
	return d != "" && (f == d || strings.HasSuffix(f, "."+d))
}

// NamingAllows reports whether an SRV target inside the SIP domain may be
// used, under strict or relaxed DNS naming. The rule is the text of the
// Lync/Communicator Group Policy "DisableStrictDNSNaming": with strict
// naming (the policy not configured or disabled) the client talks TLS to
// a server found through DNS only if its FQDN is exactly the SIP domain
// or "sip." followed by it (for example.com: example.com or
// sip.example.com), which "prevents a man-in-the-middle: an attacker can
// respond to the DNS lookup with the name of an unauthorized SIP server";
// with the policy enabled (relaxed) any FQDN ending with the SIP domain
// counts (sip.division.example.com, lc.example.com, and also the
// attacker's attacker.example.com). A target outside the SIP domain is not
// decided here: since Lync 2010 the client asks the user unless the
// Trusted Domain List names its domain (see Discover).
func NamingAllows(target, domain string, strict bool) bool {
	t, d := normalize(target), normalize(domain)
	if !strict {
		return InDomain(t, d)
	}
	return t == d || t == "sip."+d
}

// trusted reports whether fqdn is in a domain of the Trusted Domain List,
// and which.
func (p Policy) trusted(fqdn string) (string, bool) {
	for _, d := range p.TrustedDomains {
		if InDomain(fqdn, d) {
			return normalize(d), true
		}
	}
	return "", false
}

package contoso

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
)

// Describe returns the declared world under d: every segment, host, CA,
// certificate, trust store, zone and user Build would create. It implements
// Topology.
func (cfg Config) Describe(d lab.Defenses) lab.TopologyDescription {
	p := cfg.plan()
	td := lab.TopologyDescription{Preset: "contoso"}
	td.Options = cfg.options()
	if err := cfg.Validate(); err != nil {
		td.Options = append(td.Options, "INVALID: "+err.Error())
	}
	for _, s := range p.segments {
		td.Segments = append(td.Segments, lab.SegmentDescription{Name: s.name, Prefix: s.prefix, Doc: s.doc})
	}
	for _, h := range p.hosts {
		hd := lab.HostDescription{Name: h.name, Role: h.role, Router: h.router, Names: h.names, Services: h.services}
		for _, n := range h.nics {
			hd.NICs = append(hd.NICs, lab.NICDescription{Segment: n.seg, Addr: n.addr})
		}
		for _, r := range h.routes {
			if r.dst.Bits() == 0 {
				hd.Routes = append(hd.Routes, "default via "+r.via.String())
			} else {
				hd.Routes = append(hd.Routes, r.dst.String()+" via "+r.via.String())
			}
		}
		if h.resolver.IsValid() {
			hd.Resolver = h.resolver.String()
		}
		td.Hosts = append(td.Hosts, hd)
	}
	for _, c := range p.cas {
		cd := lab.CADescription{Name: c.name, Role: c.role, CRL: c.crl, OCSP: c.ocsp}
		if c.parent != "" {
			cd.Issuer = p.ca(c.parent).name
		}
		td.CAs = append(td.CAs, cd)
	}
	for _, c := range p.certs {
		status := "valid"
		if c.revoked != nil {
			status = "revoked at build time, reason " + c.revoked.String()
		}
		td.Certificates = append(td.Certificates, lab.CertificateDescription{
			Holder: c.key, Names: c.names, Purpose: c.purpose.String(), Key: c.keyType.String(),
			Issuer: p.ca(c.ca).name, Status: status,
		})
	}
	for _, t := range p.trust {
		var roots []string
		for _, k := range t.roots {
			roots = append(roots, p.ca(k).name)
		}
		td.Trust = append(td.Trust, lab.TrustDescription{Who: t.who, Roots: roots, Group: t.group, Members: slices.Clone(t.members)})
	}
	for _, z := range p.zones {
		zd := lab.ZoneDescription{Origin: z.origin, View: z.view, Server: z.server, Signed: d.DNSSECValidation}
		for _, r := range z.recs {
			zd.Records = append(zd.Records, r.text(z.origin))
		}
		td.Zones = append(td.Zones, zd)
	}
	for _, u := range p.users {
		td.Users = append(td.Users, lab.UserDescription{User: u.user, Home: u.home, Host: u.host})
	}
	return td
}

// options says what this config chose, one line each.
func (cfg Config) options() []string {
	var out []string
	switch cfg.Federation {
	case FederationPublicCA:
		out = append(out, "federation: public-ca (both Edges present certificates from Public Trust TLS CA)")
	default:
		out = append(out, fmt.Sprintf("federation: %v (each Edge presents a certificate from its own enterprise issuing CA)", cfg.Federation))
	}
	out = append(out,
		"contoso's Edge imports Fabrikam Root CA: "+yesNo(!cfg.ContosoEdgeOmitsFabrikamRoot),
		"fabrikam's Edge imports Contoso Enterprise Root CA: "+yesNo(!cfg.FabrikamEdgeOmitsContosoRoot))
	for _, org := range sipOrgs() {
		out = append(out, fmt.Sprintf("%s: trusted server list %s; its Edge federates with %s",
			org.domain, strings.Join(org.trustedServers(), ", "), strings.Join(org.partners, ", ")))
	}
	if d := cfg.Discovery; d != nil {
		out = append(out,
			"discovery: autodiscover records lyncdiscoverinternal/lyncdiscover published: "+yesNo(!d.NoAutodiscoverRecords)+
				"; autodiscover over plain HTTP on fe01:80: "+yesNo(d.AutodiscoverHTTP)+"; DHCP option 252 (WPAD URL): "+yesNo(d.DHCPWPAD),
			"discovery: SRV records point at sip.contoso.com; dns01 leases alice's PC 10.0.0.10 by DHCP and answers \"wpad\" with no such name; "+
				"proxy01:8080 demands NTLM; the Front Ends demand NTLM on REGISTER; every user's password is a canary drawn per run")
	}
	for _, in := range cfg.Insiders {
		out = append(out, fmt.Sprintf("insider: %s (%v), enterprise certificate, not in the trusted server list", in.FQDN(), in.Addr))
	}
	for _, r := range cfg.Revoked {
		out = append(out, fmt.Sprintf("revoked before start: certificate of %s, reason %v", r.Cert, r.Reason))
	}
	for _, host := range slices.Sorted(maps.Keys(cfg.RevocationModes)) {
		out = append(out, fmt.Sprintf("revocation checking on %s: %v, whatever the revocation defense says", host, cfg.RevocationModes[host]))
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// text renders a record in zone-file form with its absolute owner name.
func (r zoneRecord) text(origin string) string {
	name := origin
	if r.name != "@" {
		name = r.name + "." + origin
	}
	return strings.Join([]string{name, r.typ, r.data}, " ")
}

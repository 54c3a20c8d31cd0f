package contoso

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/pki"
)

// Discovery declares what a Windows client meets when it finds its pool
// and its proxy on contoso-lan (Config.Discovery): the autodiscover web
// service, DHCP, a web proxy with a PAC file, and NTLM on the proxy and on
// SIP REGISTER. The zero value is a Skype for Business deployment as
// Microsoft documents it for strict DNS naming:
//
//   - autodiscover over HTTPS on fe01 (lyncdiscoverinternal.contoso.com,
//     10.0.0.11:443), whose answer links the user resource on the web
//     services name webint.contoso.com (fe01 too), behind NTLM; and on
//     edge01's external side
//     (lyncdiscover.contoso.com, 203.0.113.10:443), each with a web
//     certificate naming both autodiscover names; no plain HTTP;
//   - SRV _sipinternaltls._tcp and _sip._tls pointing at sip.contoso.com,
//     which the Front Ends' certificates name;
//   - dns01 also the DHCP server, leasing alice's PC its address
//     10.0.0.10 with router 10.0.0.1, DNS 10.0.0.53 and domain contoso.com
//     (leases on the World clock), without option 252;
//   - proxy01 (10.0.0.8, proxy01.contoso.com) a web proxy on :8080 that
//     demands NTLM, serving its PAC file on :80 (/proxy.pac, /wpad.dat);
//     dns01 has no "wpad" record and answers no such name (as the global query block list of
//     Windows DNS servers);
//   - every user's password a credential canary drawn per run, verified
//     by the Front Ends on REGISTER and by the proxy.
type Discovery struct {
	// NoAutodiscoverRecords leaves lyncdiscoverinternal and lyncdiscover
	// out of DNS, as in a deployment that predates them: clients fall
	// through to SRV records.
	NoAutodiscoverRecords bool
	// AutodiscoverHTTP also serves autodiscover over plain HTTP on port
	// 80, which Microsoft documents as a way to avoid a SAN.
	AutodiscoverHTTP bool
	// DHCPWPAD hands out http://proxy01.contoso.com/wpad.dat in DHCP
	// option 252.
	DHCPWPAD bool
}

// Discovery's hosts, names and addresses.
const (
	hostProxy01 = "proxy01"
	// ProxyFQDN is the proxy's name; ProxyPort its port.
	ProxyFQDN = "proxy01.contoso.com"
	ProxyPort = 8080
	// SIPName is the name the SRV records point at, under strict DNS
	// naming.
	SIPName = "sip.contoso.com"
	// WebServicesName is the pool's internal web services FQDN, where the
	// autodiscover answer's user link points (fe01, NTLM).
	WebServicesName = "webint.contoso.com"
	// The web certificates of the autodiscover service.
	certFE01Web   = "fe01-web"
	certEdge01Web = "edge01-web"
)

var (
	ipProxy01 = addr("10.0.0.8")
	// AliceAddr is the address DHCP leases alice's PC.
	AliceAddr = addr("10.0.0.10")
)

// addDiscovery changes the plan for cfg.Discovery.
func (p *contosoPlan) addDiscovery(d Discovery) {
	p.hosts = append(p.hosts, hostPlan{name: hostProxy01, role: "web proxy (NTLM) and PAC file", org: orgContoso,
		nics: []nicPlan{{segContosoLAN, netip.PrefixFrom(ipProxy01, 24)}}, routes: []routePlan{{pfx("0.0.0.0/0"), ipRouterLAN}},
		names: []string{ProxyFQDN}, resolver: ipContosoDNS, services: []string{"HTTP proxy :8080 (NTLM)", "PAC file :80"}})
	if h := p.host(hostDNS01); h != nil {
		h.services = append(h.services, "DHCP :67 (alice's PC 10.0.0.10)")
	}
	if h := p.host(hostFE01); h != nil {
		h.services = append(h.services, "autodiscover HTTPS :443")
		if d.AutodiscoverHTTP {
			h.services = append(h.services, "autodiscover HTTP :80")
		}
	}
	if h := p.host(hostEdge01); h != nil {
		h.services = append(h.services, "autodiscover HTTPS :443 (external)")
	}
	for _, key := range []string{certFE01, certFE02} {
		if c := p.cert(key); c != nil && !slices.Contains(c.names, SIPName) {
			c.names = append(slices.Clone(c.names), SIPName)
		}
	}
	p.certs = append(p.certs,
		certPlan{key: certFE01Web, host: hostFE01, names: append(autodiscover.WebNames(contosoDomain), WebServicesName), purpose: pki.PurposeServer, ca: caContosoIssuing},
		certPlan{key: certEdge01Web, host: hostEdge01, names: autodiscover.WebNames(contosoDomain), purpose: pki.PurposeServer, ca: caPublicIssuing})
	for i := range p.zones {
		z := &p.zones[i]
		if z.origin != contosoDomain {
			continue
		}
		switch z.server {
		case hostDNS01:
			for j, r := range z.recs {
				if r.typ == "SRV" && (r.name == "_sip._tls" || r.name == "_sipinternaltls._tcp") {
					z.recs[j].data = "0 0 5061 " + SIPName + "."
				}
			}
			z.recs = append(z.recs, zoneRecord{hostProxy01, "A", ipProxy01.String()},
				zoneRecord{strings.TrimSuffix(WebServicesName, "."+contosoDomain), "A", ipFE01.String()})
			if !d.NoAutodiscoverRecords {
				z.recs = append(z.recs, zoneRecord{autodiscover.InternalPrefix, "A", ipFE01.String()})
			}
		case hostPublicDNS:
			if !d.NoAutodiscoverRecords {
				z.recs = append(z.recs, zoneRecord{autodiscover.ExternalPrefix, "A", ipEdgeExternal.String()})
			}
		}
	}
}

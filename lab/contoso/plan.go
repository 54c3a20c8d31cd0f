package contoso

import (
	"net/netip"
	"strings"

	"github.com/tlslab/tlslab/actors/pki"
)

// The declared world of the contoso preset. plan() turns a Config
// into these records; Describe prints them and Build realizes them, so the
// world people read is the world that runs.

const (
	contosoLANPrefix = "10.0.0.0/24"

	segContosoLAN = "contoso-lan"
	segPerimeter  = "contoso-perimeter"
	segInternet   = "internet"
	segFabrikam   = "fabrikam-lan"

	orgContoso  = "contoso"
	orgFabrikam = "fabrikam"
	orgInternet = "internet"
)

// Host names of the fixed topology.
const (
	hostRouter        = "rtr01"
	hostAlice         = "alice"
	hostFE01          = "fe01"
	hostFE02          = "fe02"
	hostDNS01         = "dns01"
	hostPKI01         = "pki01"
	hostEdge01        = "edge01"
	hostPKI02         = "pki02"
	hostPublicDNS     = "public-dns"
	hostPublicPKI     = "publictrust-pki"
	hostFabrikamEdge  = "fabrikam-edge01"
	hostFabrikamFE    = "fabrikam-fe01"
	hostFabrikamDNS   = "fabrikam-dns01"
	hostFabrikamPKI01 = "fabrikam-pki01"
	hostFabrikamPKI02 = "fabrikam-pki02"
)

var contosoFixedHosts = []string{
	hostRouter, hostAlice, hostFE01, hostFE02, hostDNS01, hostPKI01, hostEdge01, hostPKI02,
	hostPublicDNS, hostPublicPKI, hostFabrikamEdge, hostFabrikamFE, hostFabrikamDNS, hostFabrikamPKI01, hostFabrikamPKI02,
}

// CA keys and names.
const (
	caContosoRoot     = "contoso-root"
	caContosoIssuing  = "contoso-issuing"
	caFabrikamRoot    = "fabrikam-root"
	caFabrikamIssuing = "fabrikam-issuing"
	caPublicRoot      = "public-root"
	caPublicIssuing   = "public-issuing"
	caAttacker        = "attacker"
)

// Certificate keys (Revocation.Cert, Deployment.Credential): the
// holder's host name, plus "-external" for an Edge's federation side.
const (
	certFE01            = hostFE01
	certFE02            = hostFE02
	certEdge01          = hostEdge01
	certEdge01External  = "edge01-external"
	certFabrikamFE      = hostFabrikamFE
	certFabrikamEdge    = hostFabrikamEdge
	certFabrikamEdgeExt = "fabrikam-edge01-external"
)

// Trust store keys: each organisation's members, and each Edge's
// federation side.
const (
	trustContosoMembers  = "contoso-members"
	trustContosoEdge     = "contoso-federation"
	trustFabrikamMembers = "fabrikam-members"
	trustFabrikamEdge    = "fabrikam-federation"
)

type segPlan struct {
	name   string
	prefix netip.Prefix
	doc    string
}

type nicPlan struct {
	seg  string
	addr netip.Prefix
}

type routePlan struct {
	dst netip.Prefix // 0.0.0.0/0 for the default route
	via netip.Addr
}

type hostPlan struct {
	name     string
	role     string
	org      string
	router   bool
	nics     []nicPlan
	routes   []routePlan
	names    []string   // DNS names leading to it
	resolver netip.Addr // the DNS server it asks; invalid for none
	services []string
	// trust is the key of the trust store its TLS endpoints verify peers
	// with ("" when it verifies nothing).
	trust string
	// publishes are the CAs (keys) whose CRLs and OCSP it serves on :80.
	publishes []string
}

type caPlan struct {
	key, name string
	parent    string // "" for a root
	role      string
	org       string
	crl, ocsp string
}

type certPlan struct {
	key     string // also the holder's name in descriptions
	host    string
	names   []string
	purpose pki.Purpose
	ca      string
	revoked *pki.RevocationReason
	keyType pki.KeyType // Config.KeyTypes; the zero value is pki's default
}

type trustPlan struct {
	key   string
	who   string
	roots []string // CA keys
	// group and members split who for a store several hosts share:
	// "contoso members" and "alice", "fe01", ...; empty otherwise.
	group   string
	members []string
}

type zoneRecord struct {
	name, typ, data string // relative name ("@" for the apex), type, data in zone-file form
}

type zonePlan struct {
	origin string
	view   string
	server string // host name
	recs   []zoneRecord
}

type userPlan struct {
	user, home, host string
}

// contosoPlan is a Config made explicit.
type contosoPlan struct {
	cfg      Config
	segments []segPlan
	hosts    []hostPlan
	cas      []caPlan
	certs    []certPlan
	trust    []trustPlan
	zones    []zonePlan
	users    []userPlan
}

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

// Addresses used in several places.
var (
	ipContosoDNS   = addr("10.0.0.53")
	ipRouterLAN    = addr("10.0.0.1")
	ipRouterPerim  = addr("172.16.0.1")
	ipRouterInet   = addr("203.0.113.1")
	ipEdgeInternal = addr("172.16.0.10")
	ipEdgeExternal = addr("203.0.113.10")
	ipFE01         = addr("10.0.0.11")
	ipFE02         = addr("10.0.0.12")
	ipPublicDNS    = addr("203.0.113.53")
	ipFabrikamDNS  = addr("10.1.0.53")
	ipFabEdgeInt   = addr("10.1.0.5")
	ipFabEdgeExt   = addr("203.0.113.20")
	ipFabrikamFE   = addr("10.1.0.11")
)

func (cfg Config) plan() *contosoPlan {
	p := &contosoPlan{cfg: cfg}
	p.segments = []segPlan{
		{segContosoLAN, pfx(contosoLANPrefix), "Contoso internal LAN"},
		{segPerimeter, pfx("172.16.0.0/24"), "Contoso perimeter network (DMZ)"},
		{segInternet, pfx("203.0.113.0/24"), "the Internet, as one segment"},
		{segFabrikam, pfx("10.1.0.0/24"), "Fabrikam internal LAN (partner)"},
	}
	lan := func(ip string) []nicPlan { return []nicPlan{{segContosoLAN, pfx(ip + "/24")}} }
	inet := func(ip string) []nicPlan { return []nicPlan{{segInternet, pfx(ip + "/24")}} }
	fab := func(ip string) []nicPlan { return []nicPlan{{segFabrikam, pfx(ip + "/24")}} }
	viaRouter := []routePlan{{pfx("0.0.0.0/0"), ipRouterLAN}}
	sipServices := []string{"SIP TLS :5061 (clients)", "SIP MTLS :5062 (servers)"}

	p.hosts = []hostPlan{
		{name: hostRouter, role: "router between the LAN, the perimeter and the Internet", org: orgContoso, router: true,
			nics: []nicPlan{{segContosoLAN, pfx("10.0.0.1/24")}, {segPerimeter, pfx("172.16.0.1/24")}, {segInternet, pfx("203.0.113.1/24")}}},
		{name: hostAlice, role: "alice's PC (SIP client)", org: orgContoso, nics: lan("10.0.0.10"),
			routes: viaRouter, resolver: ipContosoDNS, trust: trustContosoMembers},
		{name: hostFE01, role: "Front End of pool01", org: orgContoso, nics: lan("10.0.0.11"), routes: viaRouter,
			names: []string{"fe01.contoso.com", Pool, "sip.contoso.com (internal CNAME)"}, resolver: ipContosoDNS,
			services: sipServices, trust: trustContosoMembers},
		{name: hostFE02, role: "Front End of pool01", org: orgContoso, nics: lan("10.0.0.12"), routes: viaRouter,
			names: []string{"fe02.contoso.com", Pool}, resolver: ipContosoDNS,
			services: sipServices, trust: trustContosoMembers},
		{name: hostDNS01, role: "internal DNS", org: orgContoso, nics: lan("10.0.0.53"), routes: viaRouter,
			names: []string{"dns01.contoso.com"}, services: []string{"DNS :53 (contoso.com internal view, publictrust.com copy)"}},
		{name: hostPKI01, role: "enterprise PKI: CRL and OCSP of the Contoso CAs", org: orgContoso, nics: lan("10.0.0.80"),
			routes: viaRouter, names: []string{"pki.contoso.com (internal view)"}, services: []string{"HTTP :80 (CRL, OCSP)"},
			publishes: []string{caContosoRoot, caContosoIssuing}},
	}
	for _, in := range cfg.Insiders {
		p.hosts = append(p.hosts, hostPlan{
			name: in.Name, role: "server with an enterprise certificate, not in the topology", org: orgContoso,
			nics: []nicPlan{{segContosoLAN, netip.PrefixFrom(in.Addr, 24)}}, routes: viaRouter,
			names: []string{in.FQDN()}, resolver: ipContosoDNS, trust: trustContosoMembers,
		})
	}
	p.hosts = append(p.hosts,
		hostPlan{name: hostEdge01, role: "Edge server (federation)", org: orgContoso,
			nics:   []nicPlan{{segPerimeter, pfx("172.16.0.10/24")}, {segInternet, pfx("203.0.113.10/24")}},
			routes: []routePlan{{pfx(contosoLANPrefix), ipRouterPerim}},
			names:  []string{"edge01.contoso.com (internal NIC)", "sip.contoso.com (external NIC)"}, resolver: ipPublicDNS,
			services: []string{"SIP MTLS 172.16.0.10:5062 (Front Ends)", "SIP MTLS 203.0.113.10:5061 (federation)"},
			trust:    trustContosoEdge},
		hostPlan{name: hostPKI02, role: "Contoso CRL and OCSP published on the Internet", org: orgContoso, nics: inet("203.0.113.81"),
			names: []string{"pki.contoso.com (public view)"}, services: []string{"HTTP :80 (CRL, OCSP)"},
			publishes: []string{caContosoRoot, caContosoIssuing}},
		hostPlan{name: hostPublicDNS, role: "public DNS", org: orgInternet, nics: inet("203.0.113.53"),
			services: []string{"DNS :53 (contoso.com public view, fabrikam.com, publictrust.com)"}},
		// The public CA's CRL and OCSP must be reachable from everyone who
		// checks its certificates, the enterprise LAN included: it routes
		// its answers to the LAN back through the enterprise router.
		hostPlan{name: hostPublicPKI, role: "public CA: CRL and OCSP", org: orgInternet, nics: inet("203.0.113.90"),
			routes: []routePlan{{pfx(contosoLANPrefix), ipRouterInet}},
			names:  []string{"pki.publictrust.com"}, services: []string{"HTTP :80 (CRL, OCSP)"},
			publishes: []string{caPublicRoot, caPublicIssuing}},
		hostPlan{name: hostFabrikamEdge, role: "Fabrikam Edge server (federation)", org: orgFabrikam,
			nics:  []nicPlan{{segFabrikam, pfx("10.1.0.5/24")}, {segInternet, pfx("203.0.113.20/24")}},
			names: []string{"edge01.fabrikam.com (internal NIC)", "sip.fabrikam.com (external NIC)"}, resolver: ipPublicDNS,
			services: []string{"SIP MTLS 10.1.0.5:5062 (Front Ends)", "SIP MTLS 203.0.113.20:5061 (federation)"},
			trust:    trustFabrikamEdge},
		hostPlan{name: hostFabrikamFE, role: "Fabrikam Front End", org: orgFabrikam, nics: fab("10.1.0.11"),
			names: []string{"fe01.fabrikam.com", "pool01.fabrikam.com"}, resolver: ipFabrikamDNS,
			services: sipServices, trust: trustFabrikamMembers},
		hostPlan{name: hostFabrikamDNS, role: "Fabrikam internal DNS", org: orgFabrikam, nics: fab("10.1.0.53"),
			services: []string{"DNS :53 (fabrikam.com internal view)"}},
		hostPlan{name: hostFabrikamPKI01, role: "Fabrikam PKI: CRL and OCSP", org: orgFabrikam, nics: fab("10.1.0.80"),
			names: []string{"pki.fabrikam.com (internal view)"}, services: []string{"HTTP :80 (CRL, OCSP)"},
			publishes: []string{caFabrikamRoot, caFabrikamIssuing}},
		hostPlan{name: hostFabrikamPKI02, role: "Fabrikam CRL and OCSP published on the Internet", org: orgFabrikam,
			nics: inet("203.0.113.82"), names: []string{"pki.fabrikam.com (public view)"}, services: []string{"HTTP :80 (CRL, OCSP)"},
			publishes: []string{caFabrikamRoot, caFabrikamIssuing}},
	)

	p.cas = []caPlan{
		{caContosoRoot, "Contoso Enterprise Root CA", "", "Contoso enterprise root", orgContoso,
			"http://pki.contoso.com/crl/contoso-root.crl", "http://pki.contoso.com/ocsp"},
		{caContosoIssuing, "Contoso Issuing CA 01", caContosoRoot, "Contoso enterprise issuing CA", orgContoso,
			"http://pki.contoso.com/crl/contoso-issuing.crl", "http://pki.contoso.com/ocsp"},
		{caFabrikamRoot, "Fabrikam Root CA", "", "Fabrikam enterprise root", orgFabrikam,
			"http://pki.fabrikam.com/crl/fabrikam-root.crl", "http://pki.fabrikam.com/ocsp"},
		{caFabrikamIssuing, "Fabrikam Issuing CA", caFabrikamRoot, "Fabrikam enterprise issuing CA", orgFabrikam,
			"http://pki.fabrikam.com/crl/fabrikam-issuing.crl", "http://pki.fabrikam.com/ocsp"},
		{caPublicRoot, "Public Trust Root CA", "", "public CA root, in every trust store", orgInternet,
			"http://pki.publictrust.com/crl/root.crl", "http://pki.publictrust.com/ocsp"},
		{caPublicIssuing, "Public Trust TLS CA", caPublicRoot, "public CA issuing TLS certificates", orgInternet,
			"http://pki.publictrust.com/crl/tls.crl", "http://pki.publictrust.com/ocsp"},
		{caAttacker, "Mallory Root CA", "", "the attacker's own CA, in no trust store the preset builds", orgInternet, "", ""},
	}

	externalCA := map[string]string{orgContoso: caContosoIssuing, orgFabrikam: caFabrikamIssuing}
	if cfg.Federation == FederationPublicCA {
		externalCA = map[string]string{orgContoso: caPublicIssuing, orgFabrikam: caPublicIssuing}
	}
	mtls := pki.PurposeServerClient
	p.certs = []certPlan{
		{key: certFE01, host: hostFE01, names: []string{"fe01.contoso.com", Pool}, purpose: mtls, ca: caContosoIssuing},
		{key: certFE02, host: hostFE02, names: []string{"fe02.contoso.com", Pool}, purpose: mtls, ca: caContosoIssuing},
		{key: certEdge01, host: hostEdge01, names: []string{"edge01.contoso.com"}, purpose: mtls, ca: caContosoIssuing},
		{key: certEdge01External, host: hostEdge01, names: []string{"sip.contoso.com"}, purpose: mtls, ca: externalCA[orgContoso]},
	}
	for _, in := range cfg.Insiders {
		p.certs = append(p.certs, certPlan{key: in.Name, host: in.Name, names: []string{in.FQDN()}, purpose: mtls, ca: caContosoIssuing})
	}
	p.certs = append(p.certs,
		certPlan{key: certFabrikamFE, host: hostFabrikamFE, names: []string{"fe01.fabrikam.com", "pool01.fabrikam.com"}, purpose: mtls, ca: caFabrikamIssuing},
		certPlan{key: certFabrikamEdge, host: hostFabrikamEdge, names: []string{"edge01.fabrikam.com"}, purpose: mtls, ca: caFabrikamIssuing},
		certPlan{key: certFabrikamEdgeExt, host: hostFabrikamEdge, names: []string{"sip.fabrikam.com"}, purpose: mtls, ca: externalCA[orgFabrikam]},
	)
	for i := range p.certs {
		p.certs[i].keyType = cfg.KeyTypes[p.certs[i].key]
	}
	for _, r := range cfg.Revoked {
		for i := range p.certs {
			if p.certs[i].key == r.Cert {
				reason := r.Reason
				p.certs[i].revoked = &reason
			}
		}
	}

	contosoEdge := []string{caContosoRoot, caPublicRoot}
	if !cfg.ContosoEdgeOmitsFabrikamRoot {
		contosoEdge = append(contosoEdge, caFabrikamRoot)
	}
	fabrikamEdge := []string{caFabrikamRoot, caPublicRoot}
	if !cfg.FabrikamEdgeOmitsContosoRoot {
		fabrikamEdge = append(fabrikamEdge, caContosoRoot)
	}
	members := []string{hostAlice, hostFE01, hostFE02, hostEdge01 + " (internal)"}
	for _, in := range cfg.Insiders {
		members = append(members, in.Name)
	}
	fabrikamMembers := []string{hostFabrikamFE, hostFabrikamEdge + " (internal)"}
	p.trust = []trustPlan{
		{key: trustContosoMembers, who: "contoso members: " + strings.Join(members, ", "), roots: []string{caContosoRoot, caPublicRoot},
			group: "contoso members", members: members},
		{key: trustContosoEdge, who: "edge01 (external, federation)", roots: contosoEdge},
		{key: trustFabrikamMembers, who: "fabrikam members: " + strings.Join(fabrikamMembers, ", "), roots: []string{caFabrikamRoot, caPublicRoot},
			group: "fabrikam members", members: fabrikamMembers},
		{key: trustFabrikamEdge, who: "fabrikam-edge01 (external, federation)", roots: fabrikamEdge},
	}

	internal := []zoneRecord{
		{"fe01", "A", "10.0.0.11"},
		{"fe02", "A", "10.0.0.12"},
		{"pool01", "A", "10.0.0.11"},
		{"pool01", "A", "10.0.0.12"},
		{"sip", "CNAME", "pool01.contoso.com."},
		{"edge01", "A", "172.16.0.10"},
		{"dns01", "A", "10.0.0.53"},
		{"pki", "A", "10.0.0.80"},
		{"_sip._tls", "SRV", "0 0 5061 pool01.contoso.com."},
		{"_sipinternaltls._tcp", "SRV", "0 0 5061 pool01.contoso.com."},
	}
	for _, in := range cfg.Insiders {
		internal = append(internal, zoneRecord{in.Name, "A", in.Addr.String()})
	}
	publicTrust := []zoneRecord{{"pki", "A", "203.0.113.90"}}
	p.zones = []zonePlan{
		{contosoDomain, "internal", hostDNS01, internal},
		// dns01 holds a secondary copy of the public CA's zone, so
		// internal hosts resolve its CRL and OCSP host.
		{"publictrust.com", "internal copy", hostDNS01, publicTrust},
		{contosoDomain, "public", hostPublicDNS, []zoneRecord{
			{"sip", "A", "203.0.113.10"},
			{"pki", "A", "203.0.113.81"},
			{"_sipfederationtls._tcp", "SRV", "0 0 5061 sip.contoso.com."},
		}},
		{FabrikamDomain, "public", hostPublicDNS, []zoneRecord{
			{"sip", "A", "203.0.113.20"},
			{"pki", "A", "203.0.113.82"},
			{"_sipfederationtls._tcp", "SRV", "0 0 5061 sip.fabrikam.com."},
		}},
		{"publictrust.com", "public", hostPublicDNS, publicTrust},
		{FabrikamDomain, "internal", hostFabrikamDNS, []zoneRecord{
			{"fe01", "A", "10.1.0.11"},
			{"pool01", "A", "10.1.0.11"},
			{"sip", "CNAME", "pool01.fabrikam.com."},
			{"edge01", "A", "10.1.0.5"},
			{"pki", "A", "10.1.0.80"},
			{"_sip._tls", "SRV", "0 0 5061 pool01.fabrikam.com."},
			{"_sipinternaltls._tcp", "SRV", "0 0 5061 pool01.fabrikam.com."},
		}},
	}

	p.users = []userPlan{
		{"alice@contoso.com", "fe01.contoso.com", hostAlice},
		{"dave@contoso.com", "fe01.contoso.com", ""},
		{"bob@contoso.com", "fe02.contoso.com", ""},
		{"carol@fabrikam.com", "fe01.fabrikam.com", ""},
	}
	if cfg.Discovery != nil {
		p.addDiscovery(*cfg.Discovery)
	}
	return p
}

func (p *contosoPlan) host(name string) *hostPlan {
	for i := range p.hosts {
		if p.hosts[i].name == name {
			return &p.hosts[i]
		}
	}
	return nil
}

func (p *contosoPlan) ca(key string) *caPlan {
	for i := range p.cas {
		if p.cas[i].key == key {
			return &p.cas[i]
		}
	}
	return nil
}

func (p *contosoPlan) cert(key string) *certPlan {
	for i := range p.certs {
		if p.certs[i].key == key {
			return &p.certs[i]
		}
	}
	return nil
}

// homes returns the registrar's homes for one domain.
func (p *contosoPlan) homes(domain string) map[string]string {
	out := map[string]string{}
	for _, u := range p.users {
		if hasDomain(u.user, domain) {
			out[u.user] = u.home
		}
	}
	return out
}

func hasDomain(user, domain string) bool {
	_, d, ok := strings.Cut(user, "@")
	return ok && d == domain
}

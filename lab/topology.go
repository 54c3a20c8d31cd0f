package lab

import "net/netip"

// Topology is a declared world: what a scenario's Run will build, described
// before anything runs. A preset's config (ContosoConfig) implements it, and
// a scenario puts the config it builds from into Scenario.Topology so that
// tlslab show prints exactly the world Run gets.
type Topology interface {
	// Describe returns the declared world for people, as it would be built
	// under d (some choices follow the defenses, e.g. zones are signed only
	// when DNSSEC validation is on). It must not build anything, and two
	// calls with equal defenses return equal descriptions.
	Describe(d Defenses) TopologyDescription
}

// TopologyDescription is a declared world as tlslab show prints it: the
// network (segments, hosts with their NICs, routers), the names DNS gives
// them, and the PKI (which CA issued which certificate, who trusts which
// root).
type TopologyDescription struct {
	// Preset names the topology, "contoso".
	Preset string
	// Options are the choices this scenario made, one line each, e.g.
	// "federation: partner CA (each Edge presents a certificate from its
	// own enterprise CA)".
	Options []string
	// Segments are the Ethernet segments, in creation order.
	Segments []SegmentDescription
	// Hosts are the hosts and routers, in creation order.
	Hosts []HostDescription
	// CAs are the certification authorities, roots before what they sign.
	CAs []CADescription
	// Certificates are the end-entity certificates issued at build time.
	Certificates []CertificateDescription
	// Trust says whose trust store holds which roots.
	Trust []TrustDescription
	// Zones are the DNS zones and the servers that answer for them.
	Zones []ZoneDescription
	// Users are the SIP users and the Front End each is homed on.
	Users []UserDescription
}

// SegmentDescription is one Ethernet segment.
type SegmentDescription struct {
	Name   string
	Prefix netip.Prefix
	Doc    string // what the segment is, "Contoso internal LAN"
}

// HostDescription is one host or router.
type HostDescription struct {
	Name string
	// Role says what runs on it, "Front End (pool01)", "router".
	Role string
	// Router is true for hosts that forward between their NICs.
	Router bool
	NICs   []NICDescription
	// Names are the DNS names that lead to it, "fe01.contoso.com".
	Names []string
	// Routes are its routes beyond the connected subnets, as
	// "10.0.0.0/24 via 172.16.0.1" or "default via 10.0.0.1".
	Routes []string
	// Services are its listeners, "SIP TLS :5061", "DNS :53".
	Services []string
	// Resolver is the DNS server it asks, "10.0.0.53"; "" for none.
	Resolver string
}

// NICDescription is one network interface of a host.
type NICDescription struct {
	Segment string
	Addr    netip.Prefix
}

// CADescription is one certification authority.
type CADescription struct {
	Name string
	// Issuer is the CA that signed its certificate; "" for a root.
	Issuer string
	// Role says whose CA it is, "Contoso enterprise root".
	Role string
	// CRL and OCSP are where what it issues is checked; "" for none.
	CRL, OCSP string
}

// CertificateDescription is one end-entity certificate.
type CertificateDescription struct {
	// Holder is the host (and interface) presenting it, "fe01",
	// "edge01 (external)".
	Holder  string
	Names   []string // DNS subject alternative names
	Purpose string   // "server", "client", "server+client"
	Key     string   // "ECDSA P-256"
	Issuer  string   // the issuing CA's name
	// Status is "valid", or how it was revoked at build time.
	Status string
}

// TrustDescription is one trust store.
type TrustDescription struct {
	// Who holds it, "contoso members (alice, fe01, fe02, edge01 internal)".
	Who   string
	Roots []string
}

// ZoneDescription is one DNS zone on one server.
type ZoneDescription struct {
	Origin string // "contoso.com"
	View   string // "internal", "public"
	Server string // the host answering for it
	// Records are its records in zone-file form, without the SOA.
	Records []string
	// Signed is true when the zone is DNSSEC-signed.
	Signed bool
}

// UserDescription is one SIP user.
type UserDescription struct {
	User string // "alice@contoso.com"
	Home string // the Front End's FQDN
	Host string // where the user's client runs; "" when the user has none
}

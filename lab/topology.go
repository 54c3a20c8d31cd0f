package lab

import (
	"net/netip"
	"slices"
	"strings"
)

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
	// Attacker is true for the attacker's machine, which a scenario adds
	// to the preset's world (see AddHost); tlslab show lists it apart.
	// (Added for scenario changes; presets leave it false.)
	Attacker bool
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
	// Who holds it, "contoso members: alice, fe01, fe02, edge01 (internal)".
	Who   string
	Roots []string
	// Group and Members say the same as Who, in parts, when several hosts
	// share the store: "contoso members" and "alice", "fe01", "fe02",
	// "edge01 (internal)". TrustRoots uses them to give one member a store
	// of its own. Both are empty for a store Who describes alone.
	// (Added for scenario changes.)
	Group   string
	Members []string
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

// A TopologyChange is one change a scenario makes to its preset's world
// when it runs (it attaches the attacker's machine, issues her a
// certificate, installs a root in a victim's trust store, re-keys a
// server), applied to the preset's description so that tlslab show
// prints the world as the scenario builds it. The constructors below
// (AddHost, AddCA, TrustRoots, ...) return changes that are plain values:
// two changes made alike are equal under reflect.DeepEqual.
type TopologyChange interface {
	// Apply edits td in place; it must not keep td or anything in it.
	Apply(td *TopologyDescription)
}

// ChangedTopology declares a scenario's world as Base with Changes made
// in order: its Describe is Base's description with each change applied,
// and it validates as Base does (Base's Validate, if it has one). A
// change must describe what the scenario's Run does, never what it
// expects to happen. Make one with WithChanges.
type ChangedTopology struct {
	Base    Topology
	Changes []TopologyChange
}

// WithChanges returns base with changes (a ChangedTopology), or base
// itself when there is no change.
func WithChanges(base Topology, changes ...TopologyChange) Topology {
	if len(changes) == 0 {
		return base
	}
	return ChangedTopology{Base: base, Changes: slices.Clone(changes)}
}

// Describe implements Topology.
func (c ChangedTopology) Describe(d Defenses) TopologyDescription {
	td := c.Base.Describe(d)
	for _, ch := range c.Changes {
		ch.Apply(&td)
	}
	return td
}

// Validate validates the base topology, when it validates itself.
func (c ChangedTopology) Validate() error {
	if v, ok := c.Base.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// AddOption adds a line to the description's options: a choice the
// scenario made that no other part shows ("fe01's TLS listener on 5061
// is down").
func AddOption(line string) TopologyChange { return addOption{line} }

type addOption struct{ line string }

func (c addOption) Apply(td *TopologyDescription) { td.Options = append(td.Options, c.line) }

// AddHost adds a host (set Attacker for the attacker's machine).
func AddHost(h HostDescription) TopologyChange { return addHost{h} }

type addHost struct{ h HostDescription }

func (c addHost) Apply(td *TopologyDescription) { td.Hosts = append(td.Hosts, c.h) }

// AddRoute adds a route ("10.0.0.11/32 via 10.0.0.66") to the routes of
// the host named host; nothing when there is no such host.
func AddRoute(host, route string) TopologyChange { return addRoute{host, route} }

type addRoute struct{ host, route string }

func (c addRoute) Apply(td *TopologyDescription) {
	for i := range td.Hosts {
		if td.Hosts[i].Name == c.host {
			td.Hosts[i].Routes = append(slices.Clone(td.Hosts[i].Routes), c.route)
		}
	}
}

// SetResolver makes resolver ("10.0.0.66") the DNS server of the host
// named host; nothing when there is no such host.
func SetResolver(host, resolver string) TopologyChange { return setResolver{host, resolver} }

type setResolver struct{ host, resolver string }

func (c setResolver) Apply(td *TopologyDescription) {
	for i := range td.Hosts {
		if td.Hosts[i].Name == c.host {
			td.Hosts[i].Resolver = c.resolver
		}
	}
}

// AddCA adds a certification authority, in place of the one of the same
// name if the description has it (a preset may declare the attacker's CA
// that the scenario creates at run time).
func AddCA(ca CADescription) TopologyChange { return addCA{ca} }

type addCA struct{ ca CADescription }

func (c addCA) Apply(td *TopologyDescription) {
	for i := range td.CAs {
		if td.CAs[i].Name == c.ca.Name {
			td.CAs[i] = c.ca
			return
		}
	}
	td.CAs = append(td.CAs, c.ca)
}

// AddCertificate adds an end-entity certificate the scenario issues or
// uses.
func AddCertificate(cert CertificateDescription) TopologyChange { return addCertificate{cert} }

type addCertificate struct{ cert CertificateDescription }

func (c addCertificate) Apply(td *TopologyDescription) {
	cert := c.cert
	cert.Names = slices.Clone(cert.Names)
	td.Certificates = append(td.Certificates, cert)
}

// CopyCertificate adds, for holder, a copy of the certificate the
// description lists for from (the first one), with status: a stolen
// certificate and key. Nothing when from holds none.
func CopyCertificate(from, holder, status string) TopologyChange {
	return copyCertificate{from, holder, status}
}

type copyCertificate struct{ from, holder, status string }

func (c copyCertificate) Apply(td *TopologyDescription) {
	for _, cert := range td.Certificates {
		if cert.Holder == c.from {
			cert.Holder, cert.Status = c.holder, c.status
			cert.Names = slices.Clone(cert.Names)
			td.Certificates = append(td.Certificates, cert)
			return
		}
	}
}

// TrustRoots gives host a trust store of its own: the roots of the store
// it shares (found by Members), plus roots. who says whose store it is,
// "alice (her client: Mallory Root CA installed)". The shared store loses
// host from its Members and its Who. When no store lists host, the new
// store holds roots alone.
func TrustRoots(host, who string, roots ...string) TopologyChange {
	return trustRoots{host, who, slices.Clone(roots)}
}

type trustRoots struct {
	host, who string
	roots     []string
}

func (c trustRoots) Apply(td *TopologyDescription) {
	var base []string
	for i := range td.Trust {
		t := &td.Trust[i]
		if !slices.Contains(t.Members, c.host) {
			continue
		}
		base = slices.Clone(t.Roots)
		t.Members = slices.DeleteFunc(slices.Clone(t.Members), func(m string) bool { return m == c.host })
		t.Who = t.Group + ": " + strings.Join(t.Members, ", ")
		break
	}
	for _, r := range c.roots {
		if !slices.Contains(base, r) {
			base = append(base, r)
		}
	}
	td.Trust = append(td.Trust, TrustDescription{Who: c.who, Roots: base, Members: []string{c.host}})
}

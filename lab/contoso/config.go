package contoso

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// Config declares the "contoso" topology preset: the enterprise SIP
// deployment of the trust model and its federation partner, as a world to
// build. The zero value is the deployment as the model describes it:
// partner-CA federation in which each Edge imports the other's root, no
// extra servers, nothing revoked.
//
//	contoso-lan 10.0.0.0/24         alice .10, fe01 .11, fe02 .12 (pool01.contoso.com),
//	                                dns01 .53 (internal DNS), pki01 .80 (pki.contoso.com),
//	                                rtr01 .1
//	contoso-perimeter 172.16.0.0/24 rtr01 .1, edge01 .10 (edge01.contoso.com)
//	internet 203.0.113.0/24         edge01 .10 (sip.contoso.com), fabrikam-edge01 .20
//	                                (sip.fabrikam.com), public-dns .53, pki02 .81 (pki.contoso.com
//	                                published), fabrikam-pki02 .82, publictrust-pki .90
//	fabrikam-lan 10.1.0.0/24        fabrikam-edge01 .5, fabrikam-fe01 .11, fabrikam-dns01 .53,
//	                                fabrikam-pki01 .80
//
// Describe returns the whole declared world; Build makes it real on a
// World. A config is a value: copy it and change a field to declare a
// variant.
type Config struct {
	// Federation says who issues the Edges' external certificates (the
	// zero value is FederationPartnerCA).
	Federation FederationMode
	// ContosoEdgeOmitsFabrikamRoot leaves Fabrikam's root out of the trust
	// store contoso's Edge federates with. Default false: it imports it, as
	// partner-CA federation needs.
	ContosoEdgeOmitsFabrikamRoot bool
	// FabrikamEdgeOmitsContosoRoot leaves Contoso's root out of the trust
	// store Fabrikam's Edge federates with. Default false: imported.
	FabrikamEdgeOmitsContosoRoot bool
	// Insiders are extra servers on the Contoso LAN that hold a valid
	// enterprise certificate (server+client, from the issuing CA) but are
	// not in the topology's trusted server list. Build creates their hosts
	// and certificates and starts nothing on them: the scenario decides
	// what they run.
	Insiders []Insider
	// Revoked lists certificates the issuing CA revokes right after
	// issuing them, before any server starts.
	Revoked []Revocation
	// KeyTypes sets, per certificate (named as Revoked names them: "fe01",
	// "edge01-external", ...), the type of the key it is issued with;
	// certificates not listed get pki's default (ECDSA P-256). nil
	// changes nothing.
	KeyTypes map[string]pki.KeyType
	// RevocationModes sets, per host that verifies certificates (alice,
	// fe01, fe02, edge01, fabrikam-edge01, fabrikam-fe01), the revocation
	// mode its checker uses in place of the run's Revocation defense, as
	// a machine configured apart from the enterprise policy would. Hosts
	// not listed follow the defense; nil changes nothing. Build only
	// reads it.
	RevocationModes map[string]pki.RevocationMode
	// Discovery, when not nil, adds what a Windows client's discovery
	// meets: the autodiscover service, DHCP, a proxy with a PAC file and
	// NTLM (see Discovery), and points the SRV records at sip.contoso.com.
	// Nil leaves the preset as it is.
	Discovery *Discovery
	// Timeout bounds each SIP exchange (dial, handshake, request and
	// answer); zero means DefaultTimeout.
	Timeout time.Duration
	// RevocationTimeout bounds each OCSP request and CRL download; zero
	// means DefaultRevocationTimeout.
	RevocationTimeout time.Duration
}

// Defaults for Config's zero fields. They leave room for TCP and DNS to
// recover lost packets on an impaired network (a lost SYN costs 1 s, a
// lost DNS query one 2 s try) while still ending a run whose peer hangs;
// real deployments wait longer (Windows gives an OCSP fetch 15 s, SIP a
// transaction 32 s). The revocation bound is less than the SIP one, since
// a handshake includes a revocation check.
const (
	DefaultTimeout           = 10 * time.Second
	DefaultRevocationTimeout = 5 * time.Second
)

// FederationMode is how federated partners come to trust each other's
// Edge certificates (the two options of the trust model).
type FederationMode int

const (
	// FederationPartnerCA: each Edge presents a certificate from its own
	// enterprise CA, and each partner imports the other's root into its
	// Edge's trust store.
	FederationPartnerCA FederationMode = iota
	// FederationPublicCA: both Edges present certificates from the public
	// CA, which every trust store holds.
	FederationPublicCA
)

// String returns "partner-ca" or "public-ca".
func (m FederationMode) String() string {
	switch m {
	case FederationPartnerCA:
		return "partner-ca"
	case FederationPublicCA:
		return "public-ca"
	}
	return "FederationMode(" + strconv.Itoa(int(m)) + ")"
}

// Insider declares a server on the Contoso LAN with an enterprise
// certificate that the topology does not list (see Config.Insiders).
type Insider struct {
	// Name is the host name and the first label of its FQDN, "fe99": the
	// certificate is for fe99.contoso.com and internal DNS has its A
	// record.
	Name string
	// Addr is its address on contoso-lan (10.0.0.0/24), e.g. 10.0.0.99.
	Addr netip.Addr
}

// FQDN returns the insider's name in contoso.com, "fe99.contoso.com".
func (i Insider) FQDN() string { return i.Name + "." + contosoDomain }

// Revocation declares a certificate revoked at build time.
type Revocation struct {
	// Cert names the certificate by its holder, as Describe lists them:
	// "fe01", "fe02", "edge01", "edge01-external", "fabrikam-fe01",
	// "fabrikam-edge01", "fabrikam-edge01-external", or an insider's name.
	Cert string
	// Reason is the CRL reason; the zero value is unspecified.
	Reason pki.RevocationReason
}

// Names and addresses of the preset that scenarios refer to.
const (
	Domain         = contosoDomain
	FabrikamDomain = "fabrikam.com"
	// ContosoPool is the Front End pool's name, the SRV target clients dial.
	Pool = "pool01.contoso.com"
	// PortSIPTLS is where clients and federated Edges connect (TLS);
	// PortSIPMTLS is where servers accept each other (MTLS), a port
	// Wireshark does not know: decode it with -d tcp.port==5062,tls.
	PortSIPTLS  = 5061
	PortSIPMTLS = 5062
)

const contosoDomain = "contoso.com"

// Validate checks the declaration: a known federation mode, insiders with
// DNS-label names and free host addresses on contoso-lan, revocations
// naming certificates the topology issues. Build refuses an invalid config
// with the same error, and Scenario.Validate calls it for a scenario's
// Topology.
func (cfg Config) Validate() error {
	if cfg.Federation != FederationPartnerCA && cfg.Federation != FederationPublicCA {
		return fmt.Errorf("lab: contoso: Federation is %v; want FederationPartnerCA or FederationPublicCA", cfg.Federation)
	}
	lan := netip.MustParsePrefix(contosoLANPrefix)
	seen := map[string]bool{}
	for _, h := range contosoFixedHosts {
		seen[h] = true
	}
	for _, in := range cfg.Insiders {
		switch {
		case in.Name == "" || !isLabel(in.Name):
			return fmt.Errorf("lab: contoso: insider name %q is not a DNS label such as fe99", in.Name)
		case seen[in.Name]:
			return fmt.Errorf("lab: contoso: insider name %q is already used in the topology", in.Name)
		case !lan.Contains(in.Addr) || in.Addr == lan.Addr() || in.Addr == netip.MustParseAddr("10.0.0.255"):
			return fmt.Errorf("lab: contoso: insider %s address %v is not a host address in contoso-lan %s", in.Name, in.Addr, lan)
		}
		seen[in.Name] = true
	}
	p := cfg.plan()
	for _, r := range cfg.Revoked {
		if p.cert(r.Cert) == nil {
			var keys []string
			for _, c := range p.certs {
				keys = append(keys, c.key)
			}
			return fmt.Errorf("lab: contoso: Revoked names certificate %q; the topology has %s", r.Cert, strings.Join(keys, ", "))
		}
	}
	for _, cert := range slices.Sorted(maps.Keys(cfg.KeyTypes)) {
		if p.cert(cert) == nil {
			return fmt.Errorf("lab: contoso: KeyTypes names certificate %q, which the topology does not have", cert)
		}
	}
	for _, host := range slices.Sorted(maps.Keys(cfg.RevocationModes)) {
		if p.host(host) == nil {
			return fmt.Errorf("lab: contoso: RevocationModes names host %q, which the topology does not have", host)
		}
	}
	addrs := map[netip.Addr]string{}
	for _, h := range p.hosts {
		for _, n := range h.nics {
			if other, dup := addrs[n.addr.Addr()]; dup {
				return fmt.Errorf("lab: contoso: %s and %s both have address %v", other, h.name, n.addr.Addr())
			}
			addrs[n.addr.Addr()] = h.name
		}
	}
	return nil
}

func isLabel(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1
		if !ok {
			return false
		}
	}
	return len(s) <= 63
}

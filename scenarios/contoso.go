package scenarios

import (
	"crypto/tls"
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Names and addresses of the Contoso deployment, as the trust model uses them.
const (
	contosoRootCAName = "Contoso Enterprise Root CA"
	contosoOrg        = "Contoso"
	pool01Name        = "pool01.contoso.com" // the Front End pool alice's client talks to

	// SIP's well-known ports: 5061 for TLS, 5060 for plain TCP. The line
	// protocol standing in for SIP MESSAGE uses them too.
	portTLS   = 5061
	portPlain = 5060
)

var (
	aliceAddr  = netip.MustParsePrefix("10.0.0.10/24")
	pool01Addr = netip.MustParsePrefix("10.0.0.20/24")
)

// officeLAN is Contoso's office LAN: one switched segment "lan" with alice's
// client and the Front End pool01 on it. The segment is attached to the
// scenario's capture.
type officeLAN struct {
	lan    *netsim.Segment
	alice  *netsim.Host
	pool01 *netsim.Host
}

// newOfficeLAN builds the office LAN on env.World.
func newOfficeLAN(env *lab.Env) (*officeLAN, error) {
	w := env.World
	o := &officeLAN{lan: w.NewSegment("lan", netsim.SegmentConfig{})}
	env.Capture(o.lan)
	var err error
	if o.alice, err = lanHost(w, o.lan, "alice", aliceAddr); err != nil {
		return nil, err
	}
	if o.pool01, err = lanHost(w, o.lan, "pool01", pool01Addr); err != nil {
		return nil, err
	}
	return o, nil
}

func lanHost(w *netsim.World, lan *netsim.Segment, name string, addr netip.Prefix) (*netsim.Host, error) {
	h := w.NewHost(name, netsim.HostConfig{})
	if _, err := h.AddNIC(lan, netsim.NICConfig{Addr: addr}); err != nil {
		return nil, fmt.Errorf("scenarios: %s on %s as %s: %w", name, lan.Name(), addr, err)
	}
	return h, nil
}

// contosoPKI is the enterprise CA and the pool's certificate it issued.
type contosoPKI struct {
	root   *pki.CA
	pool01 tls.Certificate
}

// newContosoPKI mints the Contoso Enterprise Root CA at the World's current
// time and issues pool01.contoso.com's server certificate from it.
func newContosoPKI(env *lab.Env) (*contosoPKI, error) {
	root, err := pki.NewRootCA(pki.RootConfig{
		CommonName:   contosoRootCAName,
		Organization: contosoOrg,
		Now:          env.World.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: %s: %w", contosoRootCAName, err)
	}
	cert, err := root.IssueServer(pki.ServerRequest{DNSNames: []string{pool01Name}, Organization: contosoOrg})
	if err != nil {
		return nil, fmt.Errorf("scenarios: issuing %s: %w", pool01Name, err)
	}
	return &contosoPKI{root: root, pool01: cert}, nil
}

// officeLANTopology declares the world newOfficeLAN and newContosoPKI
// build, for tlslab show: the PKI is part of it when TLS is on.
type officeLANTopology struct{}

// Describe implements lab.Topology.
func (officeLANTopology) Describe(d lab.Defenses) lab.TopologyDescription {
	lanPrefix := aliceAddr.Masked()
	td := lab.TopologyDescription{
		Preset:   "office LAN (the eavesdrop family's own)",
		Options:  []string{"one switched segment; the eavesdropper listens on a mirror port of its switch"},
		Segments: []lab.SegmentDescription{{Name: "lan", Prefix: lanPrefix, Doc: "Contoso office LAN"}},
		Hosts: []lab.HostDescription{
			{Name: "alice", Role: "alice's PC (line-message client)", NICs: []lab.NICDescription{{Segment: "lan", Addr: aliceAddr}}},
			{Name: "pool01", Role: "Front End pool (line-message server)", NICs: []lab.NICDescription{{Segment: "lan", Addr: pool01Addr}},
				Names: []string{pool01Name}},
		},
	}
	if d.TLSOnly {
		td.Options = append(td.Options, "TLS 1.3 on port 5061; alice dials pool01.contoso.com by address, without DNS")
		td.Hosts[1].Services = []string{"TLS :5061"}
		td.CAs = []lab.CADescription{{Name: contosoRootCAName, Role: "Contoso enterprise root"}}
		td.Certificates = []lab.CertificateDescription{{
			Holder: "pool01", Names: []string{pool01Name}, Purpose: "server", Key: "ECDSA P-256",
			Issuer: contosoRootCAName, Status: "valid",
		}}
		td.Trust = []lab.TrustDescription{{Who: "alice", Roots: []string{contosoRootCAName}}}
	} else {
		td.Options = append(td.Options, "plain TCP on port 5060")
		td.Hosts[1].Services = []string{"TCP :5060"}
	}
	return td
}

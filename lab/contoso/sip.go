package contoso

import (
	"crypto/x509"
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/actors/sip"
)

// sipOrg is the SIP side of one organisation.
type sipOrg struct {
	domain    string
	frontEnds []feSpec
	edge      edgeSpec
	partners  []string
	members   string // trust plan key of its servers
}

type feSpec struct {
	host, fqdn, pool, cert string
	ip                     netip.Addr
}

type edgeSpec struct {
	host, fqdn, extFQDN, cert, extCert string
	intIP, extIP                       netip.Addr
	federation                         string // trust plan key of its external side
}

func sipOrgs() []sipOrg {
	return []sipOrg{{
		domain: contosoDomain,
		frontEnds: []feSpec{
			{hostFE01, "fe01.contoso.com", Pool, certFE01, ipFE01},
			{hostFE02, "fe02.contoso.com", Pool, certFE02, ipFE02},
		},
		edge: edgeSpec{hostEdge01, "edge01.contoso.com", "sip.contoso.com", certEdge01, certEdge01External,
			ipEdgeInternal, ipEdgeExternal, trustContosoEdge},
		partners: []string{FabrikamDomain},
		members:  trustContosoMembers,
	}, {
		domain:    FabrikamDomain,
		frontEnds: []feSpec{{hostFabrikamFE, "fe01.fabrikam.com", "pool01.fabrikam.com", certFabrikamFE, ipFabrikamFE}},
		edge: edgeSpec{hostFabrikamEdge, "edge01.fabrikam.com", "sip.fabrikam.com", certFabrikamEdge, certFabrikamEdgeExt,
			ipFabEdgeInt, ipFabEdgeExt, trustFabrikamEdge},
		partners: []string{contosoDomain},
		members:  trustFabrikamMembers,
	}}
}

// trustedServers is the organisation's topology: its Front Ends, then its
// Edge's internal FQDN.
func (o sipOrg) trustedServers() []string {
	var out []string
	for _, fe := range o.frontEnds {
		out = append(out, fe.fqdn)
	}
	return append(out, o.edge.fqdn)
}

func hostPort(ip netip.Addr, port int) string {
	return netip.AddrPortFrom(ip, uint16(port)).String()
}

// buildSIP starts every organisation's Front Ends and Edge, configured from
// the plan and the defenses.
func (c *Deployment) buildSIP() error {
	for _, org := range sipOrgs() {
		reg := sip.NewRegistrar(c.plan.homes(org.domain))
		trusted := org.trustedServers()
		peersOf := map[string]string{org.edge.fqdn: hostPort(org.edge.intIP, PortSIPMTLS)}
		edgeFEs := map[string]string{}
		for _, fe := range org.frontEnds {
			peersOf[fe.fqdn] = hostPort(fe.ip, PortSIPMTLS)
			edgeFEs[fe.fqdn] = hostPort(fe.ip, PortSIPMTLS)
		}
		for _, fe := range org.frontEnds {
			peers := map[string]string{}
			for fqdn, a := range peersOf {
				if fqdn != fe.fqdn {
					peers[fqdn] = a
				}
			}
			cred := c.creds[fe.cert]
			cfg := sip.FrontEndConfig{
				FQDN: fe.fqdn, Name: fe.host, Pool: fe.pool, Domain: org.domain, Net: c.hosts[fe.host],
				ClientAddr: hostPort(fe.ip, PortSIPTLS), ClientTLS: c.tls.Server(cred.TLS),
				ServerAddr: hostPort(fe.ip, PortSIPMTLS),
				ServerTLS:  c.tls.MTLS(cred.TLS, c.pools[org.members], c.checker(fe.host)),
				Peers:      peers, Edge: org.edge.fqdn, Registrar: reg,
				TrustedServers: trusted, SkipTrustedServerCheck: !c.d.TrustedServerList,
				Timeout: c.timeout, Now: c.env.World.Now,
			}
			if !c.d.TLSOnly {
				cfg.PlainAddr = hostPort(fe.ip, sip.PortTCP)
			}
			if c.discovery != nil && org.domain == contosoDomain {
				auth, err := c.ntlmServer(c.discovery, fe.host, false)
				if err != nil {
					return err
				}
				cfg.NTLM = auth
			}
			fe, err := sip.NewFrontEnd(cfg)
			if err != nil {
				return fmt.Errorf("lab: contoso: %s: %w", cfg.FQDN, err)
			}
			if err := fe.Start(c.ctx); err != nil {
				return fmt.Errorf("lab: contoso: starting %s: %w", cfg.FQDN, err)
			}
			c.onClose(func() { fe.Close() })
			c.frontEnds[cfg.Name] = fe
		}
		e := org.edge
		checker := c.checker(e.host)
		edge, err := sip.NewEdge(sip.EdgeConfig{
			FQDN: e.fqdn, ExternalFQDN: e.extFQDN, Name: e.host, Domain: org.domain, Net: c.hosts[e.host],
			InternalAddr: hostPort(e.intIP, PortSIPMTLS),
			InternalTLS:  c.tls.MTLS(c.creds[e.cert].TLS, c.pools[org.members], checker),
			ExternalAddr: hostPort(e.extIP, PortSIPTLS),
			ExternalTLS:  c.tls.MTLS(c.creds[e.extCert].TLS, c.pools[e.federation], checker),
			Resolver:     c.resolvers[e.host],
			FrontEnds:    edgeFEs, Registrar: reg,
			TrustedServers: trusted, SkipTrustedServerCheck: !c.d.TrustedServerList,
			Partners: org.partners, AllowAnyPartner: !c.d.FederationAllowList,
			AllowSRVTargetOutsideDomain: !c.d.FederationSRVDomainMatch,
			Timeout:                     c.timeout, Now: c.env.World.Now,
		})
		if err != nil {
			return fmt.Errorf("lab: contoso: %s: %w", e.fqdn, err)
		}
		if err := edge.Start(c.ctx); err != nil {
			return fmt.Errorf("lab: contoso: starting %s: %w", e.fqdn, err)
		}
		c.onClose(func() { edge.Close() })
		c.edges[e.host] = edge
	}
	return nil
}

// FrontEnd returns the Front End on the named host ("fe01", "fe02",
// "fabrikam-fe01"), or nil. Its Deliveries, Relays and Rejections are the
// scenario's observations.
func (c *Deployment) FrontEnd(host string) *sip.FrontEnd { return c.frontEnds[host] }

// Edge returns the Edge on the named host ("edge01", "fabrikam-edge01"),
// or nil.
func (c *Deployment) Edge(host string) *sip.Edge { return c.edges[host] }

// ClientConfig returns the config of a SIP client for user running on the
// named host, as the topology configures its clients: the host's resolver
// and trust store, the defenses' TLS client config with the host's
// revocation checker, plaintext fallback only when TLSOnly is off.
// extraRoots are added to a copy of the host's trust store (a root someone
// installed on that machine); they go through the TLS policy, so every
// check uses them, crypto/tls's and the lab's own when a switch is off.
// The caller may change the config before sip.NewClient, but must not
// swap its RootCAs: the lab's checks would not see the new pool.
func (c *Deployment) ClientConfig(host, user string, extraRoots ...*x509.Certificate) (sip.ClientConfig, error) {
	h, _, err := c.hostOf(host)
	if err != nil {
		return sip.ClientConfig{}, err
	}
	r := c.resolvers[host]
	if r == nil {
		return sip.ClientConfig{}, fmt.Errorf("lab: contoso: host %s has no resolver to find a pool with", host)
	}
	roots, err := c.Roots(host)
	if err != nil {
		return sip.ClientConfig{}, err
	}
	if len(extraRoots) > 0 {
		roots = roots.Clone()
		for _, r := range extraRoots {
			roots.AddCert(r)
		}
	}
	return sip.ClientConfig{
		User: user, Resolver: r, Dialer: h,
		TLS:                    c.tls.Client(roots, c.checker(host)),
		AllowPlaintextFallback: !c.d.TLSOnly,
		Timeout:                c.timeout, Now: c.env.World.Now,
	}, nil
}

// Client returns a SIP client for user on the named host, configured as
// ClientConfig says: Client("alice", "alice@contoso.com") is alice on her PC.
func (c *Deployment) Client(host, user string) (*sip.Client, error) {
	cfg, err := c.ClientConfig(host, user)
	if err != nil {
		return nil, err
	}
	return sip.NewClient(cfg)
}

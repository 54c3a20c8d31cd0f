package contoso

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"strings"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/lab"
)

// buildDNS builds the zones (signed when DNSSEC validation is on), starts
// one authoritative server per DNS host on UDP and TCP port 53, and gives
// every host that resolves names a stub resolver with the defenses' TXID
// and source-port policies and, with DNSSEC validation on, the trust
// anchors of the zones its server answers for.
func (c *Deployment) buildDNS() error {
	zones := map[string][]*dns.Zone{} // server host -> zones
	anchors := map[string][]miekg.RR{}
	var order []string
	for _, zp := range c.plan.zones {
		var text strings.Builder
		for _, r := range zp.recs {
			fmt.Fprintf(&text, "%s IN %s %s\n", r.name, r.typ, r.data)
		}
		z, err := dns.ParseZone(zp.origin, text.String())
		if err != nil {
			return fmt.Errorf("lab: contoso: %s zone %s: %w", zp.view, zp.origin, err)
		}
		if c.d.DNSSECValidation {
			if err := z.Sign(dns.SignConfig{Now: c.env.World.Now}); err != nil {
				return fmt.Errorf("lab: contoso: signing %s zone %s: %w", zp.view, zp.origin, err)
			}
			anchors[zp.server] = append(anchors[zp.server], z.DS())
		}
		if _, ok := zones[zp.server]; !ok {
			order = append(order, zp.server)
		}
		zones[zp.server] = append(zones[zp.server], z)
	}
	serverAt := map[netip.Addr]string{}
	for _, name := range order {
		if err := c.serveDNS(name, zones[name]); err != nil {
			return err
		}
		for _, n := range c.plan.host(name).nics {
			serverAt[n.addr.Addr()] = name
		}
	}
	txid, port := resolverPolicies(c.d)
	for _, hp := range c.plan.hosts {
		if !hp.resolver.IsValid() {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(hp.name))
		r, err := dns.NewResolver(dns.ResolverConfig{
			Net:          c.hosts[hp.name],
			Servers:      []netip.AddrPort{netip.AddrPortFrom(hp.resolver, 53)},
			TXID:         txid,
			SourcePort:   port,
			Rand:         rand.NewPCG(c.env.World.Seed(), h.Sum64()),
			TrustAnchors: anchors[serverAt[hp.resolver]],
		})
		if err != nil {
			return fmt.Errorf("lab: contoso: %s's resolver: %w", hp.name, err)
		}
		c.resolvers[hp.name] = r
		c.anchors[hp.name] = anchors[serverAt[hp.resolver]]
	}
	return nil
}

// serveDNS runs an authoritative server for zones on the named host.
func (c *Deployment) serveDNS(name string, zones []*dns.Zone) error {
	srv, err := dns.NewServer(dns.ServerConfig{Zones: zones})
	if err != nil {
		return fmt.Errorf("lab: contoso: %s: %w", name, err)
	}
	h := c.hosts[name]
	pc, err := h.ListenPacket("udp", ":53")
	if err != nil {
		return fmt.Errorf("lab: contoso: %s listening on udp :53: %w", name, err)
	}
	l, err := h.Listen("tcp", ":53")
	if err != nil {
		pc.Close()
		return fmt.Errorf("lab: contoso: %s listening on tcp :53: %w", name, err)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, pc, l) // until Close, or the World closes the sockets
	}()
	c.onClose(func() {
		cancel()
		<-done
	})
	return nil
}

// Resolver returns the named host's stub resolver, or nil for a host that
// resolves no names. Contoso's internal hosts ask dns01, its Edge and
// Fabrikam's ask public-dns, Fabrikam's internal hosts fabrikam-dns01.
func (c *Deployment) Resolver(host string) *dns.Resolver { return c.resolvers[host] }

// resolverPolicies maps the DNS randomisation switch onto the resolver's
// TXID and source-port policies.
func resolverPolicies(d lab.Defenses) (dns.TXIDPolicy, dns.PortPolicy) {
	if d.DNSRandomization {
		return dns.RandomTXID, dns.RandomSourcePort
	}
	return dns.SequentialTXID, dns.FixedSourcePort
}

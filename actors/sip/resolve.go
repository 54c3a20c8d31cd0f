package sip

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
)

// Resolver finds servers by name. *net.Resolver satisfies it, and so does
// the lab's DNS resolver, so name resolution (and its attacks) is injected.
// Implementations must be safe for concurrent use.
type Resolver interface {
	// LookupNetIP looks up host's addresses; network is "ip4" here.
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	// LookupSRV looks up _service._proto.name, as net.Resolver.LookupSRV.
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// Dialer opens stream connections. *netsim.Host and *net.Dialer satisfy it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Network is where a server lives: it listens and dials. *netsim.Host
// satisfies it; the package never opens a real socket on its own.
type Network interface {
	Dialer
	Listen(network, address string) (net.Listener, error)
}

var (
	_ Resolver = (*net.Resolver)(nil)
	_ Dialer   = (*net.Dialer)(nil)
)

// SRV services the package looks up.
const (
	// srvClientTLS is "_sip._tls.<domain>": the pool for TLS clients.
	srvClientTLS = "sip"
	// srvInternalTLS is "_sipinternaltls._tcp.<domain>": the internal pool.
	srvInternalTLS = "sipinternaltls"
	// srvFederation is "_sipfederationtls._tcp.<domain>": a partner's Edge.
	srvFederation = "sipfederationtls"
)

// Default ports.
const (
	// PortTLS is SIP over TLS (clients to their pool, partners' Edges).
	PortTLS = 5061
	// PortTCP is plaintext SIP.
	PortTCP = 5060
)

// srvName is the DNS name of an SRV record.
func srvName(service, proto, domain string) string {
	return "_" + service + "._" + proto + "." + normalizeHost(domain)
}

// srvTarget is one server named by an SRV record.
type srvTarget struct {
	record string // "_sip._tls.contoso.com"
	name   string // "pool01.contoso.com", no trailing dot
	port   uint16
}

// lookupSRV resolves an SRV record into targets ordered by priority, then
// by weight (highest first) — deterministically, without RFC 2782's random
// weighting, so scenarios replay. A lookup that returns no records fails
// with a *net.DNSError that is IsNotFound.
func lookupSRV(ctx context.Context, r Resolver, service, proto, domain string) ([]srvTarget, error) {
	record := srvName(service, proto, domain)
	_, srvs, err := r.LookupSRV(ctx, service, proto, normalizeHost(domain))
	if err != nil {
		return nil, err
	}
	if len(srvs) == 0 {
		return nil, &net.DNSError{Err: "no SRV records", Name: record, IsNotFound: true}
	}
	srvs = slices.Clone(srvs)
	slices.SortStableFunc(srvs, func(a, b *net.SRV) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(b.Weight, a.Weight)
	})
	targets := make([]srvTarget, 0, len(srvs))
	for _, s := range srvs {
		targets = append(targets, srvTarget{record: record, name: normalizeHost(s.Target), port: s.Port})
	}
	return targets, nil
}

// lookupAddr resolves host to its first IPv4 address.
func lookupAddr(ctx context.Context, r Resolver, host string) (netip.Addr, error) {
	addrs, err := r.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			return a, nil
		}
	}
	return netip.Addr{}, &net.DNSError{Err: "no IPv4 address", Name: host, IsNotFound: true}
}

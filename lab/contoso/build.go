package contoso

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Deployment is a running contoso topology: the hosts and segments on the
// Env's World, the CAs and what they issued, the DNS and PKI servers, and
// the SIP servers, all started. Scenarios reach into it through its
// accessors to add attackers, build clients and read what the servers
// recorded. Its methods are safe for concurrent use; Close stops everything
// Build started.
type Deployment struct {
	plan *contosoPlan
	env  *lab.Env
	d    lab.Defenses
	tls  lab.TLSPolicy

	timeout    time.Duration
	revTimeout time.Duration
	// revModes overrides d.Revocation per host (Config.RevocationModes).
	revModes map[string]pki.RevocationMode

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	segments  map[string]*netsim.Segment
	hosts     map[string]*netsim.Host
	cas       map[string]*pki.CA
	creds     map[string]pki.Credential
	pools     map[string]*x509.CertPool // trust plan key -> roots
	resolvers map[string]*dns.Resolver  // host -> its stub resolver
	anchors   map[string][]miekg.RR     // host -> its resolver's DNSSEC trust anchors
	checkers  map[string]*pki.Checker   // host -> its revocation checker
	frontEnds map[string]*sip.FrontEnd  // host -> server
	edges     map[string]*sip.Edge      // host -> server
	revs      revocationLog
	// discovery is what Config.Discovery started; nil without it.
	discovery *discoveryServices

	closeOnce sync.Once
	stops     []func() // run in reverse order by Close
}

// Build makes the declared world real on env.World under the run's
// defenses (env.Defenses): segments (each attached to the run's capture),
// hosts and routers with the ARP policy, the CAs and every certificate,
// the revocation servers, the DNS servers (zones signed when DNSSEC
// validation is on) and a stub resolver per host, then the Front Ends and
// Edges, each started and listening when Build returns. Every TLS config
// comes from env.TLSPolicy().
//
// Servers run until ctx ends or Close. The caller must call Close before
// its Run returns; Build cleans up after itself when it fails.
func (cfg Config) Build(ctx context.Context, env *lab.Env) (_ *Deployment, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Deployment{
		plan:       cfg.plan(),
		env:        env,
		d:          env.Defenses,
		tls:        env.TLSPolicy(),
		timeout:    cfg.Timeout,
		revTimeout: cfg.RevocationTimeout,
		revModes:   maps.Clone(cfg.RevocationModes),
		segments:   map[string]*netsim.Segment{},
		hosts:      map[string]*netsim.Host{},
		cas:        map[string]*pki.CA{},
		creds:      map[string]pki.Credential{},
		pools:      map[string]*x509.CertPool{},
		resolvers:  map[string]*dns.Resolver{},
		anchors:    map[string][]miekg.RR{},
		checkers:   map[string]*pki.Checker{},
		frontEnds:  map[string]*sip.FrontEnd{},
		edges:      map[string]*sip.Edge{},
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.revTimeout <= 0 {
		c.revTimeout = DefaultRevocationTimeout
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	for _, step := range []func() error{c.buildNetwork, c.buildPKI, c.buildDNS, c.buildDiscovery, c.buildSIP} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops every server Build started (SIP servers, then the PKI's HTTP
// servers, then DNS) and returns when all their goroutines have. It leaves
// the World to the Runner. Idempotent; always nil.
func (c *Deployment) Close() error {
	c.closeOnce.Do(func() {
		for i := len(c.stops) - 1; i >= 0; i-- {
			c.stops[i]()
		}
		c.cancel()
	})
	return nil
}

// onClose registers f to run at Close, before what was registered earlier.
func (c *Deployment) onClose(f func()) { c.stops = append(c.stops, f) }

// buildNetwork creates segments, hosts, NICs and routes.
func (c *Deployment) buildNetwork() error {
	w := c.env.World
	for _, s := range c.plan.segments {
		seg := w.NewSegment(s.name, netsim.SegmentConfig{})
		c.env.Capture(seg)
		c.segments[s.name] = seg
	}
	for _, hp := range c.plan.hosts {
		hc := netsim.HostConfig{ARPPolicy: c.d.ARPPolicy}
		var h *netsim.Host
		if hp.router {
			h = w.NewRouter(hp.name, hc)
		} else {
			h = w.NewHost(hp.name, hc)
		}
		for _, n := range hp.nics {
			if _, err := h.AddNIC(c.segments[n.seg], netsim.NICConfig{Addr: n.addr}); err != nil {
				return fmt.Errorf("lab: contoso: %s on %s as %v: %w", hp.name, n.seg, n.addr, err)
			}
		}
		for _, r := range hp.routes {
			if err := h.AddRoute(r.dst, r.via); err != nil {
				return fmt.Errorf("lab: contoso: %s: %w", hp.name, err)
			}
		}
		c.hosts[hp.name] = h
	}
	if c.d.ARPPolicy == netsim.ARPStaticOnly {
		c.pinNeighbours()
	}
	return nil
}

// pinNeighbours gives every host a static ARP entry for every other NIC on
// its segments: with ARPStaticOnly a host sends no ARP requests, so static
// entries are all it has, as an administrator would configure them.
func (c *Deployment) pinNeighbours() {
	for _, seg := range c.segments {
		nics := seg.NICs()
		for _, n := range nics {
			for _, other := range nics {
				if other != n {
					n.Host().SetStaticARP(other.Addr(), other.MAC())
				}
			}
		}
	}
}

// Segment returns the segment named name ("contoso-lan",
// "contoso-perimeter", "internet", "fabrikam-lan"), or nil.
func (c *Deployment) Segment(name string) *netsim.Segment { return c.segments[name] }

// Host returns the host or router named name (see Describe), or nil.
func (c *Deployment) Host(name string) *netsim.Host { return c.hosts[name] }

// Defenses returns the defenses the world was built with.
func (c *Deployment) Defenses() lab.Defenses { return c.d }

// TLS returns the policy every TLS config of the world comes from.
func (c *Deployment) TLS() lab.TLSPolicy { return c.tls }

// Describe returns the declared world the topology was built from.
func (c *Deployment) Describe() lab.TopologyDescription { return c.plan.cfg.Describe(c.d) }

// hostOf returns the named host or an error naming the known ones.
func (c *Deployment) hostOf(name string) (*netsim.Host, *hostPlan, error) {
	h, hp := c.hosts[name], c.plan.host(name)
	if h == nil || hp == nil {
		return nil, nil, fmt.Errorf("lab: contoso: no host %q; hosts are %v", name, hostNames(c.plan))
	}
	return h, hp, nil
}

func hostNames(p *contosoPlan) []string {
	names := make([]string, len(p.hosts))
	for i, h := range p.hosts {
		names[i] = h.name
	}
	return names
}

var errNoTrust = errors.New("verifies no certificates in the topology")

package sip

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// EdgeConfig declares an Edge server: the perimeter host that carries
// federation between the internal Front Ends and partners' Edges.
type EdgeConfig struct {
	// FQDN is the internal interface's name, "edge01.contoso.com": the
	// identity of InternalTLS's certificate and the sent-by of the Via it
	// adds towards Front Ends. Required.
	FQDN string
	// ExternalFQDN is the federation name, "sip.contoso.com": the sent-by
	// of the Via it adds towards partners. Empty means FQDN.
	ExternalFQDN string
	// Name labels its records and prefixes every Rejection reason; empty
	// means FQDN's first label ("edge01").
	Name string
	// Domain is the SIP domain this Edge federates for, "contoso.com".
	// Required.
	Domain string
	// Net is the host (with an internal and an external NIC) the server
	// lives on: it listens on both addresses and dials Front Ends (and,
	// without ExternalDialer, partners) through it, the host's routes
	// choosing the NIC. Required.
	Net Network

	// InternalAddr is the MTLS listener for Front Ends on the internal NIC
	// ("10.0.0.5:5062"). Required.
	InternalAddr string
	// InternalTLS is MTLS with Front Ends in both roles, as
	// FrontEndConfig.ServerTLS: certificate for FQDN with serverAuth and
	// clientAuth, ClientAuth tls.RequireAndVerifyClientCert, ClientCAs and
	// RootCAs the enterprise CA. Required; cloned.
	InternalTLS *tls.Config
	// ExternalAddr is the MTLS listener for partners' Edges on the external
	// NIC ("203.0.113.10:5061"); empty means none (outbound only).
	ExternalAddr string
	// ExternalTLS is MTLS with partners' Edges in both roles: the
	// certificate for ExternalFQDN, RootCAs the federation trust store used
	// to verify a partner dialled (its imported roots, or only a public CA
	// both trust: the caller decides), ClientCAs the trust store for a
	// partner accepted (normally the same pool), ClientAuth
	// tls.RequireAndVerifyClientCert. Required; cloned.
	ExternalTLS *tls.Config
	// ExternalDialer opens connections to partners' Edges; nil means Net
	// (whose routes pick the external NIC). A scenario can route federation
	// through another path with it.
	ExternalDialer Dialer
	// Resolver finds partners: _sipfederationtls._tcp.<domain> SRV, then
	// the target's address. Required.
	Resolver Resolver

	// FrontEnds maps each Front End's FQDN to its internal MTLS "ip:port",
	// for inbound federated messages.
	FrontEnds map[string]string
	// Registrar says which Front End serves which local user. Required.
	Registrar *Registrar
	// TrustedServers is the topology's trusted server list, applied to
	// Front Ends accepted on InternalAddr and dialled. Required unless
	// SkipTrustedServerCheck.
	TrustedServers []string
	// SkipTrustedServerCheck turns the trusted server list off. Default
	// false.
	SkipTrustedServerCheck bool

	// Partners is the federation allow-list: the domains this Edge
	// federates with. Outbound, the recipient's domain (or a parent of it)
	// must be listed; inbound, one of the partner Edge certificate's DNS
	// names must lie in a listed domain. Required unless AllowAnyPartner.
	Partners []string
	// AllowAnyPartner turns the allow-list off (open federation). Default
	// false.
	AllowAnyPartner bool
	// AllowSRVTargetOutsideDomain turns off the check that a federation SRV
	// record of domain D points to a host inside D. Default false: a record
	// for fabrikam.com pointing to sip.evil.com is refused.
	AllowSRVTargetOutsideDomain bool

	// Timeout, Now and Rand are as in FrontEndConfig.
	Timeout time.Duration
	Now     func() time.Time
	Rand    io.Reader
}

// Edge is an Edge server. On its internal listener it accepts MESSAGEs from
// Front Ends for other domains and federates them: it finds the partner's
// Edge by SRV, checks the target and the allow-list, and relays over MTLS
// with the TLS server name set to the SRV target. On its external listener
// it accepts MESSAGEs from partners' Edges for its own domain and relays them
// to the recipient's Front End. It delivers nothing itself: its records are
// Relays and Rejections. Its methods are safe for concurrent use.
type Edge struct {
	cfg       EdgeConfig
	node      *node
	domain    string
	extFQDN   string
	trust     verifyFunc // nil when the trusted server list is off
	internal  *tls.Config
	external  *tls.Config
	frontEnds map[string]string
}

// NewEdge checks cfg and returns an unstarted server; Start or Serve runs
// it. cfg is copied (its maps, lists and TLS configs too).
func NewEdge(cfg EdgeConfig) (*Edge, error) {
	if err := checkEdge(&cfg); err != nil {
		return nil, err
	}
	cfg.Partners = slices.Clone(cfg.Partners)
	cfg.TrustedServers = slices.Clone(cfg.TrustedServers)
	e := &Edge{
		cfg:       cfg,
		domain:    normalizeHost(cfg.Domain),
		extFQDN:   normalizeHost(cfg.ExternalFQDN),
		internal:  cfg.InternalTLS.Clone(),
		external:  cfg.ExternalTLS.Clone(),
		frontEnds: make(map[string]string, len(cfg.FrontEnds)),
	}
	if e.extFQDN == "" {
		e.extFQDN = normalizeHost(cfg.FQDN)
	}
	for fqdn, addr := range cfg.FrontEnds {
		e.frontEnds[normalizeHost(fqdn)] = addr
	}
	if !cfg.SkipTrustedServerCheck {
		e.trust = trustedServerCheck(cfg.TrustedServers)
	}
	var partners verifyFunc
	if !cfg.AllowAnyPartner {
		partners = partnerCheck(cfg.Partners)
	}
	name := cfg.Name
	if name == "" {
		name = shortName(cfg.FQDN)
	}
	n := &node{
		name:    name,
		fqdn:    normalizeHost(cfg.FQDN),
		net:     cfg.Net,
		timeout: timeoutOr(cfg.Timeout),
		now:     clock(cfg.Now),
		ids:     newIDs(cfg.Rand),
		specs: []listenSpec{{
			name: "internal", addr: cfg.InternalAddr, tls: withVerify(cfg.InternalTLS, e.trust), transport: TransportMTLS,
		}},
	}
	if cfg.ExternalAddr != "" {
		n.specs = append(n.specs, listenSpec{
			name: "external", addr: cfg.ExternalAddr, tls: withVerify(cfg.ExternalTLS, partners), transport: TransportMTLS,
		})
	}
	n.handle = e.handle
	e.node = n
	return e, nil
}

func checkEdge(cfg *EdgeConfig) error {
	switch {
	case cfg.FQDN == "":
		return &ConfigError{"EdgeConfig.FQDN", "empty; name the internal interface, e.g. edge01.contoso.com"}
	case cfg.Domain == "":
		return &ConfigError{"EdgeConfig.Domain", "empty; set the SIP domain, e.g. contoso.com"}
	case cfg.Net == nil:
		return &ConfigError{"EdgeConfig.Net", "nil; give the host the server runs on (a *netsim.Host)"}
	case cfg.InternalAddr == "":
		return &ConfigError{"EdgeConfig.InternalAddr", "empty; give the internal NIC's MTLS address, e.g. 10.0.0.5:5062"}
	case cfg.InternalTLS == nil:
		return &ConfigError{"EdgeConfig.InternalTLS", "nil; MTLS with Front Ends needs a certificate and the enterprise CA"}
	case cfg.ExternalTLS == nil:
		return &ConfigError{"EdgeConfig.ExternalTLS", "nil; MTLS with partners needs a certificate and a federation trust store"}
	case cfg.Resolver == nil:
		return &ConfigError{"EdgeConfig.Resolver", "nil; federation needs DNS to find partners"}
	case cfg.Registrar == nil:
		return &ConfigError{"EdgeConfig.Registrar", "nil; home the users with NewRegistrar"}
	case !cfg.SkipTrustedServerCheck && len(cfg.TrustedServers) == 0:
		return &ConfigError{"EdgeConfig.TrustedServers", "empty; list the topology's servers, or set SkipTrustedServerCheck"}
	case !cfg.AllowAnyPartner && len(cfg.Partners) == 0:
		return &ConfigError{"EdgeConfig.Partners", "empty; list the partner domains, or set AllowAnyPartner"}
	}
	return nil
}

// Name is the server's name in records.
func (e *Edge) Name() string { return e.node.name }

// Start, Serve and Close behave as FrontEnd's.
func (e *Edge) Start(ctx context.Context) error { return e.node.start(ctx) }

// Serve is Start, then waits: nil after Close, ctx's cause when ctx ends.
func (e *Edge) Serve(ctx context.Context) error { return e.node.serve(ctx) }

// Close stops everything and waits for it; idempotent, always nil.
func (e *Edge) Close() error { return e.node.close() }

// Relays returns the requests relayed in either direction, in order. The
// slice is a copy.
func (e *Edge) Relays() []Relay { return e.node.rec.Relays() }

// Rejections returns every refused handshake, connection and request, in
// order. The slice is a copy.
func (e *Edge) Rejections() []Rejection { return e.node.rec.Rejections() }

// handle routes by the listener the request came on.
func (e *Edge) handle(in *inbound, req *sipgo.Request) *sipgo.Response {
	if req.Method != sipgo.MESSAGE {
		return e.node.refuse(in, req, sipgo.StatusMethodNotAllowed, Rejection{
			Err: &RoutingError{Status: sipgo.StatusMethodNotAllowed, Problem: fmt.Sprintf("method %s is not relayed by the Edge", req.Method)},
		})
	}
	domain := normalizeHost(req.Recipient.Host)
	if in.peer.Listener == "external" {
		if domain != e.domain {
			return e.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
				Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("federated request for %s: the Edge relays inbound traffic only to %s", addressOf(req.Recipient), e.domain)},
			})
		}
		return e.inbound(in, req)
	}
	if domain == e.domain {
		return e.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("recipient %s is in the local domain; the Edge relays only to federated partners", addressOf(req.Recipient))},
		})
	}
	return e.federate(in, req, domain)
}

// inbound relays a partner's request to the recipient's Front End.
func (e *Edge) inbound(in *inbound, req *sipgo.Request) *sipgo.Response {
	to := addressOf(req.Recipient)
	home, ok := e.cfg.Registrar.Home(to)
	if !ok {
		return e.node.refuse(in, req, sipgo.StatusNotFound, Rejection{
			Err: &RoutingError{Status: sipgo.StatusNotFound, Problem: fmt.Sprintf("recipient %s is not homed on any Front End", to)},
		})
	}
	addr, ok := e.frontEnds[home]
	if !ok {
		return e.node.refuse(in, req, sipgo.StatusNotFound, Rejection{
			Err: &RoutingError{Status: sipgo.StatusNotFound, Problem: fmt.Sprintf("home Front End %s of %s is not a configured Front End", home, to)},
		})
	}
	return e.node.relay(in, req, newHop(home, addr, e.node.fqdn, e.internal, e.trust))
}

// federate relays a Front End's request to the Edge of the recipient's
// domain: allow-list, SRV lookup, SRV target check, then each target in
// priority order until one answers. Every failed target is a Rejection;
// the answer upstream carries the last one's reason.
func (e *Edge) federate(in *inbound, req *sipgo.Request, domain string) *sipgo.Response {
	if !e.cfg.AllowAnyPartner && partnerDomain([]string{domain}, e.cfg.Partners) == "" {
		return e.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Direction: Outbound, Stage: StagePolicy, Target: domain, Err: &PartnerNotAllowedError{Domain: domain},
		})
	}
	if res := e.node.checkHops(in, req); res != nil {
		return res
	}
	ctx, cancel := context.WithTimeout(e.node.ctx, e.node.timeout)
	defer cancel()
	record := srvName(srvFederation, "tcp", domain)
	targets, err := lookupSRV(ctx, e.cfg.Resolver, srvFederation, "tcp", domain)
	if err != nil {
		return e.node.refuse(in, req, sipgo.StatusBadGateway, Rejection{
			Direction: Outbound, Stage: StageLookup, Target: record, Err: err,
		})
	}
	status, reason := sipgo.StatusBadGateway, ""
	for _, t := range targets {
		if !e.cfg.AllowSRVTargetOutsideDomain && !inDomain(t.name, domain) {
			status = sipgo.StatusForbidden
			reason = e.node.refusal(in, req, status, Rejection{
				Direction: Outbound, Stage: StagePolicy, Target: t.name,
				Err: &SRVTargetError{Record: t.record, Target: t.name, Domain: domain},
			})
			continue
		}
		ip, err := lookupAddr(ctx, e.cfg.Resolver, t.name)
		if err != nil {
			status = sipgo.StatusBadGateway
			reason = e.node.refusal(in, req, status, Rejection{
				Direction: Outbound, Stage: StageLookup, Target: t.name, Err: err,
			})
			continue
		}
		addr := netip.AddrPortFrom(ip, t.port).String()
		h := newHop(t.name, addr, e.extFQDN, e.external)
		h.dialer = e.cfg.ExternalDialer
		res, info, stage, err := e.node.forward(req, h)
		if err != nil {
			status = sipgo.StatusBadGateway
			reason = e.node.refusal(in, req, status, Rejection{
				Direction: Outbound, Stage: stage, Target: t.name, TargetAddr: addr, Err: err,
			})
			continue
		}
		e.node.recordRelay(in, req, h, info, res.StatusCode)
		return res
	}
	return e.node.respond(req, status, reason)
}

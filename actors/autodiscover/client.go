package autodiscover

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
)

// Dialer opens TCP connections. *netsim.Host satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Ports of the chain.
const (
	// PortHTTPS and PortHTTP are the autodiscover service's ports.
	PortHTTPS = 443
	PortHTTP  = 80
	// PortSIPTLS is SIP over TLS at a pool, used for the A-record
	// fallbacks sipinternal. and sip.
	PortSIPTLS = 5061
	// PortEdge is SIP over TLS at an Edge's Access service, used for the
	// sipexternal. fallback.
	PortEdge = 443
)

// Config declares one discovery.
type Config struct {
	// SIPDomain is the domain of the user's SIP URI, e.g. "contoso.com".
	// Required.
	SIPDomain string
	// Resolver answers the A and SRV lookups (the host's stub resolver,
	// or a winname.Resolver). Required.
	Resolver dns.NameResolver
	// Dialer opens the autodiscover connections. Required.
	Dialer Dialer
	// TLS, when not nil, is the HTTPS steps' TLS config (cloned, with
	// ServerName set to the URL's host) in place of RootCAs, Time and
	// VerifyConnection: the lab's policy, with its switches.
	TLS *tls.Config
	// RootCAs are the roots the HTTPS steps trust; nil means the system
	// roots (never wanted in the lab).
	RootCAs *x509.CertPool
	// VerifyConnection, when not nil, is called after the standard
	// verification of an HTTPS step succeeded (the lab's TLS policy); an
	// error fails the step like a bad certificate.
	VerifyConnection func(tls.ConnectionState) error
	// Time is the clock certificates are checked against (the World's);
	// nil means time.Now.
	Time func() time.Time
	// StepTimeout bounds each HTTP(S) step (dial, handshake, answer);
	// zero means 10 seconds.
	StepTimeout time.Duration
	// Policy is the client's switches.
	Policy Policy
	// OnStep, when not nil, is called with each step as it is recorded,
	// from Discover's goroutine. It must not block.
	OnStep func(Step)
}

// Result is the pool Discover found and how.
type Result struct {
	// Pool and Port are the SIP server to register with.
	Pool string
	Port uint16
	// Via is the kind of step that yielded it.
	Via Kind
	// UserLink is the "user" link of the autodiscover answer that yielded
	// the pool (the user resource, which asks the user to authenticate);
	// "" when the pool came another way or the answer had none.
	UserLink string
	// Steps are every step taken, in order.
	Steps []Step
}

// Discover finds the SIP pool for cfg.SIPDomain as the Lync / Skype for
// Business client does, in this order, stopping at the first accepted
// pool:
//
//  0. Policy.PinnedPool, if set, is the pool; nothing is asked.
//  1. GET https://lyncdiscoverinternal.<domain>/autodiscover/autodiscoverservice.svc/root
//  2. GET http://lyncdiscoverinternal.<domain>/... (unless HTTPSOnly)
//  3. GET https://lyncdiscover.<domain>/...
//  4. GET http://lyncdiscover.<domain>/... (unless HTTPSOnly)
//     (the order of Microsoft's connectivity analyzer, which follows the
//     store and mobile apps). An internal URL yields
//     SipServerInternalAccess, an external one SipServerExternalAccess
//     (each falling back to the other when missing). A step fails on a
//     lookup, connection, certificate (checked against RootCAs for the
//     URL's host), HTTP or JSON error, and the chain goes on.
//  5. SRV _sipinternaltls._tcp.<domain>, then _sip._tls.<domain>; each
//     target in priority then weight order. A target in the SIP domain
//     counts only if NamingAllows it (strict or relaxed naming);
//     otherwise it is Refused and the next one is tried.
//  6. A sipinternal.<domain> (port 5061), sip.<domain> (5061),
//     sipexternal.<domain> (443): the first that resolves.
//
// A pool outside the SIP domain (from autodiscover or SRV) is used without
// asking when Policy.TrustedDomains names its domain; otherwise the user is
// asked: with DeclinePrompts they decline and Discover fails with a
// *DeclinedError (sign-in stops), otherwise the pool is used. When nothing
// is found it fails with a *NotFoundError; when ctx ends, with ctx's error.
// The Result holds every step; it is nil only with a *ConfigError (a
// config that cannot work: nothing was asked).
func Discover(ctx context.Context, cfg Config) (*Result, error) {
	d, err := newDiscovery(cfg)
	if err != nil {
		return nil, err
	}
	return d.run(ctx)
}

// discovery is one run of the chain.
type discovery struct {
	cfg    Config
	domain string
	res    Result
}

func newDiscovery(cfg Config) (*discovery, error) {
	switch {
	case normalize(cfg.SIPDomain) == "":
		return nil, &ConfigError{What: "client", Problem: "Config.SIPDomain is empty: give the domain of the user's SIP URI"}
	case cfg.Policy.PinnedPool != "":
		// Nothing else is needed.
	case cfg.Resolver == nil:
		return nil, &ConfigError{What: "client", Problem: "Config.Resolver is nil: give the host's DNS resolver"}
	case cfg.Dialer == nil:
		return nil, &ConfigError{What: "client", Problem: "Config.Dialer is nil: give the client's netsim host"}
	}
	if cfg.Time == nil {
		cfg.Time = time.Now
	}
	cfg.StepTimeout = cmp.Or(cfg.StepTimeout, 10*time.Second)
	return &discovery{cfg: cfg, domain: normalize(cfg.SIPDomain)}, nil
}

func (d *discovery) record(s Step) {
	d.res.Steps = append(d.res.Steps, s)
	if d.cfg.OnStep != nil {
		d.cfg.OnStep(s)
	}
}

func (d *discovery) result(via Kind, pool string, port uint16) *Result {
	d.res.Pool, d.res.Port, d.res.Via = pool, port, via
	for i := len(d.res.Steps) - 1; via == KindAutodiscover && i >= 0; i-- {
		if s := d.res.Steps[i]; s.Kind == KindAutodiscover && s.Pool == pool {
			d.res.UserLink = s.UserLink
			break
		}
	}
	return &d.res
}

func (d *discovery) run(ctx context.Context) (*Result, error) {
	if p := d.cfg.Policy.PinnedPool; p != "" {
		host, port, err := splitPool(p)
		if err != nil {
			return nil, &ConfigError{What: "client", Problem: "Policy.PinnedPool " + strconv.Quote(p) + ": " + err.Error() + "; want fqdn or fqdn:port"}
		}
		d.record(Step{Kind: KindPinned, Asked: p, Pool: host, Port: port, Verdict: Accepted, Reason: "manual server configuration"})
		return d.result(KindPinned, host, port), nil
	}
	for _, u := range d.autodiscoverURLs() {
		if err := ctx.Err(); err != nil {
			return &d.res, err
		}
		if !u.https && d.cfg.Policy.HTTPSOnly {
			d.record(Step{Kind: KindAutodiscover, Asked: u.String(), Verdict: Skipped, Reason: "HTTPS only"})
			continue
		}
		step, ok := d.fetchRoot(ctx, u)
		if !ok {
			d.record(step)
			continue
		}
		return d.offer(step, KindAutodiscover)
	}
	for _, srv := range []struct{ service, proto string }{{"sipinternaltls", "tcp"}, {"sip", "tls"}} {
		if err := ctx.Err(); err != nil {
			return &d.res, err
		}
		name := "_" + srv.service + "._" + srv.proto + "." + d.domain
		_, records, err := d.cfg.Resolver.LookupSRV(ctx, srv.service, srv.proto, d.domain)
		if err == nil && len(records) == 0 {
			err = &net.DNSError{Err: "no SRV records", Name: name, IsNotFound: true}
		}
		if err != nil {
			d.record(Step{Kind: KindSRV, Asked: name, Verdict: Failed, Reason: err.Error()})
			continue
		}
		for _, r := range sortSRV(records) {
			step := Step{Kind: KindSRV, Asked: name, Pool: normalize(r.Target), Port: r.Port}
			if InDomain(step.Pool, d.domain) && !NamingAllows(step.Pool, d.domain, d.cfg.Policy.StrictDNSNaming) {
				step.Verdict, step.Reason = Refused, "strict DNS naming: the target must be "+d.domain+" or sip."+d.domain
				d.record(step)
				continue
			}
			return d.offer(step, KindSRV)
		}
	}
	for _, h := range []struct {
		label string
		port  uint16
	}{{"sipinternal", PortSIPTLS}, {"sip", PortSIPTLS}, {"sipexternal", PortEdge}} {
		if err := ctx.Err(); err != nil {
			return &d.res, err
		}
		name := h.label + "." + d.domain
		addrs, err := d.cfg.Resolver.LookupNetIP(ctx, "ip4", name)
		if err == nil && len(addrs) == 0 {
			err = &net.DNSError{Err: "no addresses", Name: name, IsNotFound: true}
		}
		if err != nil {
			d.record(Step{Kind: KindHost, Asked: name, Verdict: Failed, Reason: err.Error()})
			continue
		}
		d.record(Step{Kind: KindHost, Asked: name, Pool: name, Port: h.port, Verdict: Accepted, Reason: "resolves to " + addrs[0].String()})
		return d.result(KindHost, name, h.port), nil
	}
	return &d.res, &NotFoundError{Domain: d.domain, Steps: len(d.res.Steps)}
}

// offer records the step that found a candidate and settles its trust: a
// pool in the SIP domain is accepted; outside it, the Trusted Domain List
// or the user decides.
func (d *discovery) offer(step Step, via Kind) (*Result, error) {
	if InDomain(step.Pool, d.domain) {
		step.Verdict, step.Reason = Accepted, "pool in the SIP domain"
		d.record(step)
		return d.result(via, step.Pool, step.Port), nil
	}
	step.Verdict, step.Reason = Offered, "pool outside the SIP domain "+d.domain
	d.record(step)
	prompt := Step{Kind: KindPrompt, Asked: step.Pool, Pool: step.Pool, Port: step.Port}
	switch dom, ok := d.cfg.Policy.trusted(step.Pool); {
	case ok:
		prompt.Verdict, prompt.Reason = Accepted, dom+" is in the Trusted Domain List: not asked"
	case d.cfg.Policy.DeclinePrompts:
		prompt.Verdict, prompt.Reason = Declined, "the user declined"
		d.record(prompt)
		return &d.res, &DeclinedError{Pool: step.Pool, Source: step.Asked}
	default:
		prompt.Verdict, prompt.Reason = Accepted, "the user accepted"
	}
	d.record(prompt)
	return d.result(via, step.Pool, step.Port), nil
}

// sortSRV orders records by priority, then weight (highest first),
// deterministically, as actors/sip does.
func sortSRV(records []*net.SRV) []*net.SRV {
	out := slices.Clone(records)
	slices.SortStableFunc(out, func(a, b *net.SRV) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(b.Weight, a.Weight)
	})
	return out
}

// splitPool parses "fqdn" or "fqdn:port".
func splitPool(s string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if normalize(s) == "" {
			return "", 0, errors.New("empty name")
		}
		return normalize(s), PortSIPTLS, nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 || normalize(host) == "" {
		return "", 0, errors.New("bad host or port")
	}
	return normalize(host), uint16(p), nil
}

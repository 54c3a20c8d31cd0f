package winname

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/tlslab/tlslab/actors/dns"
)

// Protocol is one step of Windows name resolution.
type Protocol int

const (
	// DNS is the configured DNS servers, asked through the stub resolver.
	DNS Protocol = iota
	// LLMNR is Link-Local Multicast Name Resolution (RFC 4795).
	LLMNR
	// NBTNS is the NetBIOS name service (RFC 1002) by broadcast.
	NBTNS
)

func (p Protocol) String() string {
	switch p {
	case DNS:
		return "DNS"
	case LLMNR:
		return "LLMNR"
	case NBTNS:
		return "NBT-NS"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Step is one question the Resolver asked: evidence of how a name was
// resolved, or why it was not.
type Step struct {
	// Protocol is who was asked.
	Protocol Protocol
	// Name is the name asked: as given for DNS and LLMNR, the NetBIOS name
	// ("FILESERV<00>") for NBT-NS.
	Name string
	// From is who answered (address and port of the response). It is zero
	// for DNS, whose stub resolver does not say which server answered, and
	// when nobody answered.
	From netip.AddrPort
	// Addrs are the addresses the answer gave; empty when Err is set.
	Addrs []netip.Addr
	// Err is why the step gave no address (a DNS error, or a
	// *NoAnswerError), nil when it did.
	Err error
}

func (s Step) String() string {
	if s.Err != nil {
		return fmt.Sprintf("%s %s: %v", s.Protocol, s.Name, s.Err)
	}
	from := ""
	if s.From.IsValid() {
		from = " from " + s.From.String()
	}
	return fmt.Sprintf("%s %s: %v%s", s.Protocol, s.Name, s.Addrs, from)
}

// Querier asks the link-local protocols. The network implementation sends
// real LLMNR and NBNS datagrams (see NewNetQuerier); tests may fake it.
type Querier interface {
	// QueryLLMNR sends an LLMNR query for name's A records and returns the
	// first valid response's source and addresses, or a *NoAnswerError.
	QueryLLMNR(ctx context.Context, name string) (netip.AddrPort, []netip.Addr, error)
	// QueryNBNS broadcasts an NBNS name query for name and returns the
	// first positive response's source and addresses, or a *NoAnswerError.
	QueryNBNS(ctx context.Context, name NetBIOSName) (netip.AddrPort, []netip.Addr, error)
}

// ResolverConfig declares a Windows-style resolver. The zero values of the
// switches are the hardened behaviour (DNS only); turning on a fallback is
// explicit, though Windows turns both on by default.
type ResolverConfig struct {
	// DNS is the stub resolver asked first (a *dns.Resolver). Required.
	DNS dns.NameResolver
	// LLMNR turns on the LLMNR fallback.
	LLMNR bool
	// NBTNS turns on the NBT-NS fallback.
	NBTNS bool
	// Querier sends the fallback queries. Required when LLMNR or NBTNS is
	// on; NewNetQuerier builds the one over a host.
	Querier Querier
	// SearchList is the DNS suffix search list (the primary DNS suffix
	// first, e.g. "contoso.com"). A single-label name is asked of DNS with
	// each suffix appended in turn, never bare, as Windows does; names with
	// a dot are asked as given. Empty: every name is asked as given.
	SearchList []string
	// LinkMultiLabel asks LLMNR for names with a dot too (FQDNs), as some
	// non-Windows stacks do. False is Windows: the link is asked only for
	// single-label names, so a poisoner on the link never sees an FQDN
	// lookup, whatever DNS says of it.
	LinkMultiLabel bool
	// Suffix is the NetBIOS suffix NBT-NS asks for; the zero value is
	// SuffixWorkstation, what a host name lookup asks.
	Suffix byte
	// OnStep, when not nil, is called with every step as it completes,
	// from the goroutine doing the lookup. It must not block or call the
	// resolver. Resolver.Steps keeps the same record.
	OnStep func(Step)
}

// Resolver resolves names as a Windows client does: DNS first (a
// single-label name with each suffix of the search list); when DNS
// denies the name (NXDOMAIN or no such record: the error's NotFound is
// true), LLMNR if on, then NBT-NS if on and the name fits NetBIOS (one
// label of at most 15 characters). As Windows, it asks the link only for
// single-label names unless LinkMultiLabel is set. A denied name the link
// is not asked for (both fallbacks off, or a multi-label name) is recorded
// as an LLMNR step whose Err is a *NotAskedError saying why. The first answer of a fallback wins,
// whoever sent it: that is what a poisoner exploits. A DNS failure that is
// not a denial (a time-out, SERVFAIL) does not fall back. When every step
// fails the lookup fails with DNS's error. Each question is recorded as a
// Step. SRV lookups go to DNS only. A Resolver is safe for concurrent use.
type Resolver struct {
	cfg ResolverConfig

	mu    sync.Mutex
	steps []Step // guarded by mu
}

var _ dns.NameResolver = (*Resolver)(nil)

// NewResolver returns a resolver for cfg. It fails with a *ConfigError when
// DNS is nil, or a fallback is on with no Querier.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if cfg.DNS == nil {
		return nil, &ConfigError{What: "resolver", Problem: "ResolverConfig.DNS is nil: give it the host's DNS stub resolver"}
	}
	if (cfg.LLMNR || cfg.NBTNS) && cfg.Querier == nil {
		return nil, &ConfigError{What: "resolver", Problem: "ResolverConfig.Querier is nil but a fallback is on: give it NewNetQuerier(host)"}
	}
	return &Resolver{cfg: cfg}, nil
}

// Steps returns a copy of every step taken so far, in order (concurrent
// lookups interleave).
func (r *Resolver) Steps() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.steps)
}

func (r *Resolver) record(s Step) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
	if r.cfg.OnStep != nil {
		r.cfg.OnStep(s)
	}
}

// LookupNetIP resolves host as described on Resolver. An IP literal goes
// to DNS only (which returns it as is). The fallbacks answer IPv4 only: for
// network "ip6" they are not asked.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, dnsErr := r.lookupDNS(ctx, network, host)
	if _, err := netip.ParseAddr(host); err == nil || dnsErr == nil || !Denied(dnsErr) || network == "ip6" || ctx.Err() != nil {
		return addrs, dnsErr
	}
	bare := strings.TrimSuffix(host, ".")
	switch {
	case !r.cfg.LLMNR && !r.cfg.NBTNS:
		r.record(Step{Protocol: LLMNR, Name: bare, Err: &NotAskedError{Name: bare, Rule: FallbackOff}})
		return nil, dnsErr
	case strings.Contains(bare, ".") && !r.cfg.LinkMultiLabel:
		r.record(Step{Protocol: LLMNR, Name: bare, Err: &NotAskedError{Name: bare, Rule: MultiLabel}})
		return nil, dnsErr
	}
	if r.cfg.LLMNR {
		from, addrs, err := r.cfg.Querier.QueryLLMNR(ctx, bare)
		r.record(Step{Protocol: LLMNR, Name: bare, From: from, Addrs: addrs, Err: err})
		if err == nil {
			return addrs, nil
		}
	}
	if nb, fits := NetBIOSNameFor(host, r.cfg.Suffix); r.cfg.NBTNS && fits && ctx.Err() == nil {
		from, addrs, err := r.cfg.Querier.QueryNBNS(ctx, nb)
		r.record(Step{Protocol: NBTNS, Name: nb.String(), From: from, Addrs: addrs, Err: err})
		if err == nil {
			return addrs, nil
		}
	}
	return nil, dnsErr
}

// lookupDNS asks DNS for host, through the search list for a single-label
// name, recording each question, and returns the first answer, the first
// error that is not a denial, or the last denial.
func (r *Resolver) lookupDNS(ctx context.Context, network, host string) ([]netip.Addr, error) {
	names := []string{host}
	bare := strings.TrimSuffix(host, ".")
	if _, notIP := netip.ParseAddr(host); notIP != nil && !strings.Contains(bare, ".") && len(r.cfg.SearchList) > 0 {
		names = names[:0]
		for _, suffix := range r.cfg.SearchList {
			names = append(names, bare+"."+strings.Trim(suffix, "."))
		}
	}
	var err error
	for _, name := range names {
		var addrs []netip.Addr
		addrs, err = r.cfg.DNS.LookupNetIP(ctx, network, name)
		r.record(Step{Protocol: DNS, Name: name, Addrs: addrs, Err: err})
		if err == nil || !Denied(err) {
			return addrs, err
		}
	}
	return nil, err
}

// LookupSRV asks DNS only (LLMNR and NBT-NS have no SRV records) and
// records the step.
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	cname, srvs, err := r.cfg.DNS.LookupSRV(ctx, service, proto, name)
	full := name
	if service != "" || proto != "" {
		full = "_" + service + "._" + proto + "." + name
	}
	s := Step{Protocol: DNS, Name: full, Err: err}
	r.record(s)
	return cname, srvs, err
}

// Denied reports whether err is DNS denying a name (NXDOMAIN, or no record
// of the type asked), the failure after which Windows falls back: a
// *dns.LookupError or *net.DNSError that is not-found. Time-outs and other
// failures are not denials.
func Denied(err error) bool {
	var le *dns.LookupError
	if errors.As(err, &le) {
		return le.NotFound()
	}
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// NotAskedRule is why a name DNS denied was not asked on the link.
type NotAskedRule int

const (
	// FallbackOff: LLMNR and NBT-NS are both off.
	FallbackOff NotAskedRule = iota + 1
	// MultiLabel: the name has a dot, and the link is asked only for
	// single-label names (ResolverConfig.LinkMultiLabel false).
	MultiLabel
)

// NotAskedError is the Err of the step recorded when a name DNS denied was
// not asked on the link: evidence that a poisoner listening there could not
// have answered it.
type NotAskedError struct {
	Name string
	Rule NotAskedRule
}

func (e *NotAskedError) Error() string {
	if e.Rule == MultiLabel {
		return "winname: " + e.Name + " not asked on the link: LLMNR and NBT-NS are asked only for single-label names"
	}
	return "winname: " + e.Name + " not asked on the link: LLMNR and NBT-NS are off"
}

// NoAnswerError is the error of a fallback query nobody answered validly.
type NoAnswerError struct {
	// Protocol is LLMNR or NBTNS.
	Protocol Protocol
	// Name is the name asked.
	Name string
	// Tries is how many queries were sent.
	Tries int
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("winname: %s %s: no answer to %d queries", e.Protocol, e.Name, e.Tries)
}

// ConfigError reports a Resolver, Querier or Responder configuration that
// cannot work.
type ConfigError struct {
	// What is the component, e.g. "resolver".
	What string
	// Problem says what is wrong and what would be right.
	Problem string
}

func (e *ConfigError) Error() string { return "winname: " + e.What + ": " + e.Problem }

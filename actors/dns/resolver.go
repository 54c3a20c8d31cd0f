package dns

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/netsim"
)

// Network is the host a Resolver sends its queries from. *netsim.Host
// implements it.
type Network interface {
	// ListenPacket opens a UDP socket on ":port" (port 0: any).
	ListenPacket(network, address string) (net.PacketConn, error)
	// DialContext opens a TCP connection to "ip:port".
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// NameResolver is the lookup API actors depend on. Both *Resolver (over a
// simulated network) and *net.Resolver implement it.
type NameResolver interface {
	// LookupNetIP returns the addresses of host; network is "ip", "ip4"
	// or "ip6".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	// LookupSRV looks up _service._proto.name (or name itself when service
	// and proto are empty) and returns the canonical name and the records.
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
}

var (
	_ NameResolver = (*Resolver)(nil)
	_ NameResolver = (*net.Resolver)(nil)
)

// TXIDPolicy is how a Resolver picks the 16-bit message ID (transaction ID)
// of each query.
type TXIDPolicy int

const (
	// RandomTXID draws every ID from the resolver's random source, as
	// RFC 5452 requires, so an off-path attacker must guess it.
	RandomTXID TXIDPolicy = iota
	// SequentialTXID counts up from ResolverConfig.FirstTXID, as early
	// resolvers did: an attacker who saw or guessed one ID knows the next.
	SequentialTXID
)

func (p TXIDPolicy) String() string {
	switch p {
	case RandomTXID:
		return "random TXID"
	case SequentialTXID:
		return "sequential TXID"
	}
	return fmt.Sprintf("TXIDPolicy(%d)", int(p))
}

// PortPolicy is how a Resolver picks the UDP source port of each query.
type PortPolicy int

const (
	// RandomSourcePort sends each query (and each retry) from a fresh
	// socket on a port drawn from the resolver's random source in the
	// ephemeral range 49152-65535 (RFC 6056), adding 14 bits an off-path
	// attacker must guess.
	RandomSourcePort PortPolicy = iota
	// FixedSourcePort sends every query from ResolverConfig.FixedPort,
	// as resolvers did before 2008. Queries are then sent one at a time.
	FixedSourcePort
)

func (p PortPolicy) String() string {
	switch p {
	case RandomSourcePort:
		return "random source port"
	case FixedSourcePort:
		return "fixed source port"
	}
	return fmt.Sprintf("PortPolicy(%d)", int(p))
}

// Resolver defaults.
const (
	DefaultTimeout   = 2 * time.Second
	DefaultRetries   = 2
	DefaultFixedPort = 53000
	DefaultFirstTXID = 1
	// validatingUDPSize is the EDNS0 buffer advertised with the DO bit.
	validatingUDPSize = 1232
	ephemeralFirst    = 49152
	ephemeralCount    = 65536 - ephemeralFirst
)

// ResolverConfig declares a stub resolver. The zero values of the policy
// fields are the hardened behaviour; weakening them is explicit.
type ResolverConfig struct {
	// Net is the host queries are sent from (a *netsim.Host). Required.
	Net Network
	// Servers are the name servers, tried in order on every try. Port 0
	// means 53. At least one is required.
	Servers []netip.AddrPort
	// Timeout is how long one try waits for an answer; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times an unanswered query is sent again (to
	// every server) before the lookup fails; zero means DefaultRetries,
	// negative means no retries.
	Retries int
	// TXID picks query IDs; the zero value is RandomTXID.
	TXID TXIDPolicy
	// FirstTXID is the first ID SequentialTXID uses; zero means
	// DefaultFirstTXID.
	FirstTXID uint16
	// SourcePort picks UDP source ports; the zero value is
	// RandomSourcePort.
	SourcePort PortPolicy
	// FixedPort is the port FixedSourcePort uses; zero means
	// DefaultFixedPort.
	FixedPort uint16
	// Rand is the source of random IDs and ports. Nil means crypto/rand.
	// The resolver serialises its use, so it need not be safe for
	// concurrent use; it must not be used elsewhere.
	Rand rand.Source
	// Now is the resolver's clock: socket deadlines are computed from it
	// and DNSSEC signatures must be valid at it. Deadlines are enforced by
	// the Network's sockets, so it must be their clock. Nil means the
	// World's clock when Net is a *netsim.Host, else time.Now. (To test
	// expired signatures, move the zone's signing window, not this clock.)
	Now func() time.Time
	// TrustAnchors turn on DNSSEC validation: each is a DNSKEY or a DS
	// record (see Zone.KSK and Zone.DS) for the zone named by its owner.
	// Answers for names in an anchored zone must carry signatures that
	// chain to the anchor, or the lookup fails with a *ValidationError.
	// Names in no anchored zone are not validated.
	TrustAnchors []miekg.RR
	// EDNS0Size, when non-zero, adds an EDNS0 OPT record advertising this
	// UDP buffer size to queries. Zero sends classic DNS (512-byte UDP
	// answers), except that queries for anchored zones always carry EDNS0
	// with the DNSSEC OK bit and a 1232-byte buffer.
	EDNS0Size uint16
	// OnDropped, when not nil, is called with every datagram the resolver
	// drops on a query socket (see DroppedAnswer), as it drops it, from
	// the goroutine doing the lookup. It must not block or call the
	// resolver. Resolver.Dropped keeps the same record.
	OnDropped func(DroppedAnswer)
}

// Resolver is a stub resolver: it sends each query to the configured
// servers over UDP, retries on timeout, falls back to TCP when the answer is
// truncated, and accepts a UDP response only when its source address and
// port, its ID and its question match the query (anything else on the
// socket is ignored, as a real stub does). With trust anchors it also
// validates DNSSEC. Every datagram it ignores is recorded (Dropped,
// ResolverConfig.OnDropped). A Resolver is safe for concurrent use.
type Resolver struct {
	cfg     ResolverConfig
	servers []netip.AddrPort
	anchors map[string][]miekg.RR // by canonical zone name

	mu     sync.Mutex
	rng    rand.Source            // guarded by mu
	nextID uint16                 // guarded by mu
	keys   map[string]trustedKeys // validated DNSKEY sets by zone; guarded by mu

	fixedPort chan struct{} // one token: serialises FixedSourcePort exchanges

	dropMu  sync.Mutex
	dropped []DroppedAnswer // guarded by dropMu
}

// NewResolver returns a resolver for cfg, with defaults filled in. It fails
// with a *ConfigError when Net or Servers is missing or a trust anchor is
// neither a DNSKEY nor a DS record.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if cfg.Net == nil {
		return nil, &ConfigError{What: "resolver", Problem: "ResolverConfig.Net is nil: give it the host that sends the queries (a *netsim.Host)"}
	}
	if len(cfg.Servers) == 0 {
		return nil, &ConfigError{What: "resolver", Problem: "ResolverConfig.Servers is empty: give it at least one name server address"}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.FirstTXID == 0 {
		cfg.FirstTXID = DefaultFirstTXID
	}
	if cfg.FixedPort == 0 {
		cfg.FixedPort = DefaultFixedPort
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
		if h, ok := cfg.Net.(*netsim.Host); ok {
			cfg.Now = h.World().Now
		}
	}
	r := &Resolver{
		cfg:       cfg,
		anchors:   make(map[string][]miekg.RR),
		rng:       cfg.Rand,
		nextID:    cfg.FirstTXID,
		keys:      make(map[string]trustedKeys),
		fixedPort: make(chan struct{}, 1),
	}
	if r.rng == nil {
		r.rng = cryptoSource{}
	}
	for _, s := range cfg.Servers {
		if !s.Addr().IsValid() {
			return nil, &ConfigError{What: "resolver", Problem: "invalid server address in ResolverConfig.Servers"}
		}
		if s.Port() == 0 {
			s = netip.AddrPortFrom(s.Addr(), 53)
		}
		r.servers = append(r.servers, s)
	}
	r.cfg.Servers = slices.Clone(r.servers)
	for _, a := range cfg.TrustAnchors {
		switch a.(type) {
		case *miekg.DNSKEY, *miekg.DS:
		default:
			return nil, &ConfigError{What: "resolver", Problem: fmt.Sprintf("trust anchor %v is not a DNSKEY or DS record", a)}
		}
		zone := miekg.CanonicalName(a.Header().Name)
		r.anchors[zone] = append(r.anchors[zone], miekg.Copy(a))
	}
	return r, nil
}

// cryptoSource is a rand.Source reading crypto/rand.
type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:]) // never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}

// LookupNetIP returns the addresses of host: A records for network "ip" or
// "ip4", AAAA for "ip6" (netsim is IPv4-only, so "ip" asks for A only),
// following CNAMEs, in the order the server sent them. An IP literal is
// returned as is. Errors are *LookupError (ErrNoSuchHost when the name or
// its addresses do not exist) or *ValidationError.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var qtype uint16
	switch network {
	case "ip", "ip4":
		qtype = miekg.TypeA
	case "ip6":
		qtype = miekg.TypeAAAA
	default:
		return nil, &LookupError{Name: host, Err: net.UnknownNetworkError(network)}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	rrs, _, err := r.lookup(ctx, host, qtype)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.Addr, 0, len(rrs))
	for _, rr := range rrs {
		var ip net.IP
		switch rr := rr.(type) {
		case *miekg.A:
			ip = rr.A.To4()
		case *miekg.AAAA:
			ip = rr.AAAA
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}

// LookupSRV looks up the SRV records of _service._proto.name (of name
// itself when service and proto are both empty), following CNAMEs. It
// returns the canonical name the records were found at (fully qualified,
// lower case) and the records sorted by priority (lowest first), then
// weight (highest first), then target and port. The order is deterministic:
// there is no RFC 2782 weighted shuffle. Targets are fully qualified.
// Errors are as for LookupNetIP, naming the full SRV name.
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	target := name
	if service != "" || proto != "" {
		target = "_" + service + "._" + proto + "." + name
	}
	rrs, cname, err := r.lookup(ctx, target, miekg.TypeSRV)
	if err != nil {
		return "", nil, err
	}
	srvs := make([]*net.SRV, 0, len(rrs))
	for _, rr := range rrs {
		if s, ok := rr.(*miekg.SRV); ok {
			srvs = append(srvs, &net.SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
		}
	}
	slices.SortFunc(srvs, func(a, b *net.SRV) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Weight, a.Weight),
			strings.Compare(a.Target, b.Target), cmp.Compare(a.Port, b.Port))
	})
	return cname, srvs, nil
}

// lookup resolves (host, qtype), following CNAME chains across queries
// when a server's answer leaves its zone. It returns the records, the name
// they were found at, and a *LookupError or *ValidationError.
func (r *Resolver) lookup(ctx context.Context, host string, qtype uint16) ([]miekg.RR, string, error) {
	fail := func(err error) ([]miekg.RR, string, error) {
		return nil, "", &LookupError{Name: host, Err: err}
	}
	if _, ok := miekg.IsDomainName(host); !ok || host == "" {
		return fail(fmt.Errorf("%q is not a domain name", host))
	}
	name := miekg.CanonicalName(host)
	for range maxChain {
		q := new(miekg.Msg)
		q.SetQuestion(name, qtype)
		if r.anchorZone(name) != "" {
			q.SetEdns0(validatingUDPSize, true)
		} else if r.cfg.EDNS0Size > 0 {
			q.SetEdns0(r.cfg.EDNS0Size, false)
		}
		// A response that fails validation is treated like a forgery:
		// dropped, while the resolver waits for one that validates, so an
		// on-path spoofer that only races the real server loses.
		var accept func(*miekg.Msg) error
		if zone := r.anchorZone(name); zone != "" {
			// Fetch the zone's keys first: validating inside the wait must
			// not need a second query (a fixed source port is taken).
			_, _ = r.trustedKeys(ctx, zone)
			accept = func(resp *miekg.Msg) error { return r.validate(ctx, resp, name, qtype) }
		}
		resp, err := r.exchangeAccepting(ctx, q, accept)
		if err != nil {
			var verr *ValidationError
			if errors.As(err, &verr) {
				return nil, "", verr
			}
			return fail(err)
		}
		if resp.Rcode != miekg.RcodeSuccess && resp.Rcode != miekg.RcodeNameError {
			return fail(&RcodeError{Rcode: resp.Rcode})
		}
		rrs, final := chase(resp.Answer, name, qtype)
		switch {
		case len(rrs) > 0:
			return rrs, final, nil
		case resp.Rcode == miekg.RcodeNameError, final == name:
			return fail(ErrNoSuchHost)
		}
		name = final // the alias leaves the server's zone: ask for the target
	}
	return fail(fmt.Errorf("CNAME chain longer than %d", maxChain))
}

// chase follows the CNAME chain for name through answer and returns the
// records of type qtype at its end and the name the chain ended at.
func chase(answer []miekg.RR, name string, qtype uint16) ([]miekg.RR, string) {
	for range maxChain + 1 {
		var rrs []miekg.RR
		var alias string
		for _, rr := range answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, name) {
				continue
			}
			if h.Rrtype == qtype {
				rrs = append(rrs, rr)
			} else if c, ok := rr.(*miekg.CNAME); ok {
				alias = c.Target
			}
		}
		if len(rrs) > 0 || alias == "" {
			return rrs, name
		}
		name = miekg.CanonicalName(alias)
	}
	return nil, name
}

// Exchange sends q (exactly one question) to the servers as described on
// Resolver and returns the first response that matches it, whatever its
// RCODE. q is not modified: each try sends a copy with its own ID. Exchange
// does no DNSSEC validation; set the DO bit on q to see signatures. Errors
// are *LookupError values naming the question.
func (r *Resolver) Exchange(ctx context.Context, q *miekg.Msg) (*miekg.Msg, error) {
	if q == nil || len(q.Question) != 1 {
		return nil, &LookupError{Name: "(no question)", Err: errors.New("Exchange needs a message with exactly one question")}
	}
	resp, err := r.exchange(ctx, q)
	if err != nil {
		return nil, &LookupError{Name: trimDot(q.Question[0].Name), Err: err}
	}
	return resp, nil
}

func (r *Resolver) now() time.Time { return r.cfg.Now() }

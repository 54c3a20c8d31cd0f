package winname

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/netsim"
)

// Network is the host fallback queries are sent from. *netsim.Host
// implements it.
type Network interface {
	// ListenPacket opens a UDP socket on ":port" (port 0: any).
	ListenPacket(network, address string) (net.PacketConn, error)
}

// Querier defaults: Windows' retransmission counts and intervals.
const (
	DefaultLLMNRTimeout = time.Second // RFC 4795 LLMNR_TIMEOUT
	DefaultLLMNRTries   = 2
	DefaultNBNSTimeout  = 750 * time.Millisecond // NetBT BcastQueryTimeout
	DefaultNBNSTries    = 3                      // NetBT BcastNameQueryCount
)

// NetQuerierConfig declares the real Querier.
type NetQuerierConfig struct {
	// Net is the host queries are sent from. Required.
	Net Network
	// Broadcast is where NBNS queries go (port 137). The zero value is the
	// directed broadcast address of Net's first NIC when Net is a
	// *netsim.Host; otherwise it is required.
	Broadcast netip.Addr
	// LLMNRTimeout and NBNSTimeout are how long one try waits for an
	// answer; zero means DefaultLLMNRTimeout and DefaultNBNSTimeout.
	LLMNRTimeout, NBNSTimeout time.Duration
	// LLMNRTries and NBNSTries are how many queries are sent before giving
	// up; zero means DefaultLLMNRTries and DefaultNBNSTries.
	LLMNRTries, NBNSTries int
	// Rand is the source of query IDs. Nil means crypto/rand. It is used
	// under a lock and must not be used elsewhere.
	Rand rand.Source
	// Now is the clock socket deadlines are computed from; it must be the
	// sockets' clock. Nil means the World's clock when Net is a
	// *netsim.Host, else time.Now.
	Now func() time.Time
}

// NetQuerier sends LLMNR queries to 224.0.0.252:5355 and NBNS queries to
// the broadcast address's port 137, each from a fresh socket on an
// ephemeral port, and takes the first valid unicast response: for LLMNR,
// one from port 5355 whose ID and question match and whose C, TC and RCODE
// are clear, with an A record; for NBNS, one from port 137 with R set,
// RCODE 0, the query's ID and an NB record for the name. Every try resends
// the same query (same ID). It is safe for concurrent use.
type NetQuerier struct {
	cfg NetQuerierConfig

	mu  sync.Mutex
	rng rand.Source // guarded by mu
}

var _ Querier = (*NetQuerier)(nil)

// NewNetQuerier returns a querier for cfg with defaults filled in. It fails
// with a *ConfigError when Net is nil, or Broadcast is unset and cannot be
// derived.
func NewNetQuerier(cfg NetQuerierConfig) (*NetQuerier, error) {
	if cfg.Net == nil {
		return nil, &ConfigError{What: "querier", Problem: "NetQuerierConfig.Net is nil: give it the host that sends the queries"}
	}
	h, isHost := cfg.Net.(*netsim.Host)
	if !cfg.Broadcast.IsValid() && isHost && len(h.NICs()) > 0 {
		cfg.Broadcast = DirectedBroadcast(h.NICs()[0].Prefix())
	}
	if !cfg.Broadcast.Is4() {
		return nil, &ConfigError{What: "querier", Problem: "NetQuerierConfig.Broadcast is not set: give it the subnet's broadcast address"}
	}
	cfg.LLMNRTimeout = cmpOr(cfg.LLMNRTimeout, DefaultLLMNRTimeout)
	cfg.NBNSTimeout = cmpOr(cfg.NBNSTimeout, DefaultNBNSTimeout)
	cfg.LLMNRTries = cmpOr(cfg.LLMNRTries, DefaultLLMNRTries)
	cfg.NBNSTries = cmpOr(cfg.NBNSTries, DefaultNBNSTries)
	if cfg.Now == nil {
		cfg.Now = time.Now
		if isHost {
			cfg.Now = h.World().Now
		}
	}
	q := &NetQuerier{cfg: cfg, rng: cfg.Rand}
	if q.rng == nil {
		q.rng = cryptoSource{}
	}
	return q, nil
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// DirectedBroadcast is the last address of p: the subnet's directed
// broadcast address (10.0.0.255 for 10.0.0.0/24).
func DirectedBroadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// cryptoSource is a rand.Source reading crypto/rand.
type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:]) // never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}

func (q *NetQuerier) nextID() uint16 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return uint16(q.rng.Uint64())
}

// QueryLLMNR implements Querier.
func (q *NetQuerier) QueryLLMNR(ctx context.Context, name string) (netip.AddrPort, []netip.Addr, error) {
	query := NewLLMNRQuery(q.nextID(), name)
	wire, err := query.Pack()
	if err != nil {
		return netip.AddrPort{}, nil, fmt.Errorf("winname: LLMNR query for %q: %w", name, err)
	}
	to := netip.AddrPortFrom(LLMNRGroup, LLMNRPort)
	return q.ask(ctx, LLMNR, name, wire, to, q.cfg.LLMNRTimeout, q.cfg.LLMNRTries,
		func(from netip.AddrPort, b []byte) ([]netip.Addr, bool) {
			resp := new(miekg.Msg)
			if from.Port() != LLMNRPort || resp.Unpack(b) != nil {
				return nil, false
			}
			addrs, err := llmnrAddrs(resp, query)
			return addrs, err == nil
		})
}

// QueryNBNS implements Querier.
func (q *NetQuerier) QueryNBNS(ctx context.Context, name NetBIOSName) (netip.AddrPort, []netip.Addr, error) {
	query := NewNBNSQuery(q.nextID(), name)
	wire, err := query.Marshal()
	if err != nil {
		return netip.AddrPort{}, nil, fmt.Errorf("winname: NBNS query for %v: %w", name, err)
	}
	to := netip.AddrPortFrom(q.cfg.Broadcast, NBNSPort)
	return q.ask(ctx, NBTNS, name.String(), wire, to, q.cfg.NBNSTimeout, q.cfg.NBNSTries,
		func(from netip.AddrPort, b []byte) ([]netip.Addr, bool) {
			resp, err := ParseNBNS(b)
			if from.Port() != NBNSPort || err != nil || !resp.Response() || resp.ID != query.ID ||
				resp.Rcode() != 0 || resp.Opcode() != 0 {
				return nil, false
			}
			for _, a := range resp.Answers {
				if a.Type == NBNSTypeNB && a.Name.Suffix == name.Suffix &&
					strings.EqualFold(a.Name.Name, name.Name) && len(a.Addrs) > 0 {
					return a.Addrs, true
				}
			}
			return nil, false
		})
}

// ask sends wire to `to` up to tries times, waiting timeout after each for
// a datagram accept takes, and returns the first one's source and
// addresses.
func (q *NetQuerier) ask(ctx context.Context, proto Protocol, name string, wire []byte, to netip.AddrPort,
	timeout time.Duration, tries int, accept func(netip.AddrPort, []byte) ([]netip.Addr, bool)) (netip.AddrPort, []netip.Addr, error) {
	fail := func(err error) (netip.AddrPort, []netip.Addr, error) { return netip.AddrPort{}, nil, err }
	pc, err := q.cfg.Net.ListenPacket("udp", ":0")
	if err != nil {
		return fail(fmt.Errorf("winname: %s %s: %w", proto, name, err))
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, miekg.MaxMsgSize)
	for try := 1; try <= tries; try++ {
		if _, err := pc.WriteTo(wire, net.UDPAddrFromAddrPort(to)); err != nil {
			return fail(fmt.Errorf("winname: %s %s: %w", proto, name, err))
		}
		if err := pc.SetReadDeadline(q.cfg.Now().Add(timeout)); err != nil {
			return fail(err)
		}
		for {
			n, from, err := pc.ReadFrom(buf)
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break // next try
			} else if err != nil {
				return fail(fmt.Errorf("winname: %s %s: %w", proto, name, err))
			}
			src := addrPort(from)
			if addrs, ok := accept(src, buf[:n]); ok {
				return src, addrs, nil
			}
		}
	}
	return fail(&NoAnswerError{Protocol: proto, Name: name, Tries: tries})
}

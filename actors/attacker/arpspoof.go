package attacker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/netsim"
)

// DefaultARPInterval is how often an ARPSpoofer repeats its poisoning when
// ARPSpoofConfig.Interval is zero (arpspoof's default).
const DefaultARPInterval = 2 * time.Second

// ARPSpoofConfig declares an ARP spoofing attack on one segment.
type ARPSpoofConfig struct {
	// NIC is the attacker's interface on the victims' segment: every
	// forged message carries its MAC, so the victims' frames come to it.
	// Its host should forward what it does not intercept
	// (HostConfig.Forwarding), or the victims lose their connectivity.
	// Required.
	NIC *netsim.NIC
	// Victims are the addresses to poison, at least two, all in NIC's
	// subnet. Each victim is told that every other victim's address is at
	// NIC's MAC, so two victims (a client and its server, or a host and
	// its gateway) put the attacker between them in both directions.
	Victims []netip.Addr
	// Interval is the time between rounds of poisoning, on the World's
	// clock; zero means DefaultARPInterval. Repetition re-poisons caches
	// that an honest ARP exchange corrected.
	Interval time.Duration
	// Restore makes Close send each victim the true mappings, as arpspoof
	// does on exit, so the victims' traffic goes straight again.
	Restore bool
}

// ARPSpoofer poisons the ARP caches of victims on a segment, each round
// sending every victim, for every other victim's address, an unsolicited
// ARP reply and a gratuitous ARP request (both unicast to the victim) that
// claim the address for the attacker's MAC. Caches with policy
// netsim.ARPAcceptAny learn from both; ARPAcceptSolicited and ARPStaticOnly
// caches and static entries ignore them.
//
// It reports its position as observed: frames from one victim for another
// arriving at the attacker's interface (see PositionMonitor). Its methods
// are safe for concurrent use.
type ARPSpoofer struct {
	cfg   ARPSpoofConfig
	nic   *netsim.NIC
	world *netsim.World
	mon   *PositionMonitor

	mu      sync.Mutex
	state   int // 0 new, 1 running, 2 closed
	macs    map[netip.Addr]net.HardwareAddr
	rounds  int
	sent    int
	timer   netsim.Timer
	pending sync.WaitGroup // a scheduled round
	cancel  context.CancelFunc
}

// NewARPSpoofer checks cfg and returns an unstarted spoofer.
func NewARPSpoofer(cfg ARPSpoofConfig) (*ARPSpoofer, error) {
	if cfg.NIC == nil {
		return nil, &ConfigError{"ARPSpoofConfig.NIC", "nil; give the attacker's interface on the victims' segment"}
	}
	if len(cfg.Victims) < 2 {
		return nil, &ConfigError{"ARPSpoofConfig.Victims", "need at least two addresses to put the attacker between"}
	}
	cfg.Victims = slices.Clone(cfg.Victims)
	for i, v := range cfg.Victims {
		switch {
		case !cfg.NIC.Prefix().Contains(v):
			return nil, &ConfigError{"ARPSpoofConfig.Victims", fmt.Sprintf("%s is outside the attacker's subnet %s; ARP reaches only the segment", v, cfg.NIC.Prefix().Masked())}
		case v == cfg.NIC.Addr():
			return nil, &ConfigError{"ARPSpoofConfig.Victims", fmt.Sprintf("%s is the attacker's own address", v)}
		case slices.Contains(cfg.Victims[:i], v):
			return nil, &ConfigError{"ARPSpoofConfig.Victims", fmt.Sprintf("%s is listed twice", v)}
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultARPInterval
	}
	return &ARPSpoofer{cfg: cfg, nic: cfg.NIC, world: cfg.NIC.Host().World()}, nil
}

// Start learns the victims' true MACs by ARP (retrying every second until
// ctx ends), starts watching for intercepted traffic, sends the first
// round of poison and schedules the next every Interval. It returns once
// the first round is on the wire. It fails when ctx ends before every
// victim answered, when called twice, and after Close.
func (s *ARPSpoofer) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.state != 0 {
		s.mu.Unlock()
		return fmt.Errorf("attacker: ARP spoofer already started or closed")
	}
	s.state = 1
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.cancel = cancel
	s.mu.Unlock()
	macs, err := resolveMACs(ctx, s.nic, s.cfg.Victims)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != 1 {
		return fmt.Errorf("attacker: ARP spoofer closed while starting")
	}
	s.macs = macs
	s.mon = NewPositionMonitor(s.nic)
	s.roundLocked()
	s.scheduleLocked()
	return nil
}

// roundLocked sends one round of poison. Called with s.mu held.
func (s *ARPSpoofer) roundLocked() {
	mine := s.nic.MAC()
	for _, v := range s.cfg.Victims {
		vmac := s.macs[v]
		for _, claimed := range s.cfg.Victims {
			if claimed == v {
				continue
			}
			// Unsolicited reply: "claimed is at mine", to v.
			s.nic.WriteFrame(noteFrame(s.nic, arpFrame(layers.ARPReply, mine, claimed, vmac, v, vmac),
				"spoofed ARP reply %s is-at %s", claimed, mine))
			// Gratuitous ARP: a request announcing claimed at mine,
			// unicast to v so other hosts keep their caches.
			s.nic.WriteFrame(noteFrame(s.nic, arpFrame(layers.ARPRequest, mine, claimed, zeroMAC, claimed, vmac),
				"spoofed gratuitous ARP %s is-at %s", claimed, mine))
			s.sent += 2
		}
	}
	s.rounds++
}

func (s *ARPSpoofer) scheduleLocked() {
	s.pending.Add(1)
	s.timer = s.world.Clock().AfterFunc(s.cfg.Interval, func() {
		defer s.pending.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-s.world.Done():
			return
		default:
		}
		if s.state != 1 {
			return
		}
		s.roundLocked()
		s.scheduleLocked()
	})
}

// Close stops the rounds and the monitor and, with Restore, sends every
// victim the true mappings. It waits for a round in progress. Idempotent;
// the report stays readable.
func (s *ARPSpoofer) Close() error {
	s.mu.Lock()
	prev := s.state
	s.state = 2
	if s.cancel != nil {
		s.cancel() // a Start still resolving gives up
	}
	if s.timer != nil && s.timer.Stop() {
		s.pending.Done()
	}
	s.mu.Unlock()
	s.pending.Wait()
	if prev != 1 || s.mon == nil {
		return nil
	}
	s.mon.Close()
	if s.cfg.Restore {
		s.mu.Lock()
		for _, v := range s.cfg.Victims {
			for _, claimed := range s.cfg.Victims {
				if claimed != v {
					// A reply, and a gratuitous request: a cache that
					// locks a fresh entry against replies (Linux's
					// locktime) still takes the gratuitous one.
					s.nic.WriteFrame(noteFrame(s.nic, arpFrame(layers.ARPReply, s.macs[claimed], claimed, s.macs[v], v, s.macs[v]),
						"restoring ARP reply %s is-at %s", claimed, s.macs[claimed]))
					s.nic.WriteFrame(noteFrame(s.nic, arpFrame(layers.ARPRequest, s.macs[claimed], claimed, zeroMAC, claimed, s.macs[v]),
						"restoring gratuitous ARP %s is-at %s", claimed, s.macs[claimed]))
				}
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// ARPSpoofReport is what an ARPSpoofer did and observed.
type ARPSpoofReport struct {
	// Rounds of poison sent, and ARP frames in them.
	Rounds, FramesSent int
	// MACs are the victims' true hardware addresses, as learned by ARP.
	MACs map[netip.Addr]string
	// Positions has one entry per ordered pair of victims: whether
	// traffic from Victim for Peer reached the attacker.
	Positions []Position
	// Flows lists all traffic between other hosts that reached the
	// attacker, including packets a victim routed through a poisoned
	// gateway address to destinations beyond it.
	Flows []Flow
}

// Position is the attacker's observed position between two victims.
type Position struct {
	// Victim sent frames for Peer.
	Victim, Peer netip.Addr
	// Intercepted reports whether any of them arrived at the attacker's
	// MAC: Victim's ARP cache maps Peer to the attacker. Flow counts them.
	Intercepted bool
	Flow        Flow
}

// String says "10.0.0.50 -> 10.0.0.11 intercepted (12 frames)" or
// "10.0.0.50 -> 10.0.0.11 not intercepted".
func (p Position) String() string {
	if !p.Intercepted {
		return fmt.Sprintf("%s -> %s not intercepted", p.Victim, p.Peer)
	}
	return fmt.Sprintf("%s -> %s intercepted (%d frames)", p.Victim, p.Peer, p.Flow.Frames)
}

// Report returns a copy of what the spoofer did and observed so far.
func (s *ARPSpoofer) Report() ARPSpoofReport {
	s.mu.Lock()
	r := ARPSpoofReport{Rounds: s.rounds, FramesSent: s.sent, MACs: make(map[netip.Addr]string, len(s.macs))}
	for ip, mac := range s.macs {
		r.MACs[ip] = mac.String()
	}
	mon := s.mon
	s.mu.Unlock()
	if mon != nil {
		r.Flows = mon.Flows()
	}
	for _, v := range s.cfg.Victims {
		for _, peer := range s.cfg.Victims {
			if peer == v {
				continue
			}
			p := Position{Victim: v, Peer: peer, Flow: Flow{Src: v, Dst: peer}}
			if mon != nil {
				p.Flow, p.Intercepted = mon.Flow(v, peer)
			}
			r.Positions = append(r.Positions, p)
		}
	}
	return r
}

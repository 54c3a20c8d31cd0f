package dhcp_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/netsim"
)

// lab is the access segment 10.0.0.0/24: a DHCP server host dc
// (10.0.0.10), a rogue host (10.0.0.66) and clients added unaddressed.
type lab struct {
	w         *netsim.World
	lan       *netsim.Segment
	dc, rogue *netsim.Host
}

func newLab(t *testing.T) *lab {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	l := &lab{w: w, lan: w.NewSegment("access", netsim.SegmentConfig{})}
	l.dc = l.host(t, "dc", netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.10/24")})
	l.rogue = l.host(t, "rogue", netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.66/24")})
	return l
}

func (l *lab) host(t *testing.T, name string, nc netsim.NICConfig) *netsim.Host {
	t.Helper()
	h := l.w.NewHost(name, netsim.HostConfig{})
	if _, err := h.AddNIC(l.lan, nc); err != nil {
		t.Fatal(err)
	}
	return h
}

// client adds an unaddressed host and returns its NIC.
func (l *lab) client(t *testing.T, name string) *netsim.NIC {
	t.Helper()
	return l.host(t, name, netsim.NICConfig{Unaddressed: true}).NICs()[0]
}

// contoso is the real server's configuration on host h.
func contoso(h *netsim.Host) dhcp.ServerConfig {
	return dhcp.ServerConfig{
		Host:      h,
		Subnet:    netip.MustParsePrefix("10.0.0.0/24"),
		PoolFirst: netip.MustParseAddr("10.0.0.100"),
		PoolLast:  netip.MustParseAddr("10.0.0.199"),
		Router:    netip.MustParseAddr("10.0.0.1"),
		DNS:       []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.0.54")},
		Domain:    "contoso.com",
		WPAD:      "http://wpad.contoso.com/wpad.dat",
		LeaseTime: time.Hour,
	}
}

// eventLog records a server's events and signals each on a channel.
type eventLog struct {
	mu     sync.Mutex
	events []dhcp.Event
	ch     chan dhcp.Event
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan dhcp.Event, 64)} }

func (e *eventLog) add(ev dhcp.Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
	e.ch <- ev
}

func (e *eventLog) kinds() []dhcp.EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []dhcp.EventKind
	for _, ev := range e.events {
		out = append(out, ev.Kind)
	}
	return out
}

// wait returns the next event, failing the test if it is not of kind.
func (e *eventLog) wait(t *testing.T, kind dhcp.EventKind) dhcp.Event {
	t.Helper()
	ev := <-e.ch
	if ev.Kind != kind {
		t.Fatalf("server event %s for %v, want %s", ev.Kind, ev.Addr, kind)
	}
	return ev
}

// server builds a server for cfg and opens its socket on port 67; start
// serves it until the test ends.
type server struct {
	*dhcp.Server
	start func()
}

func newServer(t *testing.T, cfg dhcp.ServerConfig) *server {
	t.Helper()
	s, err := dhcp.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := cfg.Host.ListenPacket("udp", ":67")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var once sync.Once
	start := func() { once.Do(func() { go func() { done <- s.Serve(ctx, pc) }() }) }
	t.Cleanup(func() {
		cancel()
		start() // so Serve closes pc and returns even if never started
		if err := <-done; err != context.Canceled {
			t.Errorf("Serve returned %v, want context.Canceled", err)
		}
	})
	return &server{Server: s, start: start}
}

func serve(t *testing.T, cfg dhcp.ServerConfig) *server {
	t.Helper()
	s := newServer(t, cfg)
	s.start()
	return s
}

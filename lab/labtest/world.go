package labtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// Option configures a World (NewWorld) or a catalog run (RunCatalog).
type Option func(*config)

type config struct {
	seed   uint64
	impair []string
	suite  string
	junit  string
	replay string
}

// WithSeed seeds the World: the same seed and the same calls make the same
// choices (TCP sequence numbers, ports, canaries, impairments).
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithImpair impairs the network from its start with a netsim.ImpairSpec,
// e.g. "delay=20ms,loss=0.01" or "host=api:delay=5ms". Targets need not
// exist yet. A spec that does not parse fails the test.
func WithImpair(spec string) Option { return func(c *config) { c.impair = append(c.impair, spec) } }

// World is one simulated network owned by a test (NewWorld) or by a
// catalog scenario's run (Scenario): its segments and hosts, the in-world
// DNS, the certificate authorities, the attacks, and the evidence the
// lab's oracle judges (Result). In a test its capture and TLS key log are
// kept in memory and written to the test's artifact directory when the
// test fails; in a scenario they are the run's (lab.Env).
type World struct {
	t   owner
	env *lab.Env // the run's, for a World of a Scenario; else nil
	net *netsim.World
	ev  *lab.Evidence
	ctx context.Context

	keyLog  io.Writer     // where every host's TLS secrets go
	keyBuf  *lockedBuffer // a test's key log, kept for its artifacts
	pcap    *lockedBuffer // a test's capture, kept for its artifacts
	capture *netsim.Capture

	mu       sync.Mutex
	rand     *rand.Rand
	canaries []lab.Canary
	lans     []*LAN
	hosts    map[string]*Host
	stops    []func()
	attacked bool
	// presented maps the DER of every certificate an attacker presented
	// to the attacker's name, so a victim completing a handshake with it
	// records an accepted identity.
	presented map[string]string
	// sessions are the handshakes hosts completed as clients, by local
	// address.
	sessions map[netip.AddrPort]tls.ConnectionState
	// tried are the client connections whose handshake a Host ran, by
	// local address.
	tried map[netip.AddrPort]bool
	// diagnoses are what real client programs said about a refusal, by
	// host (RealClient).
	diagnoses map[string]diagnosis

	attacks    []*Attack
	clients    []net.Conn
	bodies     []io.ReadCloser
	hs         inflight
	cas        []*pki.CA
	revocation atomic.Pointer[pki.RevocationServer]
}

// owner is what a World needs from whoever owns it: a test
// (testing.TB), or a scenario's run, where a fatal error ends the
// scenario's body with that error.
type owner interface {
	Helper()
	Fatalf(format string, args ...any)
	Name() string
}

// logf logs to the test's log; a scenario's World keeps no log.
func (w *World) logf(format string, args ...any) {
	if l, ok := w.t.(interface{ Logf(string, ...any) }); ok {
		l.Logf(format, args...)
	}
}

// newWorld returns a World on nw recording into ev, whose work ends with
// ctx.
func newWorld(t owner, ctx context.Context, nw *netsim.World, ev *lab.Evidence) *World {
	return &World{
		t: t, net: nw, ev: ev, ctx: ctx,
		rand:      rand.New(rand.NewPCG(nw.Seed(), 0x6c6162)),
		hosts:     map[string]*Host{},
		presented: map[string]string{},
	}
}

// NewWorld starts a World for t. t.Cleanup stops everything it started,
// in reverse order, then closes the network; when t has failed, it writes
// the capture (<test>.pcapng) and the TLS key log (<test>.keys) to
// t.ArtifactDir (keep them with go test -artifacts) and logs their paths.
func NewWorld(t testing.TB, opts ...Option) *World {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	nw := netsim.NewWorld(netsim.Config{Seed: c.seed})
	ctx, cancel := context.WithCancel(context.Background())
	w := newWorld(t, ctx, nw, &lab.Evidence{})
	w.keyBuf, w.pcap = &lockedBuffer{}, &lockedBuffer{}
	w.keyLog = w.keyBuf
	capture, err := netsim.NewCapture(w.pcap)
	if err != nil {
		t.Fatalf("labtest: capture: %v", err)
	}
	w.capture = capture
	t.Cleanup(func() {
		w.stop()
		cancel()
		_ = nw.Close()
		_ = capture.Close()
		if t.Failed() {
			w.writeArtifacts(t)
		}
	})
	for _, s := range c.impair {
		spec, err := netsim.ParseImpairSpec(s)
		if err == nil {
			err = spec.Apply(nw)
		}
		if err != nil {
			t.Fatalf("labtest: WithImpair(%q): %v", s, err)
		}
	}
	return w
}

// stop runs what the World started, in reverse order.
func (w *World) stop() {
	w.mu.Lock()
	stops := w.stops
	w.stops = nil
	w.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
}

// Net is the underlying netsim.World, for what labtest does not wrap.
func (w *World) Net() *netsim.World { return w.net }

// Evidence is where the World records what it observed; tests may add
// their own facts (Reached, Refused, Delivered ...). Result judges it.
func (w *World) Evidence() *lab.Evidence { return w.ev }

// KeyLog is a copy of a test World's TLS key log (NSS format); hosts put
// the World's key log into every tls.Config they are given that has no
// KeyLogWriter of its own. A Scenario's World logs to the run's key log
// instead (lab.Env.KeyLog) and returns an empty buffer.
func (w *World) KeyLog() *bytes.Buffer {
	if w.keyBuf == nil {
		return &bytes.Buffer{}
	}
	return bytes.NewBuffer(w.keyBuf.Bytes())
}

// Canary returns a new unguessable secret owned by owner, e.g. a
// password the test sends: an attacker whose bytes contain it broke
// confidentiality.
func (w *World) Canary(owner string) lab.Canary {
	if w.env != nil {
		return w.env.NewCanary(owner)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var b [8]byte
	for i := range b {
		b[i] = byte(w.rand.Uint32())
	}
	c := lab.Canary{Owner: owner, Token: "CANARY-" + hex.EncodeToString(b[:])}
	w.canaries = append(w.canaries, c)
	return c
}

// Canaries returns the World's canaries, in the order made.
func (w *World) Canaries() []lab.Canary {
	if w.env != nil {
		return w.env.Canaries()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]lab.Canary(nil), w.canaries...)
}

// Received records that h received data: every canary in it was
// delivered (lab.Evidence.Delivered), which is how a World without an
// attack passes. It returns how many canaries data holds.
func (w *World) Received(h *Host, data []byte) int {
	found := lab.FindCanaries(data, w.Canaries())
	for _, c := range found {
		w.ev.Delivered(h.name, "received %s's canary", c.Owner)
	}
	return len(found)
}

// Accepted records that victim accepted the attacker as identity: a
// compromise, so the verdict is broken.
func (w *World) Accepted(victim, identity string) {
	w.ev.IdentityAccepted(victim, identity, "")
}

// onStop registers f to run at cleanup, before the network closes; stops
// run in reverse order of registration.
func (w *World) onStop(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stops = append(w.stops, f)
}

// writeArtifacts writes a test World's capture and key log to t's
// artifact dir.
func (w *World) writeArtifacts(t testing.TB) {
	dir := artifactDir(t)
	base := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	for _, a := range []struct {
		ext  string
		data []byte
		perm os.FileMode
	}{{".pcapng", w.pcap.Bytes(), lab.PcapMode}, {".keys", w.keyBuf.Bytes(), 0o600}} {
		path := filepath.Join(dir, base+a.ext)
		if err := os.WriteFile(path, a.data, a.perm); err != nil {
			t.Logf("labtest: writing %s: %v", path, err)
			continue
		}
		t.Logf("labtest: kept %s", path)
	}
}

// artifactDir is t.ArtifactDir when t has one (a *testing.T, B or F),
// else a temporary directory.
func artifactDir(t testing.TB) string {
	if a, ok := t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return t.TempDir()
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers whose writes
// never fail.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// LAN is one switched segment with an IPv4 prefix. Hosts get its
// addresses in order from .10; its DNS server, started with the first
// host, is .2 and answers for "<host>.<lan>".
type LAN struct {
	w      *World
	seg    *netsim.Segment
	name   string
	prefix netip.Prefix
	next   netip.Addr
	dns    *lanDNS
	routes []lanRoute // to other LANs, through routers (World.Router)
	hosts  []*Host
}

// lanRoute is a route every host of a LAN takes.
type lanRoute struct {
	dst netip.Prefix
	via netip.Addr
}

// DefaultLAN is the name of the LAN World.Host puts hosts on, with
// DefaultPrefix.
const DefaultLAN = "lan"

// DefaultPrefix is the prefix of DefaultLAN, 10.0.0.0/24.
var DefaultPrefix = netip.MustParsePrefix("10.0.0.0/24")

// Host adds a host named name to the LAN named DefaultLAN (10.0.0.0/24),
// made on first use: the shortest way to a World of one LAN, whose hosts
// resolve as "<name>.lan".
func (w *World) Host(name string) *Host {
	w.t.Helper()
	w.mu.Lock()
	var lan *LAN
	for _, l := range w.lans {
		if l.name == DefaultLAN {
			lan = l
		}
	}
	w.mu.Unlock()
	if lan == nil {
		lan = w.LAN(DefaultLAN, DefaultPrefix)
	}
	return lan.Host(name)
}

// LAN adds a segment named name with prefix, e.g. 10.0.0.0/24. Its hosts
// are named "<host>.<name>" in the World's DNS.
func (w *World) LAN(name string, prefix netip.Prefix) *LAN {
	w.t.Helper()
	seg := w.net.NewSegment(name, netsim.SegmentConfig{})
	if w.env != nil {
		w.env.Capture(seg)
	} else if err := w.capture.AttachSegment(seg); err != nil {
		w.t.Fatalf("labtest: capturing %s: %v", name, err)
	}
	prefix = prefix.Masked()
	l := &LAN{w: w, seg: seg, name: name, prefix: prefix, next: nth(prefix, 10)}
	w.mu.Lock()
	w.lans = append(w.lans, l)
	w.mu.Unlock()
	return l
}

// Segment is the LAN's netsim segment.
func (l *LAN) Segment() *netsim.Segment { return l.seg }

// Name is the LAN's name, the DNS domain of its hosts.
func (l *LAN) Name() string { return l.name }

// nth returns the n-th address of p.
func nth(p netip.Prefix, n int) netip.Addr {
	a := p.Addr()
	for range n {
		a = a.Next()
	}
	return a
}

// Host adds a host named name with the LAN's next address, registers
// "<name>.<lan>" in the World's DNS, and gives it a resolver.
func (l *LAN) Host(name string) *Host {
	l.w.t.Helper()
	h := l.addHost(name, false, l.next)
	l.next = l.next.Next()
	return h
}

func (l *LAN) addHost(name string, forwarding bool, addr netip.Addr) *Host {
	w := l.w
	w.mu.Lock()
	_, dup := w.hosts[name]
	w.mu.Unlock()
	if dup {
		w.t.Fatalf("labtest: a host named %q exists", name)
	}
	if !l.prefix.Contains(addr) {
		w.t.Fatalf("labtest: LAN %s (%v) has no address left for %s", l.name, l.prefix, name)
	}
	var nh *netsim.Host
	if forwarding {
		nh = w.net.NewRouter(name, netsim.HostConfig{Forwarding: true})
	} else {
		nh = w.net.NewHost(name, netsim.HostConfig{})
	}
	if _, err := nh.AddNIC(l.seg, netsim.NICConfig{Addr: netip.PrefixFrom(addr, l.prefix.Bits())}); err != nil {
		w.t.Fatalf("labtest: %s on %s: %v", name, l.name, err)
	}
	h := &Host{w: w, lan: l, nh: nh, name: name}
	for _, r := range l.routes {
		if err := nh.AddRoute(r.dst, r.via); err != nil {
			w.t.Fatalf("labtest: %s's route to %v: %v", name, r.dst, err)
		}
	}
	l.hosts = append(l.hosts, h)
	if name != dnsHostName(l) {
		d := l.ensureDNS()
		d.add(h)
		h.resolver = d.resolverFor(h)
	}
	w.mu.Lock()
	w.hosts[name] = h
	w.mu.Unlock()
	return h
}

// Router connects lans through a new router named name, with the
// address .1 on each (its name resolves on the first). Every host of those
// LANs, present and future, routes the other LANs' prefixes through it,
// and resolves their names ("api.dmz") by asking their DNS servers.
func (w *World) Router(name string, lans ...*LAN) *Host {
	w.t.Helper()
	if len(lans) < 2 {
		w.t.Fatalf("labtest: router %s needs two LANs or more, got %d", name, len(lans))
	}
	r := lans[0].addHost(name, true, nth(lans[0].prefix, 1))
	for _, l := range lans[1:] {
		if _, err := r.nh.AddNIC(l.seg, netsim.NICConfig{Addr: netip.PrefixFrom(nth(l.prefix, 1), l.prefix.Bits())}); err != nil {
			w.t.Fatalf("labtest: router %s on %s: %v", name, l.name, err)
		}
	}
	for _, l := range lans {
		via := nth(l.prefix, 1)
		for _, other := range lans {
			if other == l {
				continue
			}
			l.routes = append(l.routes, lanRoute{other.prefix, via})
			for _, h := range l.hosts {
				if h == r {
					continue
				}
				if err := h.nh.AddRoute(other.prefix, via); err != nil {
					w.t.Fatalf("labtest: %s's route to %v: %v", h.name, other.prefix, err)
				}
			}
		}
	}
	return r
}

// FQDN returns "<name>.<lan>", the name h resolves by.
func (h *Host) FQDN() string { return h.name + "." + h.lan.name }

// String returns the host's name.
func (h *Host) String() string { return h.name }

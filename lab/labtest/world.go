package labtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
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

// World is one simulated network owned by a test: its segments and hosts,
// the in-world DNS, the certificate authorities, the attacks, and the
// evidence the lab's oracle judges (Result). Its capture and TLS key log
// are kept in memory and written to the test's artifact directory when the
// test fails. NewWorld registers its teardown with t.Cleanup.
type World struct {
	t   testing.TB
	net *netsim.World
	ev  *lab.Evidence
	ctx context.Context

	keyLog  *lockedBuffer
	pcap    *lockedBuffer
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

	attacks    []*Attack
	clients    []net.Conn
	bodies     []io.ReadCloser
	hs         inflight
	cas        []*pki.CA
	revocation atomic.Pointer[pki.RevocationServer]
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
	w := &World{
		t: t, net: nw, ev: &lab.Evidence{}, ctx: ctx,
		keyLog: &lockedBuffer{}, pcap: &lockedBuffer{},
		rand:      rand.New(rand.NewPCG(nw.Seed(), 0x6c6162)),
		hosts:     map[string]*Host{},
		presented: map[string]string{},
	}
	capture, err := netsim.NewCapture(w.pcap)
	if err != nil {
		t.Fatalf("labtest: capture: %v", err)
	}
	w.capture = capture
	t.Cleanup(func() {
		w.mu.Lock()
		stops := w.stops
		w.stops = nil
		w.mu.Unlock()
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		cancel()
		_ = nw.Close()
		_ = capture.Close()
		if t.Failed() {
			w.writeArtifacts()
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

// Net is the underlying netsim.World, for what labtest does not wrap.
func (w *World) Net() *netsim.World { return w.net }

// Evidence is where the World records what it observed; tests may add
// their own facts (Reached, Refused, Delivered ...). Result judges it.
func (w *World) Evidence() *lab.Evidence { return w.ev }

// KeyLog is the World's TLS key log (NSS format). Hosts put it into every
// tls.Config they are given that has no KeyLogWriter of its own.
func (w *World) KeyLog() *bytes.Buffer { return bytes.NewBuffer(w.keyLog.Bytes()) }

// Canary returns a new unguessable secret owned by owner, e.g. a
// password the test sends: an attacker whose bytes contain it broke
// confidentiality.
func (w *World) Canary(owner string) lab.Canary {
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
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]lab.Canary(nil), w.canaries...)
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

// writeArtifacts writes the capture and key log to the artifact dir.
func (w *World) writeArtifacts() {
	dir := artifactDir(w.t)
	base := strings.NewReplacer("/", "_", " ", "_").Replace(w.t.Name())
	for _, a := range []struct {
		ext  string
		data []byte
		perm os.FileMode
	}{{".pcapng", w.pcap.Bytes(), lab.PcapMode}, {".keys", w.keyLog.Bytes(), 0o600}} {
		path := filepath.Join(dir, base+a.ext)
		if err := os.WriteFile(path, a.data, a.perm); err != nil {
			w.t.Logf("labtest: writing %s: %v", path, err)
			continue
		}
		w.t.Logf("labtest: kept %s", path)
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
}

// LAN adds a segment named name with prefix, e.g. 10.0.0.0/24. Its hosts
// are named "<host>.<name>" in the World's DNS.
func (w *World) LAN(name string, prefix netip.Prefix) *LAN {
	w.t.Helper()
	seg := w.net.NewSegment(name, netsim.SegmentConfig{})
	if err := w.capture.AttachSegment(seg); err != nil {
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

// FQDN returns "<name>.<lan>", the name h resolves by.
func (h *Host) FQDN() string { return h.name + "." + h.lan.name }

// String returns the host's name.
func (h *Host) String() string { return h.name }

var _ = fmt.Sprint

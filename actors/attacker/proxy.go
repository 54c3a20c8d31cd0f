package attacker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/tlslab/tlslab/internal/notify"
	"github.com/tlslab/tlslab/netsim"
)

// DefaultTimeout bounds handshakes and upstream dials when a config's
// Timeout is zero.
const DefaultTimeout = 10 * time.Second

// ProxyConfig declares a transparent man in the middle on one TCP port.
type ProxyConfig struct {
	// Host is the attacker's host. It must receive the victims' frames for
	// the port: an ARPSpoofer, a RogueGateway or a hijacked DNS answer puts
	// it there. It should forward what it does not intercept
	// (HostConfig.Forwarding). Required.
	Host *netsim.Host
	// Port is the TCP port intercepted on every address (ListenTransparent),
	// e.g. 5061. Required.
	Port uint16
	// Victim plays the server to the victim: VictimTLS (terminate TLS with
	// a chosen certificate), VictimPlain (take the bytes as they come) or
	// VictimRefuse. Required.
	Victim VictimSide
	// Upstream reaches the real server: UpstreamTLS, UpstreamPlain, or
	// SIPResponder to play the server. Required.
	Upstream UpstreamSide
	// SIP relays whole SIP messages (RFC 3261 framing) instead of bytes as
	// they arrive, records each message, and lets Inject write forged
	// requests between them. A stream that is not SIP is relayed raw.
	SIP bool
	// MaxCapture bounds the bytes kept per direction per session for
	// canary search; zero means DefaultMaxCapture.
	MaxCapture int
	// Timeout bounds the victim's handshake and the upstream connection,
	// on the World's clock; zero means DefaultTimeout.
	Timeout time.Duration
}

// Proxy is a transparent man in the middle: it accepts the TCP connections
// that reach its host for Port, whatever address they were meant for,
// answers the victim as its Victim side says, connects upstream as its
// Upstream side says, and relays between the two, recording every byte
// (and, with SIP, every message) in both directions. Its records are
// Sessions and Report; its methods are safe for concurrent use.
type Proxy struct {
	cfg   ProxyConfig
	world *netsim.World

	mu       sync.Mutex
	state    int // 0 new, 1 running, 2 closed
	sessions []*session
	changed  notify.Signal // broadcast when a session starts or ends
	ctx      context.Context
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup
}

var errProxyClosed = errors.New("attacker: proxy closed")

// NewProxy checks cfg and returns an unstarted proxy.
func NewProxy(cfg ProxyConfig) (*Proxy, error) {
	switch {
	case cfg.Host == nil:
		return nil, &ConfigError{"ProxyConfig.Host", "nil; give the attacker's host"}
	case cfg.Port == 0:
		return nil, &ConfigError{"ProxyConfig.Port", "zero; name the port to intercept, e.g. 5061"}
	case cfg.Victim == nil:
		return nil, &ConfigError{"ProxyConfig.Victim", "nil; say how to answer the victim (VictimTLS, VictimPlain, VictimRefuse)"}
	case cfg.Upstream == nil:
		return nil, &ConfigError{"ProxyConfig.Upstream", "nil; say how to reach the server (UpstreamTLS, UpstreamPlain, SIPResponder)"}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.MaxCapture = maxCapture(cfg.MaxCapture)
	return &Proxy{cfg: cfg, world: cfg.Host.World()}, nil
}

// Start listens transparently on Port and serves in the background until
// ctx ends or Close; it is intercepting when it returns. It fails when the
// port is taken, when called twice, and after Close.
func (p *Proxy) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != 0 {
		return fmt.Errorf("attacker: proxy on port %d already started or closed", p.cfg.Port)
	}
	ln, err := p.cfg.Host.ListenTransparent("tcp", ":"+strconv.Itoa(int(p.cfg.Port)))
	if err != nil {
		return fmt.Errorf("attacker: intercepting port %d: %w", p.cfg.Port, err)
	}
	p.state = 1
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	p.wg.Go(func() {
		<-p.ctx.Done()
		ln.Close()
	})
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.state != 1 {
				p.mu.Unlock()
				c.Close()
				return
			}
			s := newSession(p, len(p.sessions)+1, c)
			p.sessions = append(p.sessions, s)
			p.wg.Go(func() { s.run(c) })
			p.mu.Unlock()
			p.changed.Broadcast()
		}
	})
	return nil
}

// Close stops intercepting, closes every session's connections and waits
// for every goroutine the proxy started. Idempotent; the records stay
// readable.
func (p *Proxy) Close() error {
	p.mu.Lock()
	prev := p.state
	p.state = 2
	cancel := p.cancel
	p.mu.Unlock()
	if prev == 1 {
		cancel(errProxyClosed)
		p.wg.Wait()
	}
	return nil
}

// Sessions returns a copy of every intercepted connection's record, in
// the order accepted.
func (p *Proxy) Sessions() []Session {
	p.mu.Lock()
	ss := append([]*session(nil), p.sessions...)
	p.mu.Unlock()
	out := make([]Session, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.record())
	}
	return out
}

// SessionsChanged returns a channel that is closed when the proxy next
// accepts a connection or one of its sessions ends: take it, then read
// Sessions, and wait on it if what you look for is not there yet.
func (p *Proxy) SessionsChanged() <-chan struct{} { return p.changed.Next() }

// ProxyReport is what a proxy obtained.
type ProxyReport struct {
	// Sessions are the intercepted connections, each with the canaries
	// found in its bytes.
	Sessions []Session
	// Found lists the canaries found in any session's captured bytes
	// (plaintext after the victim's TLS was terminated or stripped;
	// ciphertext in a passthrough relay), in the order asked for.
	Found []string
	// CapturedBytes counts the application bytes relayed, both ways, all
	// sessions.
	CapturedBytes int64
}

// Report searches everything captured so far for canaries. It may be
// called at any time.
func (p *Proxy) Report(canaries []string) ProxyReport {
	p.mu.Lock()
	ss := append([]*session(nil), p.sessions...)
	p.mu.Unlock()
	var r ProxyReport
	var all [][]byte
	for _, s := range ss {
		rec, data := s.snapshot()
		rec.Found = found(canaries, data...)
		r.Sessions = append(r.Sessions, rec)
		r.CapturedBytes += rec.FromVictim + rec.FromServer
		all = append(all, data...)
	}
	r.Found = found(canaries, all...)
	return r
}

func (p *Proxy) session(id int) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id < 1 || id > len(p.sessions) {
		return nil
	}
	return p.sessions[id-1]
}

// now is the World's clock.
func (p *Proxy) now() time.Time { return p.world.Now() }

// addrPortOf returns a TCP address as a netip.AddrPort; invalid for
// others.
func addrPortOf(a net.Addr) (ap netip.AddrPort) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap = ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

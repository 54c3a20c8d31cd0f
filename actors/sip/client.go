package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// ClientConfig declares a user agent (a Skype for Business client).
type ClientConfig struct {
	// User is the signed-in user, "sip:alice@contoso.com" or
	// "alice@contoso.com". Required.
	User string
	// Domain is the domain whose pool the client looks up; empty means
	// User's domain.
	Domain string
	// Server, "host:port", is the server to dial instead of finding the
	// pool through SRV: a client that learnt its pool some other way
	// (autodiscover) sets it. The client connects over TLS with the TLS
	// server name set to host, resolving host through Resolver unless it
	// is an IP address; with AllowPlaintextFallback, it then tries
	// plaintext TCP to host on port 5060. Empty means SRV.
	Server string
	// Resolver finds the pool: SRV _sip._tls.<Domain>, or when that has no
	// answer _sipinternaltls._tcp.<Domain>, then the target's address.
	// Required.
	Resolver Resolver
	// Dialer opens connections (the client's *netsim.Host). Required.
	Dialer Dialer
	// TLS is the client's TLS config: RootCAs (the trust store), Time (the
	// World's clock), KeyLogWriter and so on are the caller's. It is cloned
	// per connection with ServerName set to the SRV target dialled, so
	// crypto/tls verifies the chain and that name. Nil means an empty
	// config (system roots). It must not be modified while the client is
	// in use.
	TLS *tls.Config
	// AllowPlaintextFallback lets the client fall back to plaintext TCP
	// when no TLS server answers (no record, refused, or any TLS failure,
	// certificate errors included): _sip._tcp.<Domain> SRV, or else the TLS
	// targets on port 5060. Default false: the hardened client never sends
	// SIP in the clear.
	AllowPlaintextFallback bool
	// Timeout bounds each step (dial and handshake, each transaction); zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for deadlines; nil means time.Now. Give it the clock
	// the connections measure deadlines against (the World's).
	Now func() time.Time
	// Rand is the source of tags, branches and Call-IDs; nil means
	// crypto/rand.
	Rand io.Reader

	// Credential answers a server's MS-SIPAE NTLM demand (401 to REGISTER)
	// with the user's NTLMv2 response; Workstation is the machine name
	// sent with it. Nil means the client cannot authenticate: a 401 makes
	// Register fail.
	Credential  *ntlm.Credential
	Workstation string
	// AllowNTLM, when set, decides whether to answer an NTLM demand, before
	// anything is sent for it: a non-nil error refuses it, and Register
	// fails with an *NTLMRefusedError wrapping that error, having sent
	// neither NEGOTIATE nor AUTHENTICATE. Nil answers every demand, as
	// Windows clients do.
	AllowNTLM func(NTLMOffer) error
}

// Client is a user agent. It is stateless apart from its config and safe
// for concurrent use; each Connect opens its own Session.
type Client struct {
	cfg    ClientConfig
	user   sipgo.Uri
	domain string
	ids    *ids
	now    func() time.Time
}

// NewClient checks cfg and returns a client. cfg is copied.
func NewClient(cfg ClientConfig) (*Client, error) {
	user, err := parseAddress(cfg.User)
	if err != nil {
		return nil, &ConfigError{"ClientConfig.User", err.Error()}
	}
	switch {
	case cfg.Resolver == nil:
		return nil, &ConfigError{"ClientConfig.Resolver", "nil; the client finds its pool through DNS"}
	case cfg.Dialer == nil:
		return nil, &ConfigError{"ClientConfig.Dialer", "nil; give the client's host"}
	}
	if cfg.Server != "" {
		host, port, err := net.SplitHostPort(cfg.Server)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || host == "" || perr != nil || port == "0" {
			return nil, &ConfigError{"ClientConfig.Server", fmt.Sprintf("%q is not host:port; give the server to dial, e.g. pool01.contoso.com:5061", cfg.Server)}
		}
	}
	domain := normalizeHost(cfg.Domain)
	if domain == "" {
		domain = user.Host
	}
	cfg.Timeout = timeoutOr(cfg.Timeout)
	return &Client{cfg: cfg, user: user, domain: domain, ids: newIDs(cfg.Rand), now: clock(cfg.Now)}, nil
}

// User is the client's address, "alice@contoso.com".
func (c *Client) User() string { return addressOf(c.user) }

// Attempt is one step of finding a server: a failed SRV or address lookup
// (Addr invalid), or a connection attempt to a target.
type Attempt struct {
	// Record is the SRV record the target came from, "_sip._tls.contoso.com";
	// "" for ClientConfig.Server and for the port-5060 guess of plaintext
	// fallback.
	Record string
	// Target is the server name, "pool01.contoso.com"; "" for a failed SRV
	// lookup.
	Target string
	// Addr is the address dialled; invalid when it was not resolved.
	Addr netip.AddrPort
	// Transport is TLS or TCP.
	Transport Transport
	// Err is why it failed; nil for the attempt that connected.
	Err error
}

// String describes the attempt: "TLS pool01.contoso.com 10.0.0.11:5061: <error>".
func (a Attempt) String() string {
	var s string
	switch {
	case a.Target == "":
		s = "SRV " + a.Record
	case !a.Addr.IsValid():
		s = string(a.Transport) + " " + a.Target
	default:
		s = string(a.Transport) + " " + a.Target + " " + a.Addr.String()
	}
	if a.Err != nil {
		s += ": " + a.Err.Error()
	}
	return s
}

// Connect finds the pool and connects: each TLS target in SRV order, with
// the TLS server name set to the target; then, only when
// AllowPlaintextFallback is set, plaintext TCP. It fails with a
// *ConnectError listing every attempt when nothing could be used.
func (c *Client) Connect(ctx context.Context) (*Session, error) {
	if c.cfg.Server != "" {
		return c.connectServer(ctx)
	}
	var attempts []Attempt
	tlsTargets, failed := c.lookup(ctx, []string{srvClientTLS, "tls"}, []string{srvInternalTLS, "tcp"})
	attempts = append(attempts, failed...)
	for _, t := range tlsTargets {
		s, a := c.dial(ctx, t, TransportTLS)
		attempts = append(attempts, a)
		if s != nil {
			s.attempts = attempts
			return s, nil
		}
	}
	if !c.cfg.AllowPlaintextFallback {
		return nil, &ConnectError{User: c.User(), Domain: c.domain, Attempts: attempts, Hint: HintNoPlaintextFallback}
	}
	tcpTargets, failed := c.lookup(ctx, []string{"sip", "tcp"})
	attempts = append(attempts, failed...)
	if len(tcpTargets) == 0 {
		for _, t := range tlsTargets {
			tcpTargets = append(tcpTargets, srvTarget{name: t.name, port: PortTCP})
		}
	}
	for _, t := range tcpTargets {
		s, a := c.dial(ctx, t, TransportTCP)
		attempts = append(attempts, a)
		if s != nil {
			s.info.Fallback = true
			s.attempts = attempts
			return s, nil
		}
	}
	return nil, &ConnectError{User: c.User(), Domain: c.domain, Attempts: attempts}
}

// connectServer connects to ClientConfig.Server: TLS with the server name
// set to its host, then, only when AllowPlaintextFallback is set,
// plaintext TCP to the host's port 5060.
func (c *Client) connectServer(ctx context.Context) (*Session, error) {
	host, portText, _ := net.SplitHostPort(c.cfg.Server) // checked by NewClient
	port, _ := strconv.ParseUint(portText, 10, 16)
	t := srvTarget{name: normalizeHost(host), port: uint16(port)}
	s, a := c.dial(ctx, t, TransportTLS)
	attempts := []Attempt{a}
	if s == nil && c.cfg.AllowPlaintextFallback {
		t.port = PortTCP
		s, a = c.dial(ctx, t, TransportTCP)
		attempts = append(attempts, a)
		if s != nil {
			s.info.Fallback = true
		}
	}
	if s == nil {
		hint := ""
		if !c.cfg.AllowPlaintextFallback {
			hint = HintNoPlaintextFallback
		}
		return nil, &ConnectError{User: c.User(), Domain: c.domain, Attempts: attempts, Hint: hint}
	}
	s.attempts = attempts
	return s, nil
}

// lookup tries each {service, proto} SRV record in turn and returns the
// targets of the first that answers, and the failed lookups before it.
func (c *Client) lookup(ctx context.Context, records ...[]string) ([]srvTarget, []Attempt) {
	var failed []Attempt
	for _, r := range records {
		lctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		targets, err := lookupSRV(lctx, c.cfg.Resolver, r[0], r[1], c.domain)
		cancel()
		if err == nil {
			return targets, failed
		}
		failed = append(failed, Attempt{Record: srvName(r[0], r[1], c.domain), Err: err})
	}
	return nil, failed
}

// dial resolves, connects and (for TLS) handshakes with one target.
func (c *Client) dial(ctx context.Context, t srvTarget, transport Transport) (*Session, Attempt) {
	a := Attempt{Record: t.record, Target: t.name, Transport: transport}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	ip, err := netip.ParseAddr(t.name) // ClientConfig.Server may be an address
	if err != nil {
		ip, err = lookupAddr(ctx, c.cfg.Resolver, t.name)
	}
	if err != nil {
		a.Err = err
		return nil, a
	}
	a.Addr = netip.AddrPortFrom(ip, t.port)
	raw, err := c.cfg.Dialer.DialContext(ctx, "tcp", a.Addr.String())
	if err != nil {
		a.Err = err
		return nil, a
	}
	info := ConnInfo{Record: t.record, Target: t.name, Addr: a.Addr, Local: raw.LocalAddr().String(), Transport: transport}
	conn := raw
	if transport == TransportTLS {
		cfg := withVerify(c.cfg.TLS)
		cfg.ServerName = t.name
		_ = raw.SetDeadline(c.now().Add(c.cfg.Timeout))
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			a.Err = err
			return nil, a
		}
		info.TLS = newTLSInfo(tc.ConnectionState())
		conn = tc
	}
	_ = raw.SetDeadline(time.Time{})
	s := &Session{
		c: c, info: info, conn: conn, mc: newMsgConn(conn),
		dlg: dialog{from: c.user, tag: c.ids.token(), callID: c.ids.token()},
	}
	return s, a
}

// Result is what SendMessage did.
type Result struct {
	// Conn is the connection used; zero when none could be made.
	Conn ConnInfo
	// Attempts lists every lookup and connection attempt.
	Attempts []Attempt
	// Registered is true when REGISTER was answered 200.
	Registered bool
	// Sent is true when MESSAGE was answered with a 2xx: the pool took
	// responsibility for it. Delivery itself is proven by the recipient's
	// FrontEnd.Deliveries.
	Sent bool
}

// SendMessage is the client's whole job in one call: Connect, Register,
// Message(to, body), Close. Result is never nil and says how far it got;
// the error is the first failure (*ConnectError or *OpError).
func (c *Client) SendMessage(ctx context.Context, to, body string) (*Result, error) {
	r := &Result{}
	s, err := c.Connect(ctx)
	if err != nil {
		var ce *ConnectError
		if errors.As(err, &ce) {
			r.Attempts = ce.Attempts
		}
		return r, err
	}
	defer s.Close()
	r.Conn, r.Attempts = s.Info(), s.Attempts()
	if err := s.Register(ctx); err != nil {
		return r, err
	}
	r.Registered = true
	if err := s.Message(ctx, to, body); err != nil {
		return r, err
	}
	r.Sent = true
	return r, nil
}

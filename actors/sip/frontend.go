package sip

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// FrontEndConfig declares a Front End server of a pool.
type FrontEndConfig struct {
	// FQDN is the server's own name, "fe01.contoso.com": the identity its
	// MTLS certificate must carry and the sent-by of the Via it adds.
	// Required.
	FQDN string
	// Name labels its records and prefixes every Rejection reason; empty
	// means FQDN's first label ("fe01").
	Name string
	// Pool is the pool's client-facing name, "pool01.contoso.com", which
	// ClientTLS's certificate must also carry. Informational.
	Pool string
	// Domain is the SIP domain the pool serves, "contoso.com". Requests
	// for other domains are federated through Edge. Required.
	Domain string
	// Net is the host the server lives on: it listens and dials there.
	// Required.
	Net Network

	// ClientAddr is the TLS listener for clients ("10.0.0.11:5061");
	// empty means none. ClientTLS is its server config (certificate for
	// the pool and FQDN; no client certificate). Both or neither.
	ClientAddr string
	ClientTLS  *tls.Config
	// PlainAddr is a plaintext TCP listener for clients (port 5060); empty
	// (the hardened default) means none. It exists to demonstrate what a
	// client's plaintext fallback exposes.
	PlainAddr string
	// ServerAddr is the MTLS listener for other servers ("10.0.0.11:5062");
	// empty means none.
	ServerAddr string
	// ServerTLS is MTLS in both roles: accepting on ServerAddr (set
	// ClientAuth to tls.RequireAndVerifyClientCert and ClientCAs to the
	// enterprise CA; anything weaker is the "no client-certificate check"
	// misconfiguration) and dialling peers (its certificate is presented as
	// the client certificate, RootCAs verifies the peer, ServerName is set
	// per peer). The certificate needs both serverAuth and clientAuth
	// extended key usages, and is presented when dialling whatever CA names
	// the peer asks for. Required when ServerAddr or Peers is set. It is
	// cloned; later changes have no effect.
	ServerTLS *tls.Config
	// Peers maps the FQDN of every other Front End, and of the Edge's
	// internal interface, to its MTLS "ip:port". The FQDN is the name
	// dialled, so the peer's certificate must match it.
	Peers map[string]string
	// Edge is the FQDN (a key of Peers) of the Edge that carries federated
	// traffic; empty means no federation.
	Edge string
	// Registrar says which Front End serves which user. Required.
	Registrar *Registrar

	// TrustedServers is the topology's trusted server list: every MTLS
	// peer, accepted or dialled, must present a certificate with one of
	// these FQDNs among its DNS names. The check runs inside the handshake
	// after chain validation. Required, when MTLS is used, unless
	// SkipTrustedServerCheck.
	TrustedServers []string
	// SkipTrustedServerCheck turns the trusted server list off (the
	// misconfiguration in which any certificate from a trusted CA is
	// accepted as a server). Default false: the check is on.
	SkipTrustedServerCheck bool

	// NTLM, when set, makes clients authenticate with MS-SIPAE NTLM (see
	// NTLMAuth for the exchange) before they register: on a client
	// listener (TLS or plain), a REGISTER is answered 401 until its
	// connection has authenticated, an AUTHENTICATE that does not verify
	// is answered 403 and recorded as a Rejection with an *NTLMError, and
	// a MESSAGE on a connection that has not authenticated is refused
	// (403, recorded). The account must be the user registering (its
	// user name is the address's user part, or the whole address). The
	// challenge is kept per connection and named by its opaque; a verified
	// connection stays authenticated until it closes. Message signatures
	// (MS-SIPAE rspauth, crand, response) are not modelled. Pass an
	// *ntlm.Server whose Users is the directory; nil (the default) means
	// no user authentication, as the transport-only model.
	NTLM NTLMAuthenticator

	// Timeout bounds each exchange (handshake, request and answer, relay to
	// the next hop) and each connection's idle time; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for deadlines and record times; nil means time.Now.
	// Give it the clock the connections measure deadlines against (the
	// World's).
	Now func() time.Time
	// Rand is the source of tags and Via branches; nil means crypto/rand.
	Rand io.Reader
}

// FrontEnd is a Front End server. It accepts REGISTER and MESSAGE from
// clients over TLS and from servers over MTLS; it delivers a MESSAGE to a
// user homed on it (recording a Delivery), relays it over MTLS to the user's
// home Front End, or, for another domain, to the Edge. On a client
// connection a MESSAGE must come from the user registered on that
// connection (and, with FrontEndConfig.NTLM, authenticated on it); from a
// server, MTLS and the trusted server list vouch for it.
// Every refusal is recorded as a Rejection. Its methods are safe for
// concurrent use.
type FrontEnd struct {
	cfg    FrontEndConfig
	node   *node
	trust  verifyFunc // nil when the trusted server list is off
	mtls   *tls.Config
	peers  map[string]string
	domain string
}

// NewFrontEnd checks cfg and returns an unstarted server; Start or Serve
// runs it. cfg is copied (its maps and TLS configs too).
func NewFrontEnd(cfg FrontEndConfig) (*FrontEnd, error) {
	if err := checkFrontEnd(&cfg); err != nil {
		return nil, err
	}
	f := &FrontEnd{cfg: cfg, domain: normalizeHost(cfg.Domain), peers: make(map[string]string, len(cfg.Peers))}
	for fqdn, addr := range cfg.Peers {
		f.peers[normalizeHost(fqdn)] = addr
	}
	if !cfg.SkipTrustedServerCheck {
		f.trust = trustedServerCheck(cfg.TrustedServers)
	}
	f.mtls = cfg.ServerTLS.Clone() // nil stays nil: no MTLS is used
	name := cfg.Name
	if name == "" {
		name = shortName(cfg.FQDN)
	}
	n := &node{
		name:    name,
		fqdn:    normalizeHost(cfg.FQDN),
		net:     cfg.Net,
		timeout: timeoutOr(cfg.Timeout),
		now:     clock(cfg.Now),
		ids:     newIDs(cfg.Rand),
	}
	if cfg.ClientAddr != "" {
		n.specs = append(n.specs, listenSpec{name: "client", addr: cfg.ClientAddr, tls: cfg.ClientTLS.Clone(), transport: TransportTLS})
	}
	if cfg.PlainAddr != "" {
		n.specs = append(n.specs, listenSpec{name: "plain", addr: cfg.PlainAddr, transport: TransportTCP})
	}
	if cfg.ServerAddr != "" {
		n.specs = append(n.specs, listenSpec{name: "mtls", addr: cfg.ServerAddr, tls: withVerify(cfg.ServerTLS, f.trust), transport: TransportMTLS})
	}
	n.handle = f.handle
	f.node = n
	f.cfg.Peers = maps.Clone(cfg.Peers)
	f.cfg.TrustedServers = slices.Clone(cfg.TrustedServers)
	return f, nil
}

func checkFrontEnd(cfg *FrontEndConfig) error {
	switch {
	case cfg.FQDN == "":
		return &ConfigError{"FrontEndConfig.FQDN", "empty; name the server, e.g. fe01.contoso.com"}
	case cfg.Domain == "":
		return &ConfigError{"FrontEndConfig.Domain", "empty; set the SIP domain, e.g. contoso.com"}
	case cfg.Net == nil:
		return &ConfigError{"FrontEndConfig.Net", "nil; give the host the server runs on (a *netsim.Host)"}
	case cfg.Registrar == nil:
		return &ConfigError{"FrontEndConfig.Registrar", "nil; home the users with NewRegistrar"}
	case (cfg.ClientAddr == "") != (cfg.ClientTLS == nil):
		return &ConfigError{"FrontEndConfig.ClientTLS", "set ClientAddr and ClientTLS together"}
	}
	usesMTLS := cfg.ServerAddr != "" || len(cfg.Peers) > 0
	switch {
	case usesMTLS && cfg.ServerTLS == nil:
		return &ConfigError{"FrontEndConfig.ServerTLS", "nil; MTLS with other servers needs a certificate and the enterprise CA"}
	case usesMTLS && !cfg.SkipTrustedServerCheck && len(cfg.TrustedServers) == 0:
		return &ConfigError{"FrontEndConfig.TrustedServers", "empty; list the topology's servers, or set SkipTrustedServerCheck"}
	}
	if cfg.Edge != "" && !hasHost(cfg.Peers, cfg.Edge) {
		return &ConfigError{"FrontEndConfig.Edge", fmt.Sprintf("%s is not a key of Peers; give its internal MTLS address", cfg.Edge)}
	}
	return nil
}

// Name is the server's name in records.
func (f *FrontEnd) Name() string { return f.node.name }

// Start binds the listeners and serves them in the background until ctx
// ends or Close is called; the server is listening when it returns. It
// fails, binding nothing, when a listener cannot be bound (an *OpError with
// Op "listen"), when called twice, and after Close (ErrServerClosed). When
// ctx ends the server stops, but Close must still be called to wait for it.
func (f *FrontEnd) Start(ctx context.Context) error { return f.node.start(ctx) }

// Serve is Start, then waits: it returns nil after Close, or ctx's cause
// when ctx ends, once every connection has finished.
func (f *FrontEnd) Serve(ctx context.Context) error { return f.node.serve(ctx) }

// Close stops the listeners, closes every connection, and returns when
// every goroutine the server started has returned. It is idempotent and
// always returns nil. A server that was never started is simply marked
// closed.
func (f *FrontEnd) Close() error { return f.node.close() }

// Deliveries returns the messages delivered to users homed here, in order.
// Each is recorded before the 200 OK is sent. The slice is a copy.
func (f *FrontEnd) Deliveries() []Delivery { return f.node.rec.Deliveries() }

// Relays returns the requests forwarded to another server, in order. The
// slice is a copy.
func (f *FrontEnd) Relays() []Relay { return f.node.rec.Relays() }

// Rejections returns every refused handshake, connection and request, in
// order. The slice is a copy.
func (f *FrontEnd) Rejections() []Rejection { return f.node.rec.Rejections() }

// Registrations returns the accepted REGISTERs, in order. The slice is a
// copy.
func (f *FrontEnd) Registrations() []Registration { return f.node.rec.Registrations() }

// handle answers one request.
func (f *FrontEnd) handle(in *inbound, req *sipgo.Request) *sipgo.Response {
	switch req.Method {
	case sipgo.REGISTER:
		return f.register(in, req)
	case sipgo.MESSAGE:
		return f.message(in, req)
	}
	return f.node.refuse(in, req, sipgo.StatusMethodNotAllowed, Rejection{
		Err: &RoutingError{Status: sipgo.StatusMethodNotAllowed, Problem: fmt.Sprintf("method %s is not supported", req.Method)},
	})
}

// register accepts a user of the pool's domain registering itself, and on
// a client connection makes that user the connection's identity. Without
// FrontEndConfig.NTLM any homed user may register: the trust model under
// test is the transport's. With it, a client connection must first
// authenticate as the user's account.
func (f *FrontEnd) register(in *inbound, req *sipgo.Request) *sipgo.Response {
	if f.cfg.NTLM != nil && in.fromClient() && in.peer.Auth == nil {
		if res := f.authenticateNTLM(in, req); res != nil {
			return res
		}
	}
	user := addressOf(req.To().Address)
	if normalizeHost(req.To().Address.Host) != f.domain {
		return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("user %s is not in domain %s", user, f.domain)},
		})
	}
	if _, ok := f.cfg.Registrar.Home(user); !ok {
		return f.node.refuse(in, req, sipgo.StatusNotFound, Rejection{
			Err: &RoutingError{Status: sipgo.StatusNotFound, Problem: fmt.Sprintf("user %s is not homed on any Front End", user)},
		})
	}
	if from := addressOf(req.From().Address); from != user {
		return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("%s may not register %s", from, user)},
		})
	}
	if a := in.peer.Auth; a != nil && in.fromClient() && !accountMayRegister(a, user) {
		return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("%s account %s may not register %s", a.Scheme, a.Account(), user)},
		})
	}
	if in.fromClient() {
		in.peer.User = user // the connection's identity from now on
	}
	reg := Registration{Time: f.node.now(), Node: f.node.name, User: user, Peer: in.peer}
	if c := req.Contact(); c != nil {
		reg.Contact = c.Address.String()
	}
	f.node.rec.addRegistration(reg)
	res := f.node.respond(req, sipgo.StatusOK, "")
	if c := req.Contact(); c != nil {
		res.AppendHeader(sipgo.HeaderClone(c))
	}
	return res
}

// message delivers, relays to the home Front End, or federates via the
// Edge. On a client connection the sender must be the user registered on
// it; from servers, MTLS and the trusted server list vouch for the sender.
func (f *FrontEnd) message(in *inbound, req *sipgo.Request) *sipgo.Response {
	if in.fromClient() && f.cfg.NTLM != nil && in.peer.Auth == nil {
		return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
			Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("MESSAGE from %s on a connection that has not authenticated", addressOf(req.From().Address))},
		})
	}
	if in.fromClient() {
		if from := addressOf(req.From().Address); in.peer.User == "" || from != in.peer.User {
			problem := fmt.Sprintf("MESSAGE from %s on a connection that has not registered", from)
			if in.peer.User != "" {
				problem = fmt.Sprintf("MESSAGE from %s on a connection registered as %s", from, in.peer.User)
			}
			return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
				Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: problem},
			})
		}
	}
	to := addressOf(req.Recipient)
	if normalizeHost(req.Recipient.Host) != f.domain {
		if f.cfg.Edge == "" {
			return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{
				Err: &RoutingError{Status: sipgo.StatusForbidden, Problem: fmt.Sprintf("no Edge server for federation with %s", normalizeHost(req.Recipient.Host))},
			})
		}
		edge := normalizeHost(f.cfg.Edge)
		return f.node.relay(in, req, newHop(edge, f.peers[edge], f.node.fqdn, f.mtls, f.trust))
	}
	home, ok := f.cfg.Registrar.Home(to)
	if !ok {
		return f.node.refuse(in, req, sipgo.StatusNotFound, Rejection{
			Err: &RoutingError{Status: sipgo.StatusNotFound, Problem: fmt.Sprintf("recipient %s is not homed on any Front End", to)},
		})
	}
	if home == f.node.fqdn {
		f.deliver(in, req)
		return f.node.respond(req, sipgo.StatusOK, "")
	}
	addr, ok := f.peers[home]
	if !ok {
		return f.node.refuse(in, req, sipgo.StatusNotFound, Rejection{
			Err: &RoutingError{Status: sipgo.StatusNotFound, Problem: fmt.Sprintf("home Front End %s of %s is not a configured peer", home, to)},
		})
	}
	return f.node.relay(in, req, newHop(home, addr, f.node.fqdn, f.mtls, f.trust))
}

// deliver records the delivery: the observable proof.
func (f *FrontEnd) deliver(in *inbound, req *sipgo.Request) {
	_, from, to := describe(req)
	d := Delivery{
		Time: f.node.now(), Node: f.node.name, From: from, To: to,
		Body: string(req.Body()), Via: viaPath(req), Peer: in.peer,
	}
	if ct := req.ContentType(); ct != nil {
		d.ContentType = ct.Value()
	}
	if c := req.CallID(); c != nil {
		d.CallID = c.Value()
	}
	f.node.rec.addDelivery(d)
}

package dns

import (
	"context"
	"errors"
	"net"
	"sync"

	miekg "github.com/miekg/dns"
)

// DefaultMaxUDPSize is the largest UDP response a Server sends to a client
// that advertises a larger EDNS0 buffer (the DNS flag day 2020 value).
const DefaultMaxUDPSize = 1232

// ServerConfig declares an authoritative server.
type ServerConfig struct {
	// Zones are the zones the server is authoritative for. A query goes to
	// the zone with the longest origin containing its name; a query for a
	// name in none of them is REFUSED (the server does no recursion). Two
	// zones may not share an origin. A zone may be shared by several
	// servers and changed while they run.
	Zones []*Zone
	// MaxUDPSize caps UDP responses to EDNS0 clients; zero means
	// DefaultMaxUDPSize. Clients without EDNS0 always get at most 512
	// bytes. A response that does not fit is truncated (TC set) and the
	// client is expected to retry over TCP.
	MaxUDPSize int
	// TruncateUDP answers every UDP query with an empty response with TC
	// set, forcing clients onto TCP.
	TruncateUDP bool
}

// Server is an authoritative DNS server for a set of zones, served with
// miekg/dns over any net.PacketConn and net.Listener (netsim sockets in the
// lab). It is a miekg/dns.Handler, so it can also be mounted on a
// miekg/dns.ServeMux. Its methods are safe for concurrent use.
type Server struct {
	cfg   ServerConfig
	zones map[string]*Zone // by origin
}

var _ miekg.Handler = (*Server)(nil)

// NewServer returns a server for cfg; cfg.Zones is copied. It fails with a
// *ConfigError when two zones share an origin or a zone is nil.
func NewServer(cfg ServerConfig) (*Server, error) {
	s := &Server{cfg: cfg, zones: make(map[string]*Zone)}
	s.cfg.Zones = append([]*Zone(nil), cfg.Zones...)
	for _, z := range cfg.Zones {
		if z == nil {
			return nil, &ConfigError{What: "server", Problem: "nil zone in ServerConfig.Zones"}
		}
		if s.zones[z.origin] != nil {
			return nil, &ConfigError{What: "server", Problem: "two zones for " + z.origin + ": give each origin one zone"}
		}
		s.zones[z.origin] = z
	}
	if s.cfg.MaxUDPSize <= 0 {
		s.cfg.MaxUDPSize = DefaultMaxUDPSize
	}
	return s, nil
}

// zoneFor returns the zone with the longest origin containing name, or nil.
func (s *Server) zoneFor(name string) *Zone {
	name = miekg.CanonicalName(name)
	for off, end := 0, false; !end; off, end = miekg.NextLabel(name, off) {
		if z := s.zones[name[off:]]; z != nil {
			return z
		}
	}
	return s.zones["."]
}

// ServeDNS answers one query: authoritatively (AA set) from the matching
// zone, REFUSED for a name in no zone or a class other than IN, FORMERR for
// a message without exactly one question, NOTIMP for opcodes other than
// QUERY. A query with EDNS0 gets an OPT record back, and with the DNSSEC OK
// bit the zone's signatures. Over UDP the response is truncated to the
// client's buffer size (see ServerConfig).
func (s *Server) ServeDNS(w miekg.ResponseWriter, r *miekg.Msg) {
	m := new(miekg.Msg)
	m.SetReply(r)
	opt := r.IsEdns0()
	switch {
	case r.Opcode != miekg.OpcodeQuery:
		m.Rcode = miekg.RcodeNotImplemented
	case len(r.Question) != 1:
		m.Rcode = miekg.RcodeFormatError
	default:
		q := r.Question[0]
		z := s.zoneFor(q.Name)
		if z == nil || q.Qclass != miekg.ClassINET {
			m.Rcode = miekg.RcodeRefused
			break
		}
		m.Authoritative = true
		z.answer(m, q.Name, q.Qtype, opt != nil && opt.Do())
	}
	udp := w.LocalAddr() != nil && w.LocalAddr().Network() == "udp"
	if udp && s.cfg.TruncateUDP {
		m.Truncated = true
		m.Answer, m.Ns, m.Extra = nil, nil, nil
	}
	size := miekg.MinMsgSize
	if opt != nil {
		m.SetEdns0(uint16(s.cfg.MaxUDPSize), opt.Do())
		size = min(max(int(opt.UDPSize()), miekg.MinMsgSize), s.cfg.MaxUDPSize)
	}
	if udp {
		m.Truncate(size)
	} else {
		m.Compress = true
	}
	_ = w.WriteMsg(m) // a client that went away is no concern of the server
}

// Serve answers queries arriving on pc (UDP) and l (TCP) until ctx ends,
// then stops both and returns context.Cause(ctx). Either may be nil, not
// both. If a transport fails first (for example the netsim World closed)
// Serve stops the other and returns that error.
//
// Serve closes pc and l, and returns only when every goroutine it started
// has finished. Queries that arrive before Serve starts reading wait in the
// socket, so callers need not wait for Serve to be ready.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	return Serve(ctx, s, pc, l)
}

// Serve answers DNS queries with handler over pc (UDP) and l (TCP) until ctx
// ends, with the contract of Server.Serve: either transport may be nil, not
// both; it returns context.Cause(ctx), or the error of a transport that
// failed first; it closes pc and l and returns only when every goroutine it
// started has finished. It lets any miekg.Handler (a rogue server, say) be
// served the way the lab's authoritative servers are.
func Serve(ctx context.Context, handler miekg.Handler, pc net.PacketConn, l net.Listener) error {
	if pc == nil && l == nil {
		return &ConfigError{What: "server", Problem: "Serve needs a PacketConn, a Listener or both"}
	}
	type run struct {
		srv     *miekg.Server
		started chan struct{}
		done    chan error
	}
	var runs []*run
	add := func(srv *miekg.Server) {
		r := &run{srv: srv, started: make(chan struct{}), done: make(chan error, 1)}
		srv.Handler = handler
		srv.NotifyStartedFunc = func() { close(r.started) }
		runs = append(runs, r)
	}
	if pc != nil {
		add(&miekg.Server{PacketConn: pc, UDPSize: 4096})
	}
	if l != nil {
		add(&miekg.Server{Listener: l})
	}
	var wg sync.WaitGroup
	failed := make(chan error, len(runs))
	for _, r := range runs {
		wg.Go(func() {
			err := r.srv.ActivateAndServe()
			r.done <- err
			failed <- err
		})
	}
	var err error
	select {
	case <-ctx.Done():
		err = context.Cause(ctx)
	case err = <-failed:
		if err == nil {
			err = errors.New("dns: server stopped unexpectedly")
		}
	}
	for _, r := range runs {
		select {
		case <-r.started:
			// ShutdownContext unblocks the server's reads and waits for its
			// goroutines. Its error only says the server had already
			// stopped, which the done channel reports.
			_ = r.srv.ShutdownContext(context.WithoutCancel(ctx))
		case <-r.done:
		}
	}
	wg.Wait()
	if pc != nil {
		pc.Close()
	}
	if l != nil {
		l.Close()
	}
	return err
}

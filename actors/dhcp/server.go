package dhcp

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/tlslab/tlslab/netsim"
)

// DefaultLeaseTime is the lease a server grants when its config sets none.
const DefaultLeaseTime = time.Hour

// offerHold is how long an offered address stays reserved for the client
// it was offered to while the server waits for its REQUEST.
const offerHold = time.Minute

// ServerConfig declares a DHCPv4 server.
type ServerConfig struct {
	// Host is the host the server runs on. Its first NIC's address is the
	// server identifier (option 54) and the source of its replies, which
	// leave from that NIC; the host should have one NIC on the clients'
	// segment. Required.
	Host *netsim.Host
	// Subnet is the clients' subnet; its prefix length is the subnet mask
	// handed out (option 1). Required.
	Subnet netip.Prefix
	// PoolFirst and PoolLast bound the addresses leased, both included,
	// inside Subnet. Required.
	PoolFirst, PoolLast netip.Addr
	// Router is the default gateway handed out (option 3); zero omits it.
	Router netip.Addr
	// DNS are the DNS servers handed out (option 6); empty omits them.
	DNS []netip.Addr
	// Domain is the DNS domain name handed out (option 15); empty omits it.
	Domain string
	// WPAD is the proxy auto-config URL handed out (option 252, as Windows
	// asks for it); empty omits it.
	WPAD string
	// LeaseTime is the lease granted (option 51); zero means
	// DefaultLeaseTime. Leases run on the World clock of Host.
	LeaseTime time.Duration
	// OnEvent, when set, is called for every OFFER, ACK and NAK the server
	// sends and every offer or lease it takes back, from the goroutine of
	// Serve, once the reply is on the wire; it must not block.
	OnEvent func(Event)
}

// EventKind names what a server did.
type EventKind string

// What a server reports through ServerConfig.OnEvent.
const (
	// Offered: a DHCPOFFER went out for Event.Addr.
	Offered EventKind = "offer"
	// Acked: a DHCPACK granted or renewed the lease of Event.Addr.
	Acked EventKind = "ack"
	// Naked: a DHCPNAK refused the client the address it asked for.
	Naked EventKind = "nak"
	// Released: the client gave its lease back (DHCPRELEASE).
	Released EventKind = "release"
	// Withdrawn: the client chose another server's offer (its REQUEST
	// names that server), so the server took back the address it had
	// offered.
	Withdrawn EventKind = "withdrawn"
)

// Event is one thing a server did, at Event.At on the World clock.
type Event struct {
	Kind EventKind
	At   time.Time
	MAC  net.HardwareAddr
	Addr netip.Addr
}

// Server is a DHCPv4 server: it hands out leases from a pool with the
// options of its ServerConfig, answering DISCOVER with OFFER and REQUEST
// with ACK or NAK, over any net.PacketConn bound to port 67 (a netsim
// socket in the lab). Replies to a client without an address go to
// 255.255.255.255:68; replies to a renewing client are unicast to its
// address. Its methods are safe for concurrent use.
type Server struct {
	cfg   ServerConfig
	id    netip.Addr
	clock netsim.Clock
	pool  *pool
}

// NewServer checks cfg and returns a server for it, with an empty lease
// table. It fails with a *ConfigError naming the field that is wrong.
func NewServer(cfg ServerConfig) (*Server, error) {
	bad := func(problem string) error { return &ConfigError{What: "server", Problem: problem} }
	switch {
	case cfg.Host == nil:
		return nil, bad("ServerConfig.Host is nil")
	case len(cfg.Host.NICs()) == 0:
		return nil, bad("host " + cfg.Host.Name() + " has no NIC")
	case !cfg.Subnet.IsValid() || !cfg.Subnet.Addr().Is4():
		return nil, bad("ServerConfig.Subnet needs an IPv4 prefix, e.g. 10.0.0.0/24")
	case !cfg.Subnet.Contains(cfg.PoolFirst) || !cfg.Subnet.Contains(cfg.PoolLast) || cfg.PoolLast.Less(cfg.PoolFirst):
		return nil, bad("the pool " + cfg.PoolFirst.String() + "-" + cfg.PoolLast.String() + " must be a range inside " + cfg.Subnet.String())
	case cfg.Router.IsValid() && !cfg.Subnet.Contains(cfg.Router):
		return nil, bad("router " + cfg.Router.String() + " is outside " + cfg.Subnet.String())
	case cfg.LeaseTime < 0:
		return nil, bad("ServerConfig.LeaseTime is negative")
	}
	if cfg.LeaseTime == 0 {
		cfg.LeaseTime = DefaultLeaseTime
	}
	cfg.Subnet = cfg.Subnet.Masked()
	cfg.DNS = append([]netip.Addr(nil), cfg.DNS...)
	return &Server{
		cfg:   cfg,
		id:    cfg.Host.NICs()[0].Addr(),
		clock: cfg.Host.World().Clock(),
		pool:  newPool(cfg.PoolFirst, cfg.PoolLast),
	}, nil
}

// ID returns the server identifier it sends (option 54).
func (s *Server) ID() netip.Addr { return s.id }

// Leases returns the leases granted and not yet expired or released at the
// World clock's current time, in address order.
func (s *Server) Leases() []Lease {
	return s.pool.leases(s.clock.Now())
}

// Serve answers DHCP messages arriving on pc (bound to port 67) until ctx
// ends or pc fails. It closes pc and returns context.Cause(ctx), or the
// error pc failed with, once its goroutine has stopped.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && ctx.Err() == nil {
				continue // a read deadline someone set: keep serving
			}
			pc.Close()
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		req, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || req.OpCode != dhcpv4.OpcodeBootRequest {
			continue // not a client's DHCP message: ignore, as servers do
		}
		reply, ev := s.handle(req)
		if reply != nil {
			pc.WriteTo(reply.ToBytes(), s.replyAddr(req, from))
		}
		if ev.Kind != "" && s.cfg.OnEvent != nil {
			s.cfg.OnEvent(ev)
		}
	}
}

// replyAddr is where a reply to req goes (RFC 2131 4.1): to a client that
// has an address, unicast to it; otherwise broadcast.
func (s *Server) replyAddr(req *dhcpv4.DHCPv4, _ net.Addr) net.Addr {
	if ci, ok := netip.AddrFromSlice(req.ClientIPAddr.To4()); ok && !ci.IsUnspecified() {
		return &net.UDPAddr{IP: req.ClientIPAddr, Port: ClientPort}
	}
	return &net.UDPAddr{IP: net.IPv4bcast, Port: ClientPort}
}

// handle returns the reply to req (nil when none is due) and the event to
// report (zero for none).
func (s *Server) handle(req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, Event) {
	now := s.clock.Now()
	mac := req.ClientHWAddr
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		addr, ok := s.pool.offer(mac, now, now.Add(offerHold))
		if !ok {
			return nil, Event{} // pool exhausted: stay silent, the client retries
		}
		return s.reply(req, dhcpv4.MessageTypeOffer, addr), event(Offered, now, mac, addr)
	case dhcpv4.MessageTypeRequest:
		if sid := req.ServerIdentifier(); sid != nil && !sid.Equal(net.IP(s.id.AsSlice())) {
			if addr, ok := s.pool.withdraw(mac, now); ok {
				return nil, event(Withdrawn, now, mac, addr)
			}
			return nil, Event{} // the client chose another server
		}
		want := req.RequestedIPAddress()
		if want == nil || want.IsUnspecified() {
			want = req.ClientIPAddr
		}
		addr, _ := netip.AddrFromSlice(want.To4())
		if !s.pool.grant(mac, addr, now, now.Add(s.cfg.LeaseTime)) {
			return s.reply(req, dhcpv4.MessageTypeNak, netip.Addr{}), event(Naked, now, mac, addr)
		}
		return s.reply(req, dhcpv4.MessageTypeAck, addr), event(Acked, now, mac, addr)
	case dhcpv4.MessageTypeRelease:
		addr, _ := netip.AddrFromSlice(req.ClientIPAddr.To4())
		if s.pool.release(mac, addr) {
			return nil, event(Released, now, mac, addr)
		}
	}
	return nil, Event{}
}

// reply builds an OFFER, ACK or NAK to req for addr with the server's
// options (a NAK carries none but the server identifier).
func (s *Server) reply(req *dhcpv4.DHCPv4, typ dhcpv4.MessageType, addr netip.Addr) *dhcpv4.DHCPv4 {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IP(s.id.AsSlice()))),
	}
	if typ != dhcpv4.MessageTypeNak {
		mods = append(mods, dhcpv4.WithYourIP(net.IP(addr.AsSlice())))
		mods = append(mods, s.options()...)
	}
	m, err := dhcpv4.NewReplyFromRequest(req, mods...)
	if err != nil {
		return nil // no randomness for a transaction ID; the reply keeps req's anyway
	}
	if typ == dhcpv4.MessageTypeNak {
		m.ClientIPAddr = net.IPv4zero
	}
	return m
}

// options are the options an OFFER or ACK carries.
func (s *Server) options() []dhcpv4.Modifier {
	c := &s.cfg
	mods := []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(c.LeaseTime)),
		dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(c.LeaseTime / 2)),
		dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(c.LeaseTime * 7 / 8)),
		dhcpv4.WithNetmask(net.CIDRMask(c.Subnet.Bits(), 32)),
	}
	if c.Router.IsValid() {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRouter(net.IP(c.Router.AsSlice()))))
	}
	if len(c.DNS) > 0 {
		ips := make([]net.IP, len(c.DNS))
		for i, a := range c.DNS {
			ips[i] = net.IP(a.AsSlice())
		}
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDNS(ips...)))
	}
	if c.Domain != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDomainName(c.Domain)))
	}
	if c.WPAD != "" {
		mods = append(mods, dhcpv4.WithGeneric(OptionWPAD, []byte(c.WPAD)))
	}
	return mods
}

func event(kind EventKind, at time.Time, mac net.HardwareAddr, addr netip.Addr) Event {
	return Event{Kind: kind, At: at, MAC: append(net.HardwareAddr(nil), mac...), Addr: addr}
}

package dhcp

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/tlslab/tlslab/netsim"
)

// Defaults of ClientConfig.
const (
	DefaultClientTimeout = 4 * time.Second
	DefaultClientTries   = 3
)

// ClientConfig declares a DHCPv4 client.
type ClientConfig struct {
	// NIC is the interface to configure, normally added with
	// netsim.NICConfig{Unaddressed: true}. It must be its host's first NIC:
	// broadcasts from an unaddressed host leave from that one. Required.
	NIC *netsim.NIC
	// Timeout is how long each try waits for an OFFER or an ACK, on the
	// World clock; zero means DefaultClientTimeout.
	Timeout time.Duration
	// Tries is how many times DISCOVER and REQUEST are each sent before the
	// client gives up; zero means DefaultClientTries.
	Tries int
	// Rand draws transaction IDs; nil means crypto/rand.
	Rand io.Reader
	// OnOffer, when set, is called with every OFFER the client receives
	// for its transaction while it selects, and whether it took it (the
	// first one) or ignored it; it must not block.
	OnOffer func(server netip.Addr, addr netip.Addr, taken bool)
}

// Config is what a client learned from its lease: the NIC's address and
// what the caller needs to build a resolver and find a proxy.
type Config struct {
	// Addr is the leased address with the subnet's prefix length (option
	// 1; /24 when the server sent none).
	Addr netip.Prefix
	// Server is the server identifier of the server that granted the
	// lease (option 54), which the client renews with.
	Server netip.Addr
	// Router is the default gateway (option 3), zero when none was given.
	Router netip.Addr
	// DNS are the DNS servers (option 6).
	DNS []netip.Addr
	// Domain is the DNS domain name (option 15).
	Domain string
	// WPAD is the proxy auto-config URL (option 252).
	WPAD string
	// LeaseTime is the lease granted (option 51), and Obtained when the
	// ACK arrived on the World clock; the lease expires at
	// Obtained+LeaseTime and is renewed from Obtained+LeaseTime/2 (T1).
	LeaseTime time.Duration
	Obtained  time.Time
}

// Expires returns when the lease runs out.
func (c *Config) Expires() time.Time { return c.Obtained.Add(c.LeaseTime) }

// Acquire obtains a lease for cfg.NIC the way a client in the INIT state
// does (RFC 2131): it broadcasts a DISCOVER from 0.0.0.0:68 to
// 255.255.255.255:67, takes the first OFFER for its transaction, whichever
// server sent it, broadcasts a REQUEST naming that server, and on its ACK
// configures the host: the leased address on the NIC (netsim.NIC.SetAddr)
// and, when the lease names a router, the default route through it.
//
// Taking the first OFFER is what real clients do, and it is the weakness a
// rogue DHCP server exploits: a rogue that answers before the real server
// chooses the client's address, gateway, DNS servers and WPAD URL, and the
// real server's OFFER is ignored. Only the network (DHCP snooping on the
// switch) can stop it.
//
// Acquire returns the lease's Config for the caller to build a resolver
// from. It fails with an *AcquireError (ErrNoOffer, ErrNoAck, ErrNak or the
// cause), or a *ConfigError for a bad cfg; ctx bounds the whole exchange.
func Acquire(ctx context.Context, cfg ClientConfig) (*Config, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	pc, err := c.host.ListenPacket("udp4", ":68")
	if err != nil {
		return nil, &AcquireError{Step: "discover", Err: err}
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()

	xid, err := c.newXID()
	if err != nil {
		return nil, &AcquireError{Step: "discover", Err: err}
	}
	discover, err := dhcpv4.NewDiscovery(c.nic.MAC(), c.common(xid)...)
	if err != nil {
		return nil, &AcquireError{Step: "discover", Err: err}
	}
	offer, err := c.exchange(ctx, pc, "discover", discover, broadcast, func(m *dhcpv4.DHCPv4) (bool, error) {
		if m.MessageType() != dhcpv4.MessageTypeOffer {
			return false, nil
		}
		c.noteOffer(m, true)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	request, err := dhcpv4.NewRequestFromOffer(offer, c.common(xid)...)
	if err != nil {
		return nil, &AcquireError{Step: "request", Err: err}
	}
	ack, err := c.exchange(ctx, pc, "request", request, broadcast, c.ackFrom(offer.ServerIdentifier()))
	if err != nil {
		return nil, err
	}
	return c.configure(ack)
}

var broadcast = &net.UDPAddr{IP: net.IPv4bcast, Port: ServerPort}

// client is one acquisition's state.
type client struct {
	cfg     ClientConfig
	nic     *netsim.NIC
	host    *netsim.Host
	clock   netsim.Clock
	timeout time.Duration
	tries   int
}

func newClient(cfg ClientConfig) (*client, error) {
	if cfg.NIC == nil {
		return nil, &ConfigError{What: "client", Problem: "ClientConfig.NIC is nil"}
	}
	host := cfg.NIC.Host()
	if nics := host.NICs(); nics[0] != cfg.NIC {
		return nil, &ConfigError{What: "client", Problem: "NIC " + cfg.NIC.Name() + " is not the first NIC of host " + host.Name()}
	}
	if cfg.Timeout < 0 || cfg.Tries < 0 {
		return nil, &ConfigError{What: "client", Problem: "Timeout and Tries must not be negative"}
	}
	c := &client{cfg: cfg, nic: cfg.NIC, host: host, clock: host.World().Clock(), timeout: cfg.Timeout, tries: cfg.Tries}
	if c.timeout == 0 {
		c.timeout = DefaultClientTimeout
	}
	if c.tries == 0 {
		c.tries = DefaultClientTries
	}
	return c, nil
}

func (c *client) newXID() (dhcpv4.TransactionID, error) {
	r := c.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	var xid dhcpv4.TransactionID
	_, err := io.ReadFull(r, xid[:])
	return xid, err
}

// common are the fields every message of the transaction carries: the
// transaction ID, the broadcast flag (the client cannot receive unicast
// before it has an address), and the parameter request list.
func (c *client) common(xid dhcpv4.TransactionID) []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithTransactionID(xid),
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithRequestedOptions(requested...),
	}
}

// exchange sends msg to to and waits for a reply to it that accept takes,
// resending msg after each timeout, up to the client's tries. Replies for
// other transactions or other clients are ignored.
func (c *client) exchange(ctx context.Context, pc net.PacketConn, step string, msg *dhcpv4.DHCPv4, to net.Addr, accept func(*dhcpv4.DHCPv4) (bool, error)) (*dhcpv4.DHCPv4, error) {
	buf := make([]byte, 1500)
	for try := 1; try <= c.tries; try++ {
		if _, err := pc.WriteTo(msg.ToBytes(), to); err != nil {
			return nil, c.fail(ctx, step, err)
		}
		pc.SetReadDeadline(c.clock.Now().Add(c.timeout))
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() && ctx.Err() == nil {
					break // try again
				}
				return nil, c.fail(ctx, step, err)
			}
			m, err := dhcpv4.FromBytes(buf[:n])
			if err != nil || m.OpCode != dhcpv4.OpcodeBootReply || m.TransactionID != msg.TransactionID ||
				!sameMAC(m.ClientHWAddr, c.nic.MAC()) {
				continue
			}
			ok, err := accept(m)
			if err != nil {
				return nil, &AcquireError{Step: step, Err: err}
			}
			if ok {
				return m, nil
			}
		}
	}
	cause := ErrNoOffer
	if step != "discover" {
		cause = ErrNoAck
	}
	return nil, &AcquireError{Step: step, Tries: c.tries, Wait: c.timeout, Err: cause}
}

// fail wraps a socket error, preferring the context's cause when ctx ended
// (which is what closed the socket).
func (c *client) fail(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return &AcquireError{Step: step, Err: err}
}

// ackFrom accepts the ACK or NAK of the server the client chose; OFFERs
// that arrive late (from servers that lost the race) are reported and
// ignored.
func (c *client) ackFrom(server net.IP) func(*dhcpv4.DHCPv4) (bool, error) {
	return func(m *dhcpv4.DHCPv4) (bool, error) {
		switch m.MessageType() {
		case dhcpv4.MessageTypeOffer:
			c.noteOffer(m, false)
			return false, nil
		case dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak:
			if sid := m.ServerIdentifier(); server != nil && !sid.Equal(server) {
				return false, nil
			}
			if m.MessageType() == dhcpv4.MessageTypeNak {
				return false, ErrNak
			}
			return true, nil
		}
		return false, nil
	}
}

func (c *client) noteOffer(m *dhcpv4.DHCPv4, taken bool) {
	if c.cfg.OnOffer != nil {
		c.cfg.OnOffer(ipAddr(m.ServerIdentifier()), ipAddr(m.YourIPAddr), taken)
	}
}

// configure applies an ACK to the host and returns the lease's Config.
func (c *client) configure(ack *dhcpv4.DHCPv4) (*Config, error) {
	cfg := leaseConfig(ack, c.clock.Now())
	if !cfg.Addr.IsValid() {
		return nil, &AcquireError{Step: "configure", Err: errors.New("the ACK offers no address")}
	}
	if err := c.nic.SetAddr(cfg.Addr); err != nil {
		return nil, &AcquireError{Step: "configure", Err: err}
	}
	if cfg.Router.IsValid() {
		if err := c.host.SetDefaultGateway(cfg.Router); err != nil {
			return nil, &AcquireError{Step: "configure", Err: err}
		}
	}
	return cfg, nil
}

// leaseConfig reads a lease's Config from an ACK received at now.
func leaseConfig(ack *dhcpv4.DHCPv4, now time.Time) *Config {
	cfg := &Config{
		Server:    ipAddr(ack.ServerIdentifier()),
		Domain:    ack.DomainName(),
		WPAD:      string(ack.GetOneOption(OptionWPAD)),
		LeaseTime: ack.IPAddressLeaseTime(0),
		Obtained:  now,
	}
	addr := ipAddr(ack.YourIPAddr)
	if addr.IsValid() && !addr.IsUnspecified() {
		bits := 24
		if mask := ack.SubnetMask(); mask != nil {
			bits, _ = mask.Size()
		}
		cfg.Addr = netip.PrefixFrom(addr, bits)
	}
	if rs := ack.Router(); len(rs) > 0 {
		cfg.Router = ipAddr(rs[0])
	}
	for _, ip := range ack.DNS() {
		if a := ipAddr(ip); a.IsValid() {
			cfg.DNS = append(cfg.DNS, a)
		}
	}
	return cfg
}

// ipAddr converts a net.IP holding an IPv4 address; anything else gives
// the zero Addr.
func ipAddr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok {
		return netip.Addr{}
	}
	return a
}

func sameMAC(a, b net.HardwareAddr) bool { return string(a) == string(b) }

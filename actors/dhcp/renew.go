package dhcp

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// ErrLeaseExpired is the cause of the *AcquireError Maintain returns when
// the lease ran out before a renewal succeeded.
var ErrLeaseExpired = errors.New("lease expired")

// Renew extends lease with the server that granted it, as a client in the
// RENEWING state does (RFC 2131 4.3.2): a REQUEST carrying its address as
// ciaddr, unicast from the leased address's port 68 to the server's port
// 67, whose ACK comes back unicast. It returns the renewed Config, obtained
// now on the World clock; a NAK fails with ErrNak, silence with ErrNoAck.
// The host's address and routes are left as they are.
func Renew(ctx context.Context, cfg ClientConfig, lease *Config) (*Config, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	pc, err := c.host.ListenPacket("udp4", net.JoinHostPort(lease.Addr.Addr().String(), "68"))
	if err != nil {
		return nil, &AcquireError{Step: "renew", Err: err}
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	xid, err := c.newXID()
	if err != nil {
		return nil, &AcquireError{Step: "renew", Err: err}
	}
	server := net.IP(lease.Server.AsSlice())
	req, err := dhcpv4.New(
		dhcpv4.WithTransactionID(xid),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithHwAddr(c.nic.MAC()),
		dhcpv4.WithClientIP(net.IP(lease.Addr.Addr().AsSlice())),
		dhcpv4.WithRequestedOptions(requested...),
	)
	if err != nil {
		return nil, &AcquireError{Step: "renew", Err: err}
	}
	to := &net.UDPAddr{IP: server, Port: ServerPort}
	ack, err := c.exchange(ctx, pc, "renew", req, to, c.ackFrom(server))
	if err != nil {
		return nil, err
	}
	return leaseConfig(ack, c.clock.Now()), nil
}

// Maintain keeps lease alive until ctx ends: at T1 (half the lease, on the
// World clock) it renews it with Renew, and after a failed renewal tries
// again halfway to the expiry, at least a minute later. Each renewal is
// passed to renewed (when not nil) from Maintain's goroutine. It returns
// context.Cause(ctx), or an *AcquireError with ErrLeaseExpired once the
// lease has run out unrenewed (the address stays on the NIC: netsim has
// no way to take it off).
func Maintain(ctx context.Context, cfg ClientConfig, lease *Config, renewed func(*Config)) error {
	c, err := newClient(cfg)
	if err != nil {
		return err
	}
	at := lease.Obtained.Add(lease.LeaseTime / 2)
	for {
		if err := c.sleepUntil(ctx, at); err != nil {
			return err
		}
		if !c.clock.Now().Before(lease.Expires()) {
			return &AcquireError{Step: "renew", Err: ErrLeaseExpired}
		}
		next, err := Renew(ctx, cfg, lease)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		now := c.clock.Now()
		if err == nil {
			lease = next
			if renewed != nil {
				renewed(lease)
			}
			at = lease.Obtained.Add(lease.LeaseTime / 2)
			continue
		}
		at = now.Add(min(max(lease.Expires().Sub(now)/2, time.Minute), lease.Expires().Sub(now)))
	}
}

// sleepUntil waits on the World clock until t or ctx's end.
func (c *client) sleepUntil(ctx context.Context, t time.Time) error {
	wake := make(chan struct{})
	timer := c.clock.AfterFunc(t.Sub(c.clock.Now()), func() { close(wake) })
	defer timer.Stop()
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

package attacker

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
)

// Dialer opens stream connections from the attacker's host; *netsim.Host
// satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// UpstreamTarget is what a proxy knows when it connects on behalf of an
// intercepted connection.
type UpstreamTarget struct {
	// Dial opens connections from the attacker's host.
	Dial Dialer
	// Dialled is the address the victim dialled.
	Dialled netip.AddrPort
	// ServerName is the SNI the victim sent; empty when it sent none
	// (plaintext, or no SNI).
	ServerName string
}

// UpstreamSide opens the attacker's own connection towards the real server
// (or plays the server itself). UpstreamTLS, UpstreamPlain and SIPResponder
// are the lab's; any type may implement it.
type UpstreamSide interface {
	// Connect returns the connection whose bytes go to and come from the
	// server side, recording the handshake in hs. ctx bounds it.
	Connect(ctx context.Context, t UpstreamTarget, hs *Handshake) (net.Conn, error)
}

// upstreamAddr is addr when valid, else dialled with port replaced when
// port is not zero.
func upstreamAddr(addr netip.AddrPort, port uint16, dialled netip.AddrPort) netip.AddrPort {
	if addr.IsValid() {
		return addr
	}
	if port != 0 {
		return netip.AddrPortFrom(dialled.Addr(), port)
	}
	return dialled
}

// UpstreamTLS connects to the real server over TLS as a client.
type UpstreamTLS struct {
	// Config is the attacker's TLS client config, cloned per connection.
	// Nil verifies nothing (InsecureSkipVerify), as an attacker usually
	// does. An empty ServerName is set to the victim's SNI.
	Config *tls.Config
	// Addr is where to connect; invalid means the address the victim
	// dialled, with Port when Port is not zero (stripping: the victim
	// talks plaintext to port 5060, the server is reached on 5061).
	Addr netip.AddrPort
	Port uint16
}

// Connect implements UpstreamSide.
func (u UpstreamTLS) Connect(ctx context.Context, t UpstreamTarget, hs *Handshake) (net.Conn, error) {
	hs.TLS = true
	raw, err := t.Dial.DialContext(ctx, "tcp", upstreamAddr(u.Addr, u.Port, t.Dialled).String())
	if err != nil {
		hs.Err = err.Error()
		return nil, err
	}
	cfg := &tls.Config{InsecureSkipVerify: true}
	if u.Config != nil {
		cfg = u.Config.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.ServerName
	}
	hs.ServerName = cfg.ServerName
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		hs.Err = err.Error()
		return nil, err
	}
	cs := tc.ConnectionState()
	hs.Completed = true
	hs.fillTLS(cs)
	hs.Verified = len(cs.VerifiedChains) > 0
	if len(cs.PeerCertificates) > 0 {
		hs.Certificate = certInfo(cs.PeerCertificates[0], "")
	}
	return tc, nil
}

// UpstreamPlain connects to the real server over plain TCP and relays
// bytes as they are: with VictimPlain, a passthrough relay.
type UpstreamPlain struct {
	// Addr and Port are as in UpstreamTLS.
	Addr netip.AddrPort
	Port uint16
}

// Connect implements UpstreamSide.
func (u UpstreamPlain) Connect(ctx context.Context, t UpstreamTarget, hs *Handshake) (net.Conn, error) {
	c, err := t.Dial.DialContext(ctx, "tcp", upstreamAddr(u.Addr, u.Port, t.Dialled).String())
	if err != nil {
		hs.Err = err.Error()
		return nil, err
	}
	hs.Completed = true
	return c, nil
}

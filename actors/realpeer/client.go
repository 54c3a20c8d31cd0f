package realpeer

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strconv"

	"github.com/tlslab/tlslab/netsim"
)

// Client is a real client program playing a host of the World: what the
// template's placeholders stand for, and where its connections go.
type Client struct {
	// Host is the World host the program's connections come from.
	Host *netsim.Host
	// Server is where a connection to {addr} is carried in the World (a
	// netsim loopback bridge, Host.BridgeIn).
	Server netip.AddrPort
	// ServerName is {sni}; with Port, {target}.
	ServerName string
	// Port is the server's port for {target}; Server's port when 0.
	Port uint16
	// Resolve, when set, starts an HTTP CONNECT front (Host.BridgeConnect)
	// for {proxy}: the program's tunnels resolve names with it, as Host
	// would, so DNS attacks on Host meet them.
	Resolve netsim.Resolver
	// Trust is written to {ca}, CRLs (DER) to {crl}.
	Trust []*x509.Certificate
	CRLs  [][]byte
	// Canary is {canary}.
	Canary string
	// Dir holds the files and is the program's working directory.
	Dir string
}

// Run starts the bridges the template needs, writes the files, runs the
// program from tmpl until it exits or ctx ends (its group is then
// killed), and returns what it did. The error is for what kept the
// program from running: a bridge, a file, a placeholder without a value,
// a program that could not be started. The bridges are closed on return.
func (c Client) Run(ctx context.Context, tmpl Template) (Result, error) {
	values := map[string]string{"sni": c.ServerName, "canary": c.Canary}
	port := c.Port
	if port == 0 {
		port = c.Server.Port()
	}
	values["target"] = net.JoinHostPort(c.ServerName, strconv.Itoa(int(port)))
	var err error
	if values["ca"], err = writePEM(c.Dir, "ca.pem", certBlocks(c.Trust)...); err != nil {
		return Result{}, err
	}
	if values["crl"], err = writePEM(c.Dir, "crl.pem", crlBlocks(c.CRLs)...); err != nil {
		return Result{}, err
	}
	names := tmpl.Names()
	if uses(names, "addr", "host", "port") {
		br, err := c.Host.BridgeIn("127.0.0.1:0", c.Server)
		if err != nil {
			return Result{}, err
		}
		defer br.Close()
		ap := br.Addr().(*net.TCPAddr).AddrPort()
		values["addr"], values["host"], values["port"] = ap.String(), ap.Addr().String(), strconv.Itoa(int(ap.Port()))
	}
	if uses(names, "proxy") {
		if c.Resolve == nil {
			return Result{}, errors.New("realpeer: {proxy}: this client has no resolver for an HTTP CONNECT front")
		}
		br, err := c.Host.BridgeConnect("127.0.0.1:0", c.Resolve)
		if err != nil {
			return Result{}, err
		}
		defer br.Close()
		values["proxy"] = br.Addr().String()
	}
	cmd, err := tmpl.Expand(values)
	if err != nil {
		return Result{}, err
	}
	res := Run(ctx, cmd, c.Dir)
	if res.Err != nil && !res.Stopped {
		return res, res.Err
	}
	return res, nil
}

// uses reports whether names holds any of want.
func uses(names []string, want ...string) bool {
	for _, n := range names {
		for _, w := range want {
			if n == w {
				return true
			}
		}
	}
	return false
}

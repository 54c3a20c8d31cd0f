package realpeer

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// Server is a real server program playing a host of the World: the
// credentials the template's placeholders stand for, and the port of the
// host whose connections it serves.
type Server struct {
	// Host and Port are the World address the program serves: a netsim
	// loopback bridge (Host.BridgeOut) carries each connection to it.
	Host *netsim.Host
	Port uint16
	// ServerName is {sni}.
	ServerName string
	// Chain (leaf first) is written to {cert}, its intermediates to
	// {chain}, Key to {key}.
	Chain []*x509.Certificate
	Key   crypto.PrivateKey
	// Trust is written to {ca} (for client certificates), CRLs (DER) to
	// {crl}.
	Trust []*x509.Certificate
	CRLs  [][]byte
	// Dir holds the files and is the program's working directory.
	Dir string
}

// RunningServer is a real server program started by Server.Start.
type RunningServer struct {
	*Process
	// Addr is the loopback "ip:port" the program listens on ({addr}).
	Addr   string
	bridge *netsim.Bridge
}

// Start writes the files, starts the program from tmpl with {port} a
// free loopback port, waits until the program accepts connections there
// (or exits, or ctx ends), and then carries the World's connections to
// Host:Port to it. Stop ends both.
//
// The wait dials the program's port until it answers, a real connection
// the program sees and closes; servers that keep accepting after one bad
// connection (openssl s_server, gnutls-serv) are unaffected.
func (s Server) Start(ctx context.Context, tmpl Template) (*RunningServer, error) {
	values := map[string]string{"sni": s.ServerName}
	var err error
	key, err := keyBlock(s.Key)
	if err != nil {
		return nil, err
	}
	if values["cert"], err = writePEM(s.Dir, "cert.pem", certBlocks(s.Chain)...); err != nil {
		return nil, err
	}
	if values["chain"], err = writePEM(s.Dir, "chain.pem", certBlocks(s.Chain[min(1, len(s.Chain)):])...); err != nil {
		return nil, err
	}
	if values["key"], err = writePEM(s.Dir, "key.pem", key); err != nil {
		return nil, err
	}
	if values["ca"], err = writePEM(s.Dir, "ca.pem", certBlocks(s.Trust)...); err != nil {
		return nil, err
	}
	if values["crl"], err = writePEM(s.Dir, "crl.pem", crlBlocks(s.CRLs)...); err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	values["addr"], values["host"], values["port"] = addr, host, port
	cmd, err := tmpl.Expand(values)
	if err != nil {
		return nil, err
	}
	p, err := StartServer(ctx, cmd, s.Dir)
	if err != nil {
		return nil, err
	}
	if err := awaitListening(ctx, p, addr); err != nil {
		res := p.Stop()
		return nil, fmt.Errorf("%w; it said: %s", err, res.Output)
	}
	br, err := s.Host.BridgeOut(s.Port, addr)
	if err != nil {
		p.Stop()
		return nil, err
	}
	return &RunningServer{Process: p, Addr: addr, bridge: br}, nil
}

// Stop stops carrying connections to the program, kills it if it still
// runs, and returns what it did.
func (r *RunningServer) Stop() Result {
	r.bridge.Close()
	return r.Process.Stop()
}

// freeLoopbackAddr returns a 127.0.0.1 port nothing listened on a moment
// ago, for a server program to listen on.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("realpeer: finding a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// awaitListening dials addr until it answers, with a backoff from 1 ms to
// 50 ms, and fails when the program exits first or ctx ends.
func awaitListening(ctx context.Context, p *Process, addr string) error {
	var d net.Dialer
	backoff := time.Millisecond
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-p.done:
			t.Stop()
			return errors.New("realpeer: the server program exited (status " + strconv.Itoa(p.res.ExitCode) + ") before it listened on " + addr)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("realpeer: the server program did not listen on %s: %w", addr, context.Cause(ctx))
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

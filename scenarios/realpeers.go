package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// Real programs in a scenario's peer roles (lab.RealPeers): alice's client
// replaced by a real client program, fe01's client listener (5061) by a
// real server program. Both reach the World through netsim's loopback
// bridges. What they print is kept (Env.ProgramLog) and quoted in the
// evidence, never taken as the verdict: a real victim's compromise is
// still what the attacker obtained, and its refusal the alert the
// attacker received.

// realClientTimeout bounds a real client program's run.
const realClientTimeout = 20 * time.Second

// realVictim is what alice's real client program did.
type realVictim struct {
	canary lab.Canary
	res    realpeer.Result
	diag   *lab.ProgramDiagnosis // what it said refused the server, if it exited with a failure
}

// realVictimSends runs the run's victim program as alice, for
// pool01.contoso.com, with alice's CA file (contoso.CAFile) and
// extraRoots as {ca}, and those CAs' CRLs as {crl}. {addr} is carried from alice's host to server or, when server
// is the zero value, to the address resolver (alice's configured one when
// nil) gives pool01.contoso.com as the program starts; {proxy} resolves
// names with resolver too, so a DNS attack on alice meets the program. It
// records what the program did.
func realVictimSends(ctx context.Context, env *lab.Env, c *contoso.Deployment, server netip.AddrPort, resolver sip.Resolver, extraRoots ...*x509.Certificate) (*realVictim, error) {
	tmpl, err := realpeer.Parse(env.RealPeers.Victim)
	if err != nil {
		return nil, err
	}
	roots, err := c.CAFile("alice")
	if err != nil {
		return nil, err
	}
	crls, err := c.CRLs("alice")
	if err != nil {
		return nil, err
	}
	cfg, err := c.ClientConfig("alice", "alice@contoso.com")
	if err != nil {
		return nil, err
	}
	if resolver == nil {
		resolver = cfg.Resolver
	}
	resolve := resolverOf(resolver)
	if names := tmpl.Names(); !server.IsValid() && (slices.Contains(names, "addr") || slices.Contains(names, "host") || slices.Contains(names, "port")) {
		addr, err := resolve(ctx, pool01Name)
		if err != nil {
			env.Evidence.Notef("alice", "resolving %s for the real client: %v", pool01Name, err)
			return nil, fmt.Errorf("scenarios: alice's real client: no address for %s: %w", pool01Name, err)
		}
		env.Evidence.Notef("alice", "resolved %s to %v for the real client's {addr}", pool01Name, addr)
		server = netip.AddrPortFrom(addr, contoso.PortSIPTLS)
	}
	dir, err := os.MkdirTemp("", "tlslab-victim-")
	if err != nil {
		return nil, fmt.Errorf("scenarios: real victim: %w", err)
	}
	defer os.RemoveAll(dir)
	v := &realVictim{canary: env.NewCanary("alice")}
	client := realpeer.Client{
		Host: c.Host("alice"), Server: server, ServerName: pool01Name, Port: contoso.PortSIPTLS,
		Resolve: resolve,
		Trust:   append(roots, extraRoots...), CRLs: crls, Canary: v.canary.Token, Dir: dir,
	}
	rctx, cancel := context.WithTimeout(ctx, realClientTimeout)
	defer cancel()
	if v.res, err = client.Run(rctx, tmpl); err != nil {
		return nil, fmt.Errorf("scenarios: alice's real client: %w", err)
	}
	if d, ok := lab.DiagnoseProgram(v.res.Output); ok && v.res.ExitCode != 0 {
		v.diag = &d
	}
	noteProgram(env, "alice", "victim", "real client", v.res)
	return v, nil
}

// noteProgram keeps a program's output and records how it ended and the
// last thing it said.
func noteProgram(env *lab.Env, host, role, what string, res realpeer.Result) {
	line := fmt.Sprintf("%s %s: %s; it said: %s", what, res.Program(), res.Status(), res.LastLine())
	path, err := env.ProgramLog(role, res.Command, res.Output)
	switch {
	case err != nil:
		line += fmt.Sprintf(" (its output could not be kept: %v)", err)
	case path != "":
		line += " (output in " + path + ")"
	}
	env.Evidence.Notef(host, "%s", line)
}

// resolverOf adapts a SIP client's resolver to the bridge's CONNECT
// front: the first IPv4 address of the name.
func resolverOf(r sip.Resolver) func(ctx context.Context, name string) (netip.Addr, error) {
	return func(ctx context.Context, name string) (netip.Addr, error) {
		addrs, err := r.LookupNetIP(ctx, "ip4", name)
		if err != nil {
			return netip.Addr{}, err
		}
		if len(addrs) == 0 {
			return netip.Addr{}, fmt.Errorf("no IPv4 address for %s", name)
		}
		return addrs[0], nil
	}
}

// realServer is fe01 with a real server program on its client port.
type realServer struct {
	srv  *realpeer.RunningServer
	fe01 *sip.FrontEnd // fe01 restarted without its TLS client listener
	dir  string
}

// startRealServer restarts fe01 without its TLS client listener and runs
// the run's server program on 5061 in its place, presenting cred with
// fe01's trust store and every CA's CRL. stop ends both and records
// what the program did.
func startRealServer(ctx context.Context, env *lab.Env, c *contoso.Deployment, cred pki.Credential) (*realServer, error) {
	tmpl, err := realpeer.Parse(env.RealPeers.Server)
	if err != nil {
		return nil, err
	}
	roots, err := c.TrustedRoots("fe01")
	if err != nil {
		return nil, err
	}
	crls, err := c.CRLs("fe01")
	if err != nil {
		return nil, err
	}
	fe01, err := restartFE01(ctx, env, c, nil)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tlslab-server-")
	if err != nil {
		fe01.Close()
		return nil, fmt.Errorf("scenarios: real server: %w", err)
	}
	chain, err := parseChain(cred.TLS.Certificate)
	if err != nil {
		fe01.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	srv, err := realpeer.Server{
		Host: c.Host("fe01"), Port: contoso.PortSIPTLS, ServerName: pool01Name,
		Chain: chain, Key: cred.Key, Trust: roots, CRLs: crls, Dir: dir,
	}.Start(ctx, tmpl)
	if err != nil {
		fe01.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scenarios: fe01's real server: %w", err)
	}
	env.Evidence.Notef("fe01", "real server %s listens on %s, serving 10.0.0.11:%d through the bridge with certificate %s",
		srv.Program(), srv.Addr, contoso.PortSIPTLS, cred.Leaf.Subject)
	return &realServer{srv: srv, fe01: fe01, dir: dir}, nil
}

// parseChain parses a tls.Certificate's chain.
func parseChain(ders [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("scenarios: a certificate of the chain: %w", err)
		}
		out[i] = c
	}
	return out, nil
}

// delivered waits, up to eventWait, for the program to print the
// canary, and records the delivery it saw. Without relayed (no session
// reached the server) it only looks at what the program printed so far.
func (r *realServer) delivered(ctx context.Context, env *lab.Env, canary lab.Canary, relayed bool) bool {
	wait := eventWait
	if !relayed {
		wait = 0
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if !r.srv.AwaitOutput(wctx, canary.Token) {
		return false
	}
	env.Evidence.Notef("fe01", "the real server printed alice's canary: delivered")
	return true
}

// stop ends the program and fe01, and records what the program did.
func (r *realServer) stop(env *lab.Env) {
	res := r.srv.Stop()
	noteProgram(env, "fe01", "server", "real server", res)
	r.fe01.Close()
	os.RemoveAll(r.dir)
}

// sendToRealServer has client send body to to through fe01's real
// server program, which is no registrar and never answers: it connects
// and sends the MESSAGE without registering first, and stops waiting
// for the answer once the program prints the canary (or the client gives
// up). A request stopped that way returns the context's error; the
// result says how far the client got.
func sendToRealServer(ctx context.Context, srv *realServer, canary lab.Canary, client *sip.Client, to, body string) (*sip.Result, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := &sip.Result{}
	s, err := client.Connect(sctx)
	if err != nil {
		var ce *sip.ConnectError
		if errors.As(err, &ce) {
			res.Attempts = ce.Attempts
		}
		return res, err
	}
	defer s.Close()
	res.Conn, res.Attempts = s.Info(), s.Attempts()
	done := make(chan error, 1)
	go func() { done <- s.Message(sctx, to, body) }()
	printed := make(chan struct{})
	go func() {
		if srv.srv.AwaitOutput(sctx, canary.Token) {
			close(printed)
		}
	}()
	select {
	case err = <-done:
	case <-printed:
		cancel()
		err = <-done
	}
	return res, err
}

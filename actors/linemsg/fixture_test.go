package linemsg_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/internal/pipenet"
	"github.com/tlslab/tlslab/actors/linemsg"
	"github.com/tlslab/tlslab/actors/pki"
)

// epoch is the simulated time the test PKI is created at.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const serverName = "pool01.contoso.com"

// testPKI is a CA with a server certificate for serverName, plus a CA the
// client does not trust.
type testPKI struct {
	ca, rogue *pki.CA
	cert      tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{}
	var err error
	if p.ca, err = pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Now: epoch}); err != nil {
		t.Fatal(err)
	}
	if p.rogue, err = pki.NewRootCA(pki.RootConfig{CommonName: "Mallory Root CA", Now: epoch}); err != nil {
		t.Fatal(err)
	}
	if p.cert, err = p.ca.IssueServer(pki.ServerRequest{DNSNames: []string{serverName}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// serverTLS returns a server config presenting cert, with its clock at at.
func serverTLS(cert tls.Certificate, at time.Time) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, Time: func() time.Time { return at }}
}

// clientTLS returns a client config trusting roots, dialling name, with its
// clock at at.
func clientTLS(roots *pki.CA, name string, at time.Time) *tls.Config {
	return &tls.Config{RootCAs: roots.Pool(), ServerName: name, Time: func() time.Time { return at }}
}

// serverFixture runs a Server on an in-memory listener.
type serverFixture struct {
	ln     *pipenet.Listener
	srv    *linemsg.Server
	cancel context.CancelFunc
	done   chan error
	err    error
}

// startServer serves cfg until the test ends or Close is called.
func startServer(t *testing.T, cfg linemsg.ServerConfig) *serverFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &serverFixture{ln: pipenet.Listen("server"), srv: linemsg.NewServer(cfg), cancel: cancel, done: make(chan error, 1)}
	go func() { f.done <- f.srv.Serve(ctx, f.ln) }()
	t.Cleanup(func() { f.Cancel() })
	return f
}

// dial connects a new client conn.
func (f *serverFixture) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := f.ln.Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Close closes the listener and waits for Serve, which drains every conn it
// accepted; afterwards Received and Errors are final.
func (f *serverFixture) Close() error {
	f.ln.Close()
	return f.wait()
}

// Cancel ends Serve's context and waits for it.
func (f *serverFixture) Cancel() error {
	f.cancel()
	return f.wait()
}

func (f *serverFixture) wait() error {
	if f.done != nil {
		f.err = <-f.done
		f.done = nil
	}
	return f.err
}

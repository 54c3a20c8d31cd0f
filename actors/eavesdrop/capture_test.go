package eavesdrop_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/internal/pipenet"
	"github.com/tlslab/tlslab/actors/linemsg"
	"github.com/tlslab/tlslab/actors/pki"
)

// epoch is the simulated time the test PKI is created at.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// write is one Write call on a captured conn.
type write struct {
	fromClient bool
	data       []byte
}

// transcript records the writes of both ends of a conversation, in order.
type transcript struct {
	mu     sync.Mutex
	writes []write
}

type recordingConn struct {
	net.Conn
	tr         *transcript
	fromClient bool
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.tr.mu.Lock()
	c.tr.writes = append(c.tr.writes, write{c.fromClient, bytes.Clone(p)})
	c.tr.mu.Unlock()
	return c.Conn.Write(p)
}

type recordingListener struct {
	net.Listener
	tr *transcript
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, tr: l.tr}, nil
}

// capture is a real linemsg exchange, byte for byte as each end wrote it.
type capture struct {
	writes  []write
	state   *tls.ConnectionState // the client's view, when its handshake verified
	sendErr error
}

// bytesWritten is the total payload both ends wrote.
func (c *capture) bytesWritten() int {
	n := 0
	for _, w := range c.writes {
		n += len(w.data)
	}
	return n
}

// segments lays the exchange out as TCP segments of one connection: the
// handshake, then each write in the order it happened.
func (c *capture) segments(tc *tcpConn) []seg {
	out := tc.handshake()
	for _, w := range c.writes {
		out = append(out, tc.send(w.fromClient, w.data)...)
	}
	return out
}

// captureExchange runs a linemsg Send of body from a client to a server over
// an in-memory pipe and records what each end wrote.
func captureExchange(t *testing.T, server linemsg.ServerConfig, client linemsg.ClientConfig, body string) *capture {
	t.Helper()
	tr := &transcript{}
	ln := pipenet.Listen("pool01")
	srv := linemsg.NewServer(server)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(t.Context(), &recordingListener{Listener: ln, tr: tr}) }()

	c := &capture{}
	if client.TLS != nil {
		client.TLS = client.TLS.Clone()
		client.TLS.VerifyConnection = func(cs tls.ConnectionState) error {
			c.state = &cs
			return nil
		}
	}
	conn, err := ln.Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c.sendErr = linemsg.NewClient(client).Send(t.Context(), &recordingConn{Conn: conn, tr: tr, fromClient: true}, body)
	ln.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.writes = tr.writes
	return c
}

// testPKI issues the pool's certificate (with its DNS name and IP).
func testPKI(t *testing.T) (*pki.CA, tls.Certificate) {
	t.Helper()
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Now: epoch})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"pool01.contoso.com"}, IPAddresses: []netip.Addr{pool.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	return ca, cert
}

package eavesdrop_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/internal/netsimtest"
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

// capture is a real one-line exchange, byte for byte as each end wrote it.
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

// captureExchange sends one line, "MSG <body>", from a client to a server
// over TCP on a simulated LAN, TLS with these configs unless they are nil, and the
// server answers "OK"; it records what each end wrote. The client closes
// first; the server reads until then.
func captureExchange(t *testing.T, server, client *tls.Config, body string) *capture {
	t.Helper()
	tr := &transcript{}
	clientConn, serverConn := netsimtest.TCPPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveLine(&recordingConn{Conn: serverConn, tr: tr}, server)
	}()

	c := &capture{}
	if client != nil {
		client = client.Clone()
		client.VerifyConnection = func(cs tls.ConnectionState) error {
			c.state = &cs
			return nil
		}
	}
	raw := clientConn
	c.sendErr = sendLine(&recordingConn{Conn: raw, tr: tr, fromClient: true}, client, "MSG "+body+"\n")
	<-done
	c.writes = tr.writes
	return c
}

// sendLine writes line on conn (after a TLS handshake when cfg is set),
// reads the answer and closes conn.
func sendLine(conn net.Conn, cfg *tls.Config, line string) error {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if cfg != nil {
		tc := tls.Client(conn, cfg)
		conn = tc
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return err
		}
	}
	defer conn.Close() // the TLS conn when wrapped, so close_notify is sent
	if _, err := io.WriteString(conn, line); err != nil {
		return err
	}
	answer, err := bufio.NewReader(conn).ReadString('\n')
	if err == nil && answer != "OK\n" {
		err = fmt.Errorf("answer %q", answer)
	}
	return err
}

// serveLine reads a line from conn (after a TLS handshake when cfg is
// set), answers "OK", reads until the client closes, and closes conn.
func serveLine(conn net.Conn, cfg *tls.Config) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if cfg != nil {
		tc := tls.Server(conn, cfg)
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return
		}
		conn = tc
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if _, err := br.ReadString('\n'); err != nil {
		return
	}
	if _, err := io.WriteString(conn, "OK\n"); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, br)
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

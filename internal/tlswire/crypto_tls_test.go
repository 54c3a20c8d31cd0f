package tlswire_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/tlslab/tlslab/internal/netsimtest"
)

// recordingConn copies what its end writes to w. Each end writes from
// one goroutine at a time, and w is read only once both have finished.
type recordingConn struct {
	net.Conn
	w *bytes.Buffer
}

func (c recordingConn) Write(p []byte) (int, error) {
	c.w.Write(p)
	return c.Conn.Write(p)
}

// conversation is a real crypto/tls connection as the wire carried it.
type conversation struct {
	client, server []byte // what each end wrote
	keyLog         []byte
	state          tls.ConnectionState // the client's
}

const (
	clientLine = "ping from the client\n"
	serverLine = "pong from the server\n"
)

// converse runs a crypto/tls handshake over TCP on a simulated LAN (buffered, unlike
// net.Pipe, so both ends may write at once, as around a
// HelloRetryRequest) with a key log; the client writes clientLine, the
// server answers serverLine, and both close.
func converse(t *testing.T, client, server *tls.Config) conversation {
	t.Helper()
	var wrote [2]bytes.Buffer // the client's, the server's
	keys := &bytes.Buffer{}   // written by the client's handshake, on this goroutine
	cp, sp := netsimtest.TCPPair(t)
	client, server = client.Clone(), server.Clone()
	client.KeyLogWriter = keys
	done := make(chan error, 1)
	go func() {
		sc := tls.Server(recordingConn{sp, &wrote[1]}, server)
		line, err := bufio.NewReader(sc).ReadString('\n')
		if err == nil && line == clientLine {
			_, err = io.WriteString(sc, serverLine)
		}
		_, _ = io.Copy(io.Discard, sc) // until the client's close_notify
		sc.Close()
		done <- err
	}()
	cc := tls.Client(recordingConn{cp, &wrote[0]}, client)
	if _, err := io.WriteString(cc, clientLine); err != nil {
		t.Fatalf("client: %v", err)
	}
	if line, err := bufio.NewReader(cc).ReadString('\n'); err != nil || line != serverLine {
		t.Fatalf("client read %q, %v", line, err)
	}
	state := cc.ConnectionState()
	cc.Close()
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	return conversation{client: wrote[0].Bytes(), server: wrote[1].Bytes(), keyLog: keys.Bytes(), state: state}
}

// certificate is a self-signed certificate for name with an ECDSA P-256
// key, or an RSA 2048 key when rsaKey.
func certificate(t *testing.T, name string, rsaKey bool) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	var key any
	var pub any
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		IsCA:     true, BasicConstraintsValid: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

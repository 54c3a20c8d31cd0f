package netsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"sync"
	"testing"
	"time"
)

// testPKI is a CA and a server certificate for server.test, ECDSA P-256.
type testPKI struct {
	roots *x509.CertPool
	cert  tls.Certificate
}

func newTestPKI(t testing.TB) testPKI {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "netsim test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "server.test"},
		DNSNames:     []string{"server.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return testPKI{roots: roots, cert: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}
}

// TestTLS13 runs crypto/tls over netsim: a TLS 1.3 handshake with an ECDSA
// P-256 certificate verified against its CA and name, then data both ways,
// across a router.
func TestTLS13(t *testing.T) {
	pki := newTestPKI(t)
	n := newRouted(t, SegmentConfig{}, SegmentConfig{})
	l, err := n.server.Listen("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{pki.cert}, MinVersion: tls.VersionTLS13})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close() // before Wait: it ends the accept loop
	wg.Go(func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				io.Copy(c, c) // echo until the client closes
			})
		}
	})

	dial := func(name string) (*tls.Conn, error) {
		raw, err := n.client.Dial("tcp", "10.0.2.20:443")
		if err != nil {
			return nil, err
		}
		c := tls.Client(raw, &tls.Config{RootCAs: pki.roots, ServerName: name})
		if err := c.HandshakeContext(t.Context()); err != nil {
			raw.Close()
			return nil, err
		}
		return c, nil
	}

	c, err := dial("server.test")
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 || !st.HandshakeComplete {
		t.Errorf("negotiated %s, complete %v; want TLS 1.3", tls.VersionName(st.Version), st.HandshakeComplete)
	}
	if len(st.VerifiedChains) != 1 || len(st.VerifiedChains[0]) != 2 {
		t.Errorf("verified chains %v, want leaf and CA", st.VerifiedChains)
	}
	if pub, ok := st.PeerCertificates[0].PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("server key %T, want ECDSA P-256", st.PeerCertificates[0].PublicKey)
	}
	msg := payload(9, 200_000) // several TLS records
	go func() { c.Write(msg); c.CloseWrite() }()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != string(msg) {
		t.Errorf("echo over TLS: %d bytes, %v", len(got), err)
	}
	c.Close()

	// The wrong name fails verification with crypto/tls's own error.
	_, err = dial("other.test")
	var verr *tls.CertificateVerificationError
	var herr x509.HostnameError
	if !errors.As(err, &verr) || !errors.As(err, &herr) || herr.Host != "other.test" {
		t.Errorf("handshake for the wrong name: %v, want a hostname verification error", err)
	}
	// So does a client that does not trust the CA.
	raw, err := n.client.Dial("tcp", "10.0.2.20:443")
	if err != nil {
		t.Fatal(err)
	}
	err = tls.Client(raw, &tls.Config{ServerName: "server.test", RootCAs: x509.NewCertPool()}).HandshakeContext(t.Context())
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Errorf("handshake without the CA: %v, want unknown authority", err)
	}
	raw.Close()
}

package timeline

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlslab/tlslab/netsim"
)

// chunk is what one side wrote to a connection, in the order of writes.
type chunk struct {
	dir int // 0: client, 1: server
	p   []byte
}

// wireLog records the bytes both ends of a connection write, in order.
type wireLog struct {
	mu     sync.Mutex
	chunks []chunk
}

type loggedConn struct {
	net.Conn
	dir int
	log *wireLog
}

func (c loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.chunks = append(c.log.chunks, chunk{c.dir, bytes.Clone(p)})
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// selfSigned is a certificate for name, valid 2000-2100, signed by itself.
func selfSigned(t *testing.T, name string, usage x509.ExtKeyUsage) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// tcpPair is a connected pair of TCP connections across a netsim segment
// (buffered, unlike net.Pipe, so both ends can write at once as TLS 1.3
// does). The world closes when the test ends.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	host := func(name, addr string) *netsim.Host {
		h := w.NewHost(name, netsim.HostConfig{})
		if _, err := h.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix(addr)}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	cliHost, srvHost := host("cli", "10.1.0.10/24"), host("srv", "10.1.0.11/24")
	ln, err := srvHost.Listen("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = cliHost.DialContext(context.Background(), "tcp", "10.1.0.11:443")
	server = <-accepted
	if err != nil || server == nil {
		t.Fatalf("netsim TCP: %v", err)
	}
	return client, server
}

// TestTimelineDecryptsTLS13 runs real crypto/tls handshakes over netsim
// TCP with a key log, feeds what both ends wrote to the timeline's TLS decoder
// and only then the key log (as when the secrets come after the records),
// and checks what the decrypted handshake shows.
func TestTimelineDecryptsTLS13(t *testing.T) {
	const name = "srv.lab.test"
	srvCert, srvLeaf := selfSigned(t, name, x509.ExtKeyUsageServerAuth)
	cliCert, cliLeaf := selfSigned(t, "alice.lab.test", x509.ExtKeyUsageClientAuth)
	trustSrv, trustCli := x509.NewCertPool(), x509.NewCertPool()
	trustSrv.AddCert(srvLeaf)
	trustCli.AddCert(cliLeaf)
	valid := "valid 2000-01-01T00:00:00Z→2100-01-01T00:00:00Z"
	srvDesc := "subject CN=" + name + " issuer CN=" + name + " " + valid
	cliDesc := "subject CN=alice.lab.test issuer CN=alice.lab.test " + valid

	cases := []struct {
		name           string
		client, server *tls.Config
		want, not      []string
	}{{
		name:   "client refuses a self-signed certificate",
		client: &tls.Config{RootCAs: x509.NewCertPool()},
		server: &tls.Config{Certificates: []tls.Certificate{srvCert}},
		want: []string{
			"TLS ServerHello -> 10.0.0.10:40000 TLS1.3 ",
			"TLS EncryptedExtensions (decrypted) -> 10.0.0.10:40000",
			"TLS Certificate (decrypted) -> 10.0.0.10:40000",
			"TLS CertificateVerify (decrypted) -> 10.0.0.10:40000",
			"TLS Finished (decrypted) -> 10.0.0.10:40000",
			"certificate presented by 10.0.0.20:443 for " + name + ": " + srvDesc + ": refused: alert bad certificate",
			"TLS alert bad certificate (fatal, decrypted) -> 10.0.0.20:443",
		},
		not: []string{"TLS Finished (decrypted) -> 10.0.0.20:443", "encrypted records begin"},
	}, {
		name:   "client accepts",
		client: &tls.Config{RootCAs: trustSrv},
		server: &tls.Config{Certificates: []tls.Certificate{srvCert}},
		want: []string{
			"certificate presented by 10.0.0.20:443 for " + name + ": " + srvDesc + ": accepted (handshake continued)",
			"TLS Finished (decrypted) -> 10.0.0.20:443",
		},
		not: []string{"TLS alert", "encrypted records begin"},
	}, {
		name:   "server refuses a client certificate",
		client: &tls.Config{RootCAs: trustSrv, Certificates: []tls.Certificate{cliCert}},
		server: &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()},
		want: []string{
			"TLS CertificateRequest (decrypted) -> 10.0.0.10:40000",
			"TLS Certificate (decrypted) -> 10.0.0.20:443",
			"certificate presented by 10.0.0.20:443 for " + name + ": " + srvDesc + ": accepted (handshake continued)",
			"client certificate presented by 10.0.0.10:40000 for " + name + ": " + cliDesc + ": refused: alert unknown certificate authority",
			"TLS alert unknown certificate authority (fatal, decrypted) -> 10.0.0.10:40000",
		},
	}, {
		name:   "server accepts a client certificate",
		client: &tls.Config{RootCAs: trustSrv, Certificates: []tls.Certificate{cliCert}},
		server: &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trustCli},
		want: []string{
			"client certificate presented by 10.0.0.10:40000 for " + name + ": " + cliDesc,
		},
		not: []string{"TLS alert", "refused"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log := &wireLog{}
			keys := &lockedBuffer{}
			cli, srv := tcpPair(t)
			client := tc.client.Clone()
			client.ServerName, client.KeyLogWriter = name, keys
			cc := tls.Client(loggedConn{cli, 0, log}, client)
			sc := tls.Server(loggedConn{srv, 1, log}, tc.server)
			var wg sync.WaitGroup
			wg.Go(func() {
				defer sc.Close()
				if sc.Handshake() == nil {
					sc.Write([]byte("hello")) // application data is never decrypted
				}
			})
			if err := cc.Handshake(); err == nil {
				cc.Read(make([]byte, 16)) // the server's data, or its late alert
			}
			cc.Close()
			wg.Wait()

			r := newRecorder()
			c := &tcpConn{
				client: netip.MustParseAddrPort("10.0.0.10:40000"), server: netip.MustParseAddrPort("10.0.0.20:443"),
				dirs: [2]*tcpDir{{}, {}}, accepted: true,
			}
			r.mu.Lock()
			for _, ch := range log.chunks {
				r.frames++
				r.stream(time.Unix(0, int64(r.frames)), nil, c, ch.dir, ch.p)
			}
			r.mu.Unlock()
			r.keyLog(keys.Bytes())
			var texts []string
			for _, e := range r.timeline() {
				texts = append(texts, e.Text)
			}
			all := strings.Join(texts, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no event with %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(all, n) {
					t.Errorf("an event with %q", n)
				}
			}
			if strings.Contains(all, "hello") || strings.Contains(all, "application data") && !strings.Contains(all, "encrypted application data begins") {
				t.Errorf("application data reported")
			}
			if t.Failed() {
				t.Logf("timeline:\n%s", all)
			}
		})
	}
}

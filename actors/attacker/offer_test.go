package attacker_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
)

// A VictimTLS with Legacy answers a client that offers none of its suites
// with the first, which the client refuses itself; one that offers a
// suite completes the handshake with it.
func TestVictimTLSOfferedSuites(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pool01"}, DNSNames: []string{"pool01"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	side := attacker.VictimTLS{
		Certs: attacker.FixedCertificate("test", cert), MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}, Legacy: true,
	}
	if got, want := side.Offer(), "offering only TLS 1.2 with TLS_RSA_WITH_AES_128_CBC_SHA"; got != want {
		t.Errorf("Offer() = %q, want %q", got, want)
	}
	tests := []struct {
		name               string
		clientSuites       []uint16
		clientErr, sideErr string
	}{
		{"forward-secret client", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, "tls: server chose an unconfigured cipher suite",
			"attacker: answered TLS 1.2 with TLS_RSA_WITH_AES_128_CBC_SHA; the client refused it: alert tls: handshake failure"},
		{"client allowing static RSA", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			done := make(chan error, 1)
			hs := &attacker.Handshake{}
			go func() {
				_, err := side.Accept(context.Background(), b, hs)
				b.Close()
				done <- err
			}()
			client := tls.Client(a, &tls.Config{InsecureSkipVerify: true, CipherSuites: tt.clientSuites, MinVersion: tls.VersionTLS12, ServerName: "pool01"})
			cerr := client.Handshake()
			if cerr == nil {
				if got := client.ConnectionState().CipherSuite; got != tls.TLS_RSA_WITH_AES_128_CBC_SHA {
					t.Errorf("negotiated %s", tls.CipherSuiteName(got))
				}
				client.Close()
			} else {
				a.Close()
			}
			serr := <-done
			if errText(cerr) != tt.clientErr || errText(serr) != tt.sideErr {
				t.Errorf("client %v, side %v; want %q, %q", cerr, serr, tt.clientErr, tt.sideErr)
			}
		})
	}
}

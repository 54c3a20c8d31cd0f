package attacker_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/realpeer"
	"github.com/tlslab/tlslab/netsim"
)

// TestKeyEavesdropperAgainstOpenSSL: pool01 is a real openssl s_server
// (OpenSSL's TLS 1.2 stack, reached through a loopback bridge) and alice
// a crypto/tls client in the World. A passive listener on the LAN
// holding pool01's stolen RSA key decrypts the session that used static
// RSA key exchange and reads alice's canary; the ECDHE session resists,
// with the exact reason.
func TestKeyEavesdropperAgainstOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed; CI must install it (.ci/run)")
		}
		t.Skip("openssl is not installed")
	}
	w := netsim.NewWorld(netsim.Config{Seed: 5})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	alice, _ := addHost(t, w, lan, "alice", netsim.HostConfig{}, aliceIP)
	pool, _ := addHost(t, w, lan, "pool01", netsim.HostConfig{}, fe01IP)
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Clock: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}, KeyType: pki.KeyRSA2048})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cred.Key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cred.Leaf.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	eve := attacker.NewKeyEavesdropper(cred.Key, 0)
	defer lan.AddTap(eve)()

	rows := []struct {
		name, cipher string // cipher as OpenSSL names it
		suite        uint16
		err          string
	}{
		{"static RSA", "AES128-GCM-SHA256", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, ""},
		{"ECDHE", "ECDHE-RSA-AES128-GCM-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			"session used ECDHE key exchange: the server key cannot recover the premaster secret"},
	}
	for i, r := range rows {
		port := freeLoopbackPort(t)
		srv, err := realpeer.Start(t.Context(), fmt.Sprintf("openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -tls1_2 -cipher %s -rev",
			port, certFile, keyFile, r.cipher), dir)
		if err != nil {
			t.Fatal(err)
		}
		awaitListening(t, port, srv)
		br, err := pool.BridgeOut(uint16(6000+i), fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		raw, err := alice.DialContext(ctx, "tcp", netip.AddrPortFrom(fe01IP, uint16(6000+i)).String())
		if err != nil {
			t.Fatal(err)
		}
		conn := tls.Client(raw, &tls.Config{RootCAs: ca.Pool(), ServerName: "pool01.contoso.com", Time: w.Now,
			CipherSuites: []uint16{r.suite}, MaxVersion: tls.VersionTLS12})
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(conn, "canary-%s\n", r.name); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if want := reverse("canary-"+r.name) + "\n"; err != nil || line != want {
			t.Errorf("%s: openssl s_server answered %q (%v), want %q", r.name, line, err, want)
		}
		if st := conn.ConnectionState(); st.CipherSuite != r.suite {
			t.Errorf("%s: negotiated %s", r.name, tls.CipherSuiteName(st.CipherSuite))
		}
		conn.Close()
		cancel()
		br.Close()
		srv.Stop()
	}
	rep := eve.Report([]string{"canary-static RSA", "canary-ECDHE"})
	if len(rep.Conns) != len(rows) {
		t.Fatalf("%d TLS connections captured, want %d", len(rep.Conns), len(rows))
	}
	for i, r := range rows {
		if got := rep.Conns[i]; got.Err != r.err {
			t.Errorf("%s: decryption error %q, want %q", r.name, got.Err, r.err)
		}
	}
	if s := rep.Conns[0].Session; s == nil || s.CipherSuite != "TLS_RSA_WITH_AES_128_GCM_SHA256" || !slices.Equal(rep.Found, []string{"canary-static RSA"}) {
		t.Errorf("static RSA: found %v in %+v", rep.Found, s)
	}
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

// freeLoopbackPort returns a loopback port nothing listens on now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// awaitListening waits until the real server accepts on port, or fails
// with its output after 10 s.
func awaitListening(t *testing.T, port int, srv *realpeer.Process) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r := srv.Stop()
			t.Fatalf("openssl s_server is not listening on %d: %v\n%s", port, err, r.Output)
		}
		time.Sleep(10 * time.Millisecond) // a real process starting: nothing to wait on but its socket
	}
}

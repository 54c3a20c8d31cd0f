package attacker_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// TestKeyEavesdropper: a passive listener holding pool01's stolen RSA
// key decrypts the TLS 1.2 sessions that used static RSA key exchange
// (GCM and CBC) and reads both sides' canaries; ECDHE and TLS 1.3 sessions
// resist, with the exact reason.
//
// crypto/tls offers static-RSA suites only when Config.CipherSuites lists
// them explicitly (the defaults dropped them in Go 1.22); an explicit list
// needs no GODEBUG=tlsrsakex=1, which this test checks is unset.
func TestKeyEavesdropper(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "tlsrsakex") {
		t.Skip("GODEBUG tlsrsakex is set; this test shows an explicit CipherSuites list needs none")
	}
	synctest.Test(t, func(t *testing.T) {
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
		eve := attacker.NewKeyEavesdropper(cred.Key, 0)
		defer lan.AddTap(eve)()
		raw := attacker.NewStreamCapture(0)
		defer lan.AddTap(raw)()

		type row struct {
			name          string
			suite         uint16 // 0: TLS 1.3
			err           string
			wantSuiteName string
		}
		rows := []row{
			{"static RSA, AES-GCM", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
			{"static RSA, AES-CBC", tls.TLS_RSA_WITH_AES_128_CBC_SHA, "", "TLS_RSA_WITH_AES_128_CBC_SHA"},
			{"ECDHE", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "session used ECDHE key exchange: the server key cannot recover the premaster secret", ""},
			{"TLS 1.3", 0, "session used TLS 1.3, whose key exchange is always ephemeral: the server key cannot recover the traffic secrets", ""},
		}
		for i, r := range rows {
			cfg := func() *tls.Config {
				c := &tls.Config{Certificates: []tls.Certificate{cred.TLS}, RootCAs: ca.Pool(), ServerName: "pool01.contoso.com", Time: w.Now}
				if r.suite != 0 {
					c.CipherSuites, c.MaxVersion = []uint16{r.suite}, tls.VersionTLS12
				}
				return c
			}
			exchange(t, alice, pool, 6000+i, cfg(), cfg(), "client-canary-"+r.name, "server-canary-"+r.name)
		}
		synctest.Wait()

		var canaries []string
		for _, r := range rows {
			canaries = append(canaries, "client-canary-"+r.name, "server-canary-"+r.name)
		}
		rep := eve.Report(canaries)
		if len(rep.Conns) != len(rows) {
			t.Fatalf("%d TLS connections, want %d", len(rep.Conns), len(rows))
		}
		for i, r := range rows {
			got := rep.Conns[i]
			if got.Err != r.err {
				t.Errorf("%s: err %q, want %q", r.name, got.Err, r.err)
				continue
			}
			if r.err != "" {
				continue
			}
			if !slices.Equal(got.Found, []string{"client-canary-" + r.name, "server-canary-" + r.name}) || got.Session.CipherSuite != r.wantSuiteName || !got.Session.ExtendedMasterSecret {
				t.Errorf("%s: found %v in %+v", r.name, got.Found, got.Session)
			}
		}
		if want := []string{"client-canary-static RSA, AES-GCM", "server-canary-static RSA, AES-GCM", "client-canary-static RSA, AES-CBC", "server-canary-static RSA, AES-CBC"}; !slices.Equal(rep.Found, want) {
			t.Errorf("found %v, want %v", rep.Found, want)
		}

		// An ECDSA key never decrypted anything; records that do not
		// authenticate mean the key (or the capture) is wrong.
		gcm := raw.Conns()[0]
		ecdsaCred, err := ca.Issue(pki.CertRequest{DNSNames: []string{"fe02.contoso.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := attacker.DecryptStaticRSA(ecdsaCred.Key, gcm); !errors.Is(err, attacker.ErrNotRSAKey) {
			t.Errorf("ECDSA key: %v, want ErrNotRSAKey", err)
		}
		gcm.ClientData[len(gcm.ClientData)-1] ^= 1
		_, err = attacker.DecryptStaticRSA(cred.Key, gcm)
		var de *attacker.DecryptError
		if !errors.As(err, &de) || !errors.Is(err, attacker.ErrWrongKey) || de.Client != gcm.Client {
			t.Errorf("tampered record: %v, want a DecryptError for ErrWrongKey", err)
		}
		t.Log(err)
	})
}

// exchange runs one TLS connection from client to server's port: each side
// writes its canary, reads the other's, and closes.
func exchange(t *testing.T, client, server *netsim.Host, port int, ccfg, scfg *tls.Config, cmsg, smsg string) {
	t.Helper()
	l, err := server.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		tc := tls.Server(c, scfg)
		defer tc.Close()
		buf := make([]byte, len(cmsg))
		if _, err := io.ReadFull(tc, buf); err != nil {
			done <- err
			return
		}
		_, err = io.WriteString(tc, smsg)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, "tcp", netip.AddrPortFrom(server.Addr(), uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, ccfg)
	defer tc.Close()
	if _, err := io.WriteString(tc, cmsg); err != nil {
		t.Fatalf("client write: %v", err)
	}
	buf := make([]byte, len(smsg))
	if _, err := io.ReadFull(tc, buf); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}

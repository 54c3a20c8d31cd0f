package labtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// buggy skips chain and hostname checks, verifying only that a chain was
// sent.
func buggy(*x509.CertPool) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		return nil
	}}
}

func correct(pool *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: pool} }

func TestBaseline(t *testing.T) {
	w := labtest.NewWorld(t, labtest.WithSeed(7))
	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
	client, api := lan.Host("client"), lan.Host("api")
	ca := w.CA("Example Root")
	api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, http.HandlerFunc(ok))
	resp, err := client.HTTPClient(correct(ca.Pool())).Get("https://api.lan/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.Evidence().Delivered("api", "answered %s", resp.Status)
	if r := w.Result(); r.Verdict != lab.Passed {
		t.Fatalf("got %v: %v", r.Verdict, r.Evidence)
	}
}

func TestMITM(t *testing.T) {
	for _, tc := range []struct {
		name    string
		how     labtest.MITMOption
		cert    func(*labtest.CA) labtest.Cert
		defense string
	}{
		{"arp/other-name", labtest.ByARP(), func(ca *labtest.CA) labtest.Cert { return ca.OtherName("mallory.lan") }, lab.DefenseHostnameCheck},
		{"arp/self-signed", labtest.ByARP(), func(ca *labtest.CA) labtest.Cert { return ca.SelfSigned("api.lan") }, lab.DefenseChainValidation},
		{"arp/expired", labtest.ByARP(), func(ca *labtest.CA) labtest.Cert { return ca.Expired("api.lan") }, lab.DefenseValidityCheck},
		{"dns/other-name", labtest.ByRogueDNS(), func(ca *labtest.CA) labtest.Cert { return ca.OtherName("mallory.lan") }, lab.DefenseHostnameCheck},
		{"gateway/expired", labtest.ByGateway(), func(ca *labtest.CA) labtest.Cert { return ca.Expired("api.lan") }, lab.DefenseValidityCheck},
	} {
		for _, cfg := range []struct {
			name string
			tls  func(*x509.CertPool) *tls.Config
		}{{"buggy", buggy}, {"correct", correct}} {
			t.Run(tc.name+"/"+cfg.name, func(t *testing.T) {
				w := labtest.NewWorld(t, labtest.WithSeed(7))
				lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
				client, api := lan.Host("client"), lan.Host("api")
				ca := w.CA("Example Root")
				api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, http.HandlerFunc(ok))
				w.MITM(client, api, 443, tc.how, labtest.Presenting(tc.cert(ca)))
				resp, err := client.HTTPClient(cfg.tls(ca.Pool())).Post("https://api.lan/login", "text/plain", strings.NewReader(w.Canary("client").String()))
				if err == nil {
					resp.Body.Close()
				}
				if cfg.name == "buggy" {
					labtest.RequireBroken(t, w.Result())
				} else {
					labtest.RequireHeld(t, w.Result(), tc.defense)
				}
			})
		}
	}
}

func TestImpersonateClient(t *testing.T) {
	for _, tc := range []struct {
		auth tls.ClientAuthType
		want lab.Verdict
	}{{tls.RequestClientCert, lab.Broken}, {tls.RequireAndVerifyClientCert, lab.Held}} {
		t.Run(tc.auth.String(), func(t *testing.T) {
			w := labtest.NewWorld(t)
			lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
			api, mallory := lan.Host("api"), lan.Host("mallory")
			ca := w.CA("Example Root")
			api.ServeTLS(8443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}, ClientAuth: tc.auth, ClientCAs: ca.Pool()},
				func(c *tls.Conn) {
					_, _ = c.Write([]byte("hello " + c.ConnectionState().PeerCertificates[0].Subject.CommonName))
				})
			fake := w.SelfSigned("alice.lan")
			w.ImpersonateClient(mallory, "api.lan:8443", &fake, []byte("PING"))
			if r := w.Result(); r.Verdict != tc.want {
				t.Fatalf("got %s: %v %v", r.Verdict, r.Err, r.Evidence)
			}
		})
	}
}

func TestEavesdrop(t *testing.T) {
	w := labtest.NewWorld(t)
	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
	client, api := lan.Host("client"), lan.Host("api")
	api.ServeHTTP(80, nil, http.HandlerFunc(ok))
	w.Eavesdrop(lan)
	resp, err := client.HTTPClient(nil).Post("http://api.lan/login", "text/plain", strings.NewReader(w.Canary("client").String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	labtest.RequireBroken(t, w.Result())
}

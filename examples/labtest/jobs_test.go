package example

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
	"github.com/tlslab/tlslab/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The code under test: two client configurations and a service.

// buggyTLS is a real-world mistake: verification turned off to get past a
// test certificate, with a callback that only logs whom it talks to.
func buggyTLS(*x509.CertPool) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		leaf, err := x509.ParseCertificate(raw[0])
		if err == nil {
			log.Printf("talking to %s", leaf.Subject)
		}
		return err
	}}
}

// correctTLS is the default done right.
func correctTLS(roots *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: roots} }

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })

// The jobs. Each is what a user writes; none takes more than 15 lines.

// (a) A scenario of tlslab's own catalog, judged as the catalog expects.
func TestCatalogScenario(t *testing.T) {
	s, err := scenarios.Catalog().Lookup("mitm/self-signed")
	if err != nil {
		t.Fatal(err)
	}
	labtest.RunCatalog(t, []lab.Scenario{s})
}

// (b) Your client's tls.Config under MITM, by ARP and by rogue DNS, with
// every certificate case of the catalog (another name from a trusted CA,
// self-signed, expired ...): the buggy config is broken, the correct one
// held by the defense each case names.
func TestOwnClientConfig(t *testing.T) {
	for _, forged := range labtest.Forgeries() {
		for _, by := range []labtest.MITMOption{labtest.ByARP(), labtest.ByRogueDNS()} {
			for name, want := range map[string]lab.Verdict{"buggy": lab.Broken, "correct": lab.Held} {
				t.Run(by.String()+"/"+forged.Name+"/"+name, func(t *testing.T) {
					w := labtest.NewWorld(t)
					client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
					api.ServeHTTP(443, ca.ServerConfig("api.lan"), hello)
					w.MITM(client, api, 443, by, labtest.Presenting(forged.Cert(ca, "api.lan")))
					cfg := map[string]func(*x509.CertPool) *tls.Config{"buggy": buggyTLS, "correct": correctTLS}[name]
					client.HTTPClient(cfg(ca.Pool())).Get("https://api.lan/login?password=" + w.Canary("client").String())
					labtest.RequireVerdict(t, w.Result(), want, forged.StoppedBy)
				})
			}
		}
	}
}

// (c) Your server under client impersonation: RequestClientCert lets a
// self-signed "alice" in, RequireAndVerifyClientCert refuses her.
func TestOwnServerMTLS(t *testing.T) {
	for auth, want := range map[tls.ClientAuthType]lab.Verdict{tls.RequestClientCert: lab.Broken, tls.RequireAndVerifyClientCert: lab.Held} {
		t.Run(auth.String(), func(t *testing.T) {
			w := labtest.NewWorld(t)
			api, mallory, ca := w.Host("api"), w.Host("mallory"), w.CA("Example Root")
			cfg := ca.ServerConfig("api.lan")
			cfg.ClientAuth, cfg.ClientCAs = auth, ca.Pool()
			api.ServeTLS(8443, cfg, func(c *tls.Conn) { io.WriteString(c, "welcome") })
			alice := w.SelfSigned("alice.lan")
			w.ImpersonateClient(mallory, "api.lan:8443", &alice, []byte("GET secrets"))
			labtest.RequireVerdict(t, w.Result(), want, lab.DefenseChainValidation)
		})
	}
}

// (d) Your HTTP service under MITM, checked with gomega.
func TestOwnHTTPService(t *testing.T) {
	g := NewWithT(t)
	w := labtest.NewWorld(t, labtest.WithSeed(3))
	client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
	api.ServeHTTP(443, ca.ServerConfig("api.lan"), hello)
	w.MITM(client, api, 443, labtest.ByARP(), labtest.Presenting(ca.OtherName("mallory.lan")))
	_, err := client.HTTPClient(correctTLS(ca.Pool())).Get("https://api.lan/")
	g.Expect(err).To(MatchError(ContainSubstring("x509: certificate is valid for mallory.lan, not api.lan")))
	g.Expect(w.Result()).To(SatisfyAll(labtest.BeHeld(), labtest.HaveStoppedBy(lab.DefenseHostnameCheck), labtest.HaveEvidence("mallory.lan")))
}

// (e) netsim alone as a fake network with latency and loss: 100 kB echo
// across a LAN that delays every frame 5 ms and loses 2% of them. If the
// test fails, the capture and key log are kept in its artifact directory.
func TestFakeNetwork(t *testing.T) {
	w := labtest.NewWorld(t, labtest.WithImpair("delay=5ms,loss=2%"))
	a, b := w.Host("a"), w.Host("b")
	b.ServeTCP(7, func(c net.Conn) { io.Copy(c, c) })
	c, err := a.DialContext(t.Context(), "tcp", "b.lan:7")
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 100_000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %v", err)
	}
}

// (f) Your own catalog, with your own topology, reported as JUnit: a
// label of your own, a scenario built with the same World API, run as
// subtests with a JUnit report in the artifact directory.
func TestOwnCatalog(t *testing.T) {
	lab.RegisterLabel("api", "the example's own scenarios")
	mitm := labtest.Scenario(lab.Scenario{Name: "api/mitm-other-name", Labels: []lab.Label{"api"}, Summary: "mallory presents her own name's certificate",
		Attacker: "mallory, ARP spoofing", Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck}, func(w *labtest.World) {
		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
		api.ServeHTTP(443, ca.ServerConfig("api.lan"), hello)
		w.MITM(client, api, 443, labtest.Presenting(ca.OtherName("mallory.lan")))
		client.HTTPClient(correctTLS(ca.Pool())).Get("https://api.lan/?" + w.Canary("client").String())
	})
	labtest.RunCatalog(t, []lab.Scenario{mitm}, labtest.WithImpair("loss=1%"), labtest.WithJUnit("example", ""),
		labtest.WithReplayHint("go test -run 'TestOwnCatalog/%s' (seed %d)"))
}

package example

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
	"github.com/tlslab/tlslab/netsim"
	"github.com/tlslab/tlslab/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// buggyTLS is a real-world mistake: skip verification, then "verify" by
// hand that the peer holds a server certificate, forgetting the hostname,
// the chain and the validity period.
func buggyTLS(*x509.CertPool) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		leaf, err := x509.ParseCertificate(raw[0])
		if err == nil && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
			err = errors.New("not a server certificate")
		}
		return err
	}}
}

// correctTLS is the default done right.
func correctTLS(roots *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: roots} }

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })

// (a) A scenario of tlslab's own catalog, judged as the catalog expects.
func TestCatalogScenario(t *testing.T) {
	s, err := scenarios.Catalog().Lookup("mitm/self-signed")
	if err != nil {
		t.Fatal(err)
	}
	labtest.RunCatalog(t, []lab.Scenario{s})
}

// (b) Your client's tls.Config under MITM, by ARP and by rogue DNS, with a
// certificate for another name from a trusted CA, a self-signed one and an
// expired one: the buggy config is broken, the correct one held by the
// defense named.
func TestOwnClientConfig(t *testing.T) {
	attacks := map[string]struct {
		cert    func(*labtest.CA) labtest.Cert
		defense string
	}{
		"other-name":  {func(ca *labtest.CA) labtest.Cert { return ca.OtherName("mallory.lan") }, lab.DefenseHostnameCheck},
		"self-signed": {func(ca *labtest.CA) labtest.Cert { return ca.SelfSigned("api.lan") }, lab.DefenseChainValidation},
		"expired":     {func(ca *labtest.CA) labtest.Cert { return ca.Expired("api.lan") }, lab.DefenseValidityCheck},
	}
	for name, a := range attacks {
		for how, by := range map[string]labtest.MITMOption{"arp": labtest.ByARP(), "dns": labtest.ByRogueDNS()} {
			for cfgName, cfg := range map[string]func(*x509.CertPool) *tls.Config{"buggy": buggyTLS, "correct": correctTLS} {
				t.Run(how+"/"+name+"/"+cfgName, func(t *testing.T) {
					w := labtest.NewWorld(t, labtest.WithSeed(7))
					lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
					client, api := lan.Host("client"), lan.Host("api")
					ca := w.CA("Example Root")
					api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, hello)
					w.MITM(client, api, 443, by, labtest.Presenting(a.cert(ca)))
					_, _ = client.HTTPClient(cfg(ca.Pool())).Post("https://api.lan/login", "text/plain", strings.NewReader(w.Canary("client").String()))
					if cfgName == "buggy" {
						labtest.RequireBroken(t, w.Result())
					} else {
						labtest.RequireHeld(t, w.Result(), a.defense)
					}
				})
			}
		}
	}
}

// (c) Your server under MTLS client impersonation: RequestClientCert lets
// a self-made "alice" in, RequireAndVerifyClientCert refuses her.
func TestOwnServerMTLS(t *testing.T) {
	for auth, want := range map[tls.ClientAuthType]lab.Verdict{tls.RequestClientCert: lab.Broken, tls.RequireAndVerifyClientCert: lab.Held} {
		t.Run(auth.String(), func(t *testing.T) {
			w := labtest.NewWorld(t)
			lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
			api, mallory := lan.Host("api"), lan.Host("mallory")
			ca := w.CA("Example Root")
			api.ServeTLS(8443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}, ClientAuth: auth, ClientCAs: ca.Pool()},
				func(c *tls.Conn) { io.WriteString(c, "welcome") })
			alice := w.SelfSigned("alice.lan")
			w.ImpersonateClient(mallory, "api.lan:8443", &alice, []byte("GET secrets"))
			NewWithT(t).Expect(w.Result().Verdict).To(Equal(want))
		})
	}
}

// (d) Your HTTP service under MITM, checked with gomega.
func TestOwnHTTPService(t *testing.T) {
	g := NewWithT(t)
	w := labtest.NewWorld(t, labtest.WithSeed(3))
	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
	client, api := lan.Host("client"), lan.Host("api")
	ca := w.CA("Example Root")
	api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, hello)
	w.MITM(client, api, 443, labtest.ByARP(), labtest.Presenting(ca.OtherName("mallory.lan")))
	_, err := client.HTTPClient(correctTLS(ca.Pool())).Get("https://api.lan/")
	g.Expect(err).To(HaveOccurred())
	g.Expect(w.Result()).To(SatisfyAll(labtest.BeHeld(), labtest.HaveStoppedBy(lab.DefenseHostnameCheck), labtest.HaveEvidence("mallory.lan")))
}

// (e) netsim alone as a fake network with latency and loss; the capture
// is kept in the artifact directory if the test fails.
func TestFakeNetwork(t *testing.T) {
	w := labtest.NewWorld(t, labtest.WithImpair("delay=5ms,loss=0.02"))
	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
	a, b := lan.Host("a"), lan.Host("b")
	ln, err := b.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := a.DialContext(context.Background(), "tcp", "b.lan:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("x"), 100_000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %v", err)
	}
}

// (f) Your own catalog, with your own topology, reported as JUnit.
func TestOwnCatalog(t *testing.T) {
	if err := lab.RegisterLabel("example", "the example module's own scenarios"); err != nil {
		t.Fatal(err)
	}
	own := lab.Scenario{Name: "example/echo", Labels: []lab.Label{"example"}, Summary: "a canary crosses a lossy LAN", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			seg := env.World.NewSegment("lan", netsim.SegmentConfig{})
			env.Capture(seg)
			a, b := env.World.NewHost("a", netsim.HostConfig{}), env.World.NewHost("b", netsim.HostConfig{})
			a.AddNIC(seg, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.1/24")})
			b.AddNIC(seg, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.2/24")})
			ln, err := b.Listen("tcp", ":7")
			if err != nil {
				return err
			}
			defer ln.Close()
			go func() {
				c, err := a.DialContext(ctx, "tcp", "10.0.0.2:7")
				if err == nil {
					io.WriteString(c, env.NewCanary("a").Token)
					c.Close()
				}
			}()
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			got, _ := io.ReadAll(c)
			c.Close()
			if len(lab.FindCanaries(got, env.Canaries())) == 1 {
				env.Evidence.Delivered("b", "read the canary")
			}
			return nil
		}}
	labtest.RunCatalog(t, []lab.Scenario{own}, labtest.WithImpair("loss=0.01"), labtest.WithJUnit("example", ""),
		labtest.WithReplayHint("go test -run 'TestOwnCatalog/%s' (seed %d)"))
}

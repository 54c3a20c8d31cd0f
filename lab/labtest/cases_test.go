package labtest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
)

// TestForgeries presents each of the catalog's certificate cases to a
// client that verifies nothing (broken) and to one with crypto/tls's
// defaults (held by the case's defense, with its exact error).
func TestForgeries(t *testing.T) {
	const verify = `^client: refused api\.lan:443: tls: failed to verify certificate: `
	wantErr := map[string]*regexp.Regexp{
		"other-name":    regexp.MustCompile(verify + `x509: certificate is valid for mallory\.example, not api\.lan$`),
		"self-signed":   regexp.MustCompile(verify + `x509: certificate signed by unknown authority$`),
		"own-ca":        regexp.MustCompile(verify + `x509: certificate signed by unknown authority$`),
		"expired":       regexp.MustCompile(verify + `x509: certificate has expired or is not yet valid: current time \S+ is after \S+$`),
		"not-yet-valid": regexp.MustCompile(verify + `x509: certificate has expired or is not yet valid: current time \S+ is before \S+$`),
		"wrong-eku":     regexp.MustCompile(verify + `x509: certificate specifies an incompatible key usage$`),
	}
	for _, forged := range labtest.Forgeries() {
		for _, c := range []struct {
			name string
			want lab.Verdict
		}{{"buggy", lab.Broken}, {"correct", lab.Held}} {
			t.Run(forged.Name+"/"+c.name, func(t *testing.T) {
				w := labtest.NewWorld(t)
				client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
				api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
				w.MITM(client, api, 443, labtest.Presenting(forged.Cert(ca, "api.lan")))
				cfg := map[string]func() *tls.Config{"buggy": func() *tls.Config { return buggy(nil) }, "correct": func() *tls.Config { return correct(ca.Pool()) }}[c.name]()
				_, _ = client.HTTPClient(cfg).Get("https://api.lan/?" + w.Canary("client").String())
				r := w.Result()
				labtest.RequireVerdict(t, r, c.want, forged.StoppedBy)
				if c.want == lab.Held && !wantErr[forged.Name].MatchString(r.Refusals[0].Line) {
					t.Errorf("refusal %q, want it to match %q", r.Refusals[0].Line, wantErr[forged.Name])
				}
			})
		}
	}
}

// TestPassThrough relays a TLS session (held: the attacker holds only
// ciphertext) and a plaintext one (broken: she read the canary).
func TestPassThrough(t *testing.T) {
	t.Run("tls", func(t *testing.T) {
		w := labtest.NewWorld(t)
		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
		api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
		w.MITM(client, api, 443, labtest.PassThrough())
		if _, err := client.HTTPClient(correct(ca.Pool())).Get("https://api.lan/?" + w.Canary("client").String()); err != nil {
			t.Fatal(err)
		}
		r := w.Result()
		labtest.RequireHeld(t, r, lab.DefenseTLSOnly)
		if want := "client: sent only TLS 1.3 records (TLS_AES_128_GCM_SHA256) through mallory, "; !strings.HasPrefix(r.Refusals[0].Line, want) {
			t.Errorf("refusal %q, want it to begin %q", r.Refusals[0].Line, want)
		}
	})
	t.Run("plaintext", func(t *testing.T) {
		w := labtest.NewWorld(t)
		client, api := w.Host("client"), w.Host("api")
		api.ServeHTTP(80, nil, http.HandlerFunc(ok))
		w.MITM(client, api, 80, labtest.PassThrough())
		if _, err := client.HTTPClient(nil).Get("http://api.lan/?" + w.Canary("client").String()); err != nil {
			t.Fatal(err)
		}
		labtest.RequireBroken(t, w.Result())
	})
}

// TestStrip refuses the client's TLS: a client that falls back to
// plaintext on 8080 hands mallory its canary (broken), one that does not
// is held by tls-only.
func TestStrip(t *testing.T) {
	for _, fallback := range []bool{true, false} {
		t.Run(map[bool]string{true: "fallback", false: "tls-only"}[fallback], func(t *testing.T) {
			w := labtest.NewWorld(t)
			client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
			api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
			w.MITM(client, api, 443, labtest.Strip(8080))
			secret := w.Canary("client").String()
			hc := client.HTTPClient(correct(ca.Pool()))
			_, err := hc.Get("https://api.lan/?" + secret)
			var ne net.Error
			if err == nil || errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("TLS through the stripper: %v, want a reset", err)
			}
			if fallback {
				resp, err := hc.Get("http://api.lan:8080/?" + secret)
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
					t.Errorf("the stripped request got %q from the real server, want ok", b)
				}
				labtest.RequireBroken(t, w.Result())
				return
			}
			r := w.Result()
			labtest.RequireHeld(t, r, lab.DefenseTLSOnly)
			if want := "client: did not fall back to plaintext on port 8080 after mallory refused its TLS connection"; r.Refusals[0].Line != want {
				t.Errorf("refusal %q, want %q", r.Refusals[0].Line, want)
			}
		})
	}
}

// TestClientCertificates impersonates a client to a server that requires
// and verifies client certificates: no certificate, a self-signed one and
// an expired one are refused by the named defense; a valid one stolen from
// the client (here: issued by the trusted CA to mallory) gets in.
func TestClientCertificates(t *testing.T) {
	for _, c := range []struct {
		name    string
		cert    func(*labtest.CA) *labtest.Cert
		want    lab.Verdict
		defense string
	}{
		{"none", func(*labtest.CA) *labtest.Cert { return nil }, lab.Held, lab.DefenseClientCertRequired},
		{"self-signed", func(ca *labtest.CA) *labtest.Cert { c := ca.SelfSigned("alice"); return &c }, lab.Held, lab.DefenseChainValidation},
		{"expired", func(ca *labtest.CA) *labtest.Cert { c := ca.Expired("alice"); return &c }, lab.Held, lab.DefenseValidityCheck},
		{"not-yet-valid", func(ca *labtest.CA) *labtest.Cert { c := ca.NotYetValid("alice"); return &c }, lab.Held, lab.DefenseValidityCheck},
		{"stolen", func(ca *labtest.CA) *labtest.Cert { c := ca.Forge("alice"); return &c }, lab.Broken, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := labtest.NewWorld(t)
			api, mallory, ca := w.Host("api"), w.Host("mallory"), w.CA("Example Root")
			cfg := ca.ServerConfig("api.lan")
			cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, ca.Pool()
			api.ServeTLS(8443, cfg, func(c *tls.Conn) { _, _ = c.Write([]byte("welcome")) })
			answer := w.ImpersonateClient(mallory, "api.lan:8443", c.cert(ca), []byte("GET secrets"))
			labtest.RequireVerdict(t, w.Result(), c.want, c.defense)
			if got := string(answer); (c.want == lab.Broken) != (got == "welcome") {
				t.Errorf("server answered %q", got)
			}
		})
	}
}

// TestRevoked presents a revoked certificate from the trusted CA: a
// client checking revocation (hard-fail, through the World's OCSP
// responder) refuses it; crypto/tls alone accepts it.
func TestRevoked(t *testing.T) {
	for _, check := range []bool{true, false} {
		t.Run(map[bool]string{true: "hard-fail", false: "no-check"}[check], func(t *testing.T) {
			w := labtest.NewWorld(t)
			client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
			api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
			w.MITM(client, api, 443, labtest.Presenting(ca.Revoked("api.lan")))
			cfg := correct(ca.Pool())
			if check {
				cfg.VerifyConnection = client.RevocationChecker(pki.RevocationHardFail).VerifyConnection
			}
			_, _ = client.HTTPClient(cfg).Get("https://api.lan/?" + w.Canary("client").String())
			r := w.Result()
			if !check {
				labtest.RequireBroken(t, r)
				return
			}
			labtest.RequireHeld(t, r, lab.DefenseRevocation)
			if want := "revoked"; !strings.Contains(r.Refusals[0].Line, want) {
				t.Errorf("refusal %q does not say %q", r.Refusals[0].Line, want)
			}
		})
	}
}

// TestScenario runs labtest.Scenarios through the lab's Runner: an attack
// held by the hostname check, a baseline passed by the canary it
// delivers, and a body that fails with labtest's fatal error.
func TestScenario(t *testing.T) {
	attack := labtest.Scenario(lab.Scenario{Name: "example/mitm", Attacker: "mallory, ARP spoofing", Expected: lab.Held,
		StoppedBy: lab.DefenseHostnameCheck}, func(w *labtest.World) {
		client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
		api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
		w.MITM(client, api, 443, labtest.Presenting(ca.OtherName("mallory.lan")))
		_, _ = client.HTTPClient(correct(ca.Pool())).Get("https://api.lan/?" + w.Canary("client").String())
	})
	baseline := labtest.Scenario(lab.Scenario{Name: "example/echo", Expected: lab.Passed}, func(w *labtest.World) {
		a, b := w.Host("a"), w.Host("b")
		b.ServeTCP(7, func(c net.Conn) {
			got, _ := io.ReadAll(c)
			_, _ = fmt.Fprintf(c, "%d canaries", w.Received(b, got))
		})
		c, err := a.DialContext(context.Background(), "tcp", "b:7")
		if err != nil {
			w.Fatalf("dial: %v", err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, w.Canary("a").String())
		_ = c.(interface{ CloseWrite() error }).CloseWrite()
		if answer, _ := io.ReadAll(c); string(answer) != "1 canaries" {
			w.Fatalf("b answered %q", answer)
		}
	})
	failing := labtest.Scenario(lab.Scenario{Name: "example/fails", Expected: lab.Passed}, func(w *labtest.World) {
		w.Host("a")
		w.Host("a")
	})
	runner := lab.Runner{Seed: 3}
	for _, c := range []struct {
		s       lab.Scenario
		verdict lab.Verdict
		err     string
	}{{attack, lab.Held, ""}, {baseline, lab.Passed, ""}, {failing, lab.Error, `labtest: a host named "a" exists`}} {
		r := runner.Run(context.Background(), c.s)
		if r.Verdict != c.verdict || errText(r.Err) != c.err {
			t.Errorf("%s: %s (%v), want %s (%q); evidence %q", c.s.Name, r.Verdict, r.Err, c.verdict, c.err, r.Evidence)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestOwnCheck refuses, in the client's own VerifyPeerCertificate, a
// code-signing certificate that InsecureSkipVerify would let through:
// held by labtest.DefenseOwnCheck, with the callback's exact error.
func TestOwnCheck(t *testing.T) {
	w := labtest.NewWorld(t)
	client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
	api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(ok))
	w.MITM(client, api, 443, labtest.Presenting(ca.WrongEKU("api.lan")))
	errNotServer := errors.New("not a server certificate")
	cfg := &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		if leaf, err := x509.ParseCertificate(raw[0]); err != nil || !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
			return errNotServer
		}
		return nil
	}}
	_, err := client.HTTPClient(cfg).Get("https://api.lan/?" + w.Canary("client").String())
	if !errors.Is(err, errNotServer) {
		t.Errorf("client error %v, want the callback's own", err)
	}
	r := w.Result()
	labtest.RequireHeld(t, r, labtest.DefenseOwnCheck)
	if want := "client: refused api.lan:443: not a server certificate"; r.Refusals[0].Line != want {
		t.Errorf("refusal %q, want %q", r.Refusals[0].Line, want)
	}
}

// TestRouter puts the client and the API on two LANs joined by a router:
// names resolve across it, a baseline request gets through, a man in the
// middle who is the client's gateway (or DNS server) is held by the
// hostname check, and ByARP, which needs one LAN, says so.
func TestRouter(t *testing.T) {
	build := func(w *labtest.World) (client, api *labtest.Host, ca *labtest.CA) {
		lan, dmz := w.LAN("lan", labtest.DefaultPrefix), w.LAN("dmz", netip.MustParsePrefix("192.168.5.0/24"))
		client, api, ca = lan.Host("client"), dmz.Host("api"), w.CA("Example Root")
		w.Router("gw", lan, dmz)
		api.ServeHTTP(443, ca.ServerConfig("api.dmz"), http.HandlerFunc(ok))
		return client, api, ca
	}
	t.Run("baseline", func(t *testing.T) {
		w := labtest.NewWorld(t)
		client, _, ca := build(w)
		resp, err := client.HTTPClient(correct(ca.Pool())).Get("https://api.dmz/")
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
			t.Errorf("answer %q", b)
		}
	})
	for _, by := range []labtest.MITMOption{labtest.ByGateway(), labtest.ByRogueDNS()} {
		t.Run(by.String(), func(t *testing.T) {
			w := labtest.NewWorld(t)
			client, api, ca := build(w)
			w.MITM(client, api, 443, by, labtest.Presenting(ca.OtherName("mallory.lan")))
			_, _ = client.HTTPClient(correct(ca.Pool())).Get("https://api.dmz/?" + w.Canary("client").String())
			labtest.RequireHeld(t, w.Result(), lab.DefenseHostnameCheck)
		})
	}
	s := labtest.Scenario(lab.Scenario{Name: "x/arp-across", Attacker: "mallory", Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck},
		func(w *labtest.World) {
			client, api, _ := build(w)
			w.MITM(client, api, 443, labtest.ByARP())
		})
	r := lab.Runner{}.Run(context.Background(), s)
	if want := "labtest: ByARP needs client and api on one LAN, not lan and dmz; use ByGateway or ByRogueDNS"; errText(r.Err) != want {
		t.Errorf("ByARP across a router: %v, want %q", r.Err, want)
	}
}

package labtest_test

import (
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/labtest"
)

// needProgram skips the test when name is not installed, except in CI,
// where the test fails: CI installs it (.ci/run).
func needProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; CI must install it (.ci/run)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

// TestRealClientBaseline runs openssl s_client through the bridge to the
// World's server, with nobody in between: its canary reaches the server.
func TestRealClientBaseline(t *testing.T) {
	needProgram(t, "openssl")
	w := labtest.NewWorld(t)
	client, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
	api.ServeHTTP(443, ca.ServerConfig("api.lan"), http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.Received(api, []byte(r.URL.RawQuery))
		_, _ = rw.Write([]byte("ok"))
	}))
	res := client.RealClient(`printf 'GET /?%s HTTP/1.0\r\n\r\n' {canary} | openssl s_client -connect {addr} -servername {sni} -CAfile {ca} -verify_return_error -quiet`, api, 443, ca)
	if res.ExitCode != 0 {
		t.Fatalf("openssl: %+v\n%s", res, res.Output)
	}
	if r := w.Result(); r.Verdict != lab.Passed {
		t.Fatalf("verdict %s: %v %q", r.Verdict, r.Err, r.Evidence)
	}
}

// Real clients as the victims of a man in the middle presenting each
// certificate case: openssl s_client -verify_return_error and gnutls-cli
// refuse every forgery (the verdict names the defense from their alert)
// but the mis-issued certificate, which they accept like anyone would;
// openssl s_client without verification hands over its canary.
const (
	opensslVerify = `openssl s_client -connect {addr} -servername {sni} -verify_hostname {sni} -CAfile {ca} -verify_return_error -quiet <<< {canary}`
	opensslCRL    = `openssl s_client -connect {addr} -servername {sni} -verify_hostname {sni} -CAfile {ca} -CRL {crl} -crl_check -verify_return_error -quiet <<< {canary}`
	opensslBlind  = `openssl s_client -connect {addr} -servername {sni} -quiet <<< {canary}`
	gnutls        = `gnutls-cli --x509cafile {ca} --port {port} --sni-hostname {sni} --verify-hostname {sni} {host} <<< {canary}`
	gnutlsCRL     = `gnutls-cli --x509cafile {ca} --x509crlfile {crl} --port {port} --sni-hostname {sni} --verify-hostname {sni} {host} <<< {canary}`
)

// opensslAlerts are the alerts OpenSSL 3.0's s_client refuses each case
// with (in plaintext, at TLS 1.3 too), and, where the alert names no one
// defense, its verify error.
var opensslAlerts = map[string]string{
	"other-name":    `bad_certificate \(42\), in a plaintext alert record; openssl said: verify error:num=62:hostname mismatch$`,
	"self-signed":   `unknown_ca \(48\), in a plaintext alert record$`,
	"own-ca":        `unknown_ca \(48\), in a plaintext alert record$`,
	"expired":       `certificate_expired \(45\), in a plaintext alert record$`,
	"not-yet-valid": `bad_certificate \(42\), in a plaintext alert record; openssl said: verify error:num=9:certificate is not yet valid$`,
	"wrong-eku":     `unsupported_certificate \(43\), in a plaintext alert record$`,
	"revoked":       `certificate_revoked \(44\), in a plaintext alert record$`,
}

func TestRealClientsUnderMITM(t *testing.T) {
	type certCase struct {
		name    string
		cert    func(ca *labtest.CA) labtest.Cert
		defense string // "" for broken
	}
	cases := []certCase{{"mis-issued", func(ca *labtest.CA) labtest.Cert { return ca.Forge("api.lan") }, ""}}
	for _, f := range labtest.Forgeries() {
		cases = append(cases, certCase{f.Name, func(ca *labtest.CA) labtest.Cert { return f.Cert(ca, "api.lan") }, f.StoppedBy})
	}
	cases = append(cases, certCase{"revoked", func(ca *labtest.CA) labtest.Cert { return ca.Revoked("api.lan") }, lab.DefenseRevocation})
	for _, client := range []struct{ program, name, template, crlTemplate string }{
		{"openssl", "openssl-verify", opensslVerify, opensslCRL},
		{"gnutls-cli", "gnutls-cli", gnutls, gnutlsCRL},
		{"openssl", "openssl-no-verify", opensslBlind, opensslBlind},
	} {
		for _, c := range cases {
			t.Run(client.name+"/"+c.name, func(t *testing.T) {
				needProgram(t, client.program)
				w := labtest.NewWorld(t)
				victim, api, ca := w.Host("client"), w.Host("api"), w.CA("Example Root")
				api.ServeTLS(443, ca.ServerConfig("api.lan"), func(*tls.Conn) {})
				w.MITM(victim, api, 443, labtest.Presenting(c.cert(ca)))
				tmpl := client.template
				if c.name == "revoked" {
					tmpl = client.crlTemplate
				}
				victim.RealClient(tmpl, api, 443, ca)
				r := w.Result()
				if c.defense == "" || client.name == "openssl-no-verify" {
					labtest.RequireBroken(t, r)
					return
				}
				labtest.RequireHeld(t, r, c.defense)
				want := "^client: refused mallory's certificate with alert bad_certificate \\(42\\), in a protected alert; gnutls-cli said: The certificate is NOT trusted\\. "
				if client.program == "openssl" {
					want = "^client: refused mallory's certificate with alert " + opensslAlerts[c.name]
				}
				if !regexp.MustCompile(want).MatchString(r.Refusals[0].Line) {
					t.Errorf("refusal %q, want it to match %q", r.Refusals[0].Line, want)
				}
			})
		}
	}
}

package labtest_test

import (
	"net/http"
	"os"
	"os/exec"
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

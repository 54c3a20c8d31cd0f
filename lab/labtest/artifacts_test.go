package labtest_test

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab/labtest"
)

// TestFailingOnPurpose fails, when asked to by TestArtifactsOnFailure, after
// a TLS exchange, so its World keeps a capture and key log.
func TestFailingOnPurpose(t *testing.T) {
	if os.Getenv("LABTEST_FAIL_ON_PURPOSE") == "" {
		t.Skip("run by TestArtifactsOnFailure")
	}
	w := labtest.NewWorld(t, labtest.WithSeed(7))
	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
	client, api := lan.Host("client"), lan.Host("api")
	ca := w.CA("Example Root")
	api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, http.HandlerFunc(ok))
	resp, err := client.HTTPClient(&tls.Config{RootCAs: ca.Pool()}).Post("https://api.lan/login", "text/plain", strings.NewReader("password=hunter2"))
	if err == nil {
		resp.Body.Close()
	}
	labtest.RequireBroken(t, w.Result()) // no attack: fails on purpose
}

func TestArtifactsOnFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingOnPurpose$", "-test.artifacts", "-test.outputdir="+out)
	cmd.Env = append(os.Environ(), "LABTEST_FAIL_ON_PURPOSE=1")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "want broken") {
		t.Fatalf("the failing test did not fail as meant (%v):\n%s", err, b)
	}
	pcaps, _ := filepath.Glob(filepath.Join(out, "*", "*", "*.pcapng"))
	if len(pcaps) == 0 {
		pcaps, _ = filepath.Glob(filepath.Join(out, "*", "*.pcapng"))
	}
	if len(pcaps) != 1 {
		t.Fatalf("want one pcapng under %s, got %v; output:\n%s", out, pcaps, b)
	}
	keys := strings.TrimSuffix(pcaps[0], ".pcapng") + ".keys"
	if st, err := os.Stat(keys); err != nil || st.Size() == 0 {
		t.Fatalf("key log %s: %v", keys, err)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must install it (.ci/run)")
		}
		t.Skip("tshark not installed: capture and key log kept, decryption not checked")
	}
	dec, err := exec.Command(tshark, "-r", pcaps[0], "-o", "tls.keylog_file:"+keys, "-Y", "http.request", "-T", "fields", "-e", "http.file_data").CombinedOutput()
	if err != nil || !strings.Contains(string(dec), "hunter2") && !strings.Contains(string(dec), "68:75:6e:74:65:72:32") && !strings.Contains(string(dec), "68756e74657232") {
		t.Fatalf("tshark did not decrypt the request (%v):\n%s", err, dec)
	}
}

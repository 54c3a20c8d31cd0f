package autodiscover_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/autodiscover"
)

// requireTshark skips the test when tshark is missing, except in CI
// (CI=true), where it fails.
func requireTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not on PATH but CI=true: CI must install it (apt-get install -y tshark)")
		}
		t.Skip("tshark is not on PATH; install it (apt-get install tshark) to check the captures")
	}
}

// tsharkFields returns, for each frame of file matching filter, the given
// fields joined by "|"; it fails the test when tshark fails or complains.
func tsharkFields(t *testing.T, file, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-Y", filter, "-T", "fields", "-E", "separator=|", "-E", "aggregator=,"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(t.Context(), "tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	const root = `Running as user "root" and group "root". This could be dangerous.`
	if s := strings.TrimSpace(strings.ReplaceAll(stderr.String(), root, "")); s != "" {
		t.Errorf("tshark %s complained:\n%s", strings.Join(args, " "), s)
	}
	var rows []string
	for line := range strings.Lines(stdout.String()) {
		rows = append(rows, strings.TrimSuffix(line, "\n"))
	}
	return rows
}

// TestHTTPAutodiscoverDecodesInTshark captures the HTTPS-then-HTTP
// internal discovery and has tshark decode it: the refused HTTPS dial, the
// GET of the root over HTTP on port 80 and its JSON answer naming the
// pool, nothing malformed, no bad checksum, no expert warning but the
// refused connection's reset.
func TestHTTPAutodiscoverDecodesInTshark(t *testing.T) {
	requireTshark(t)
	file := filepath.Join(t.TempDir(), "autodiscover.pcapng")
	t.Run("capture", func(t *testing.T) {
		l := newLAN(t, zoneAutodiscover, file)
		serve(t, l.fe, 80, nil, nil, service(t, "pool01.contoso.com"))
		res, err := autodiscover.Discover(t.Context(), autodiscover.Config{
			SIPDomain: "contoso.com", Resolver: l.stub, Dialer: l.client, RootCAs: l.root.Pool(), Time: l.w.Now,
		})
		if err != nil || res.Pool != "pool01.contoso.com" {
			t.Fatalf("Discover: %v, %v", res, err)
		}
	}) // the World and the capture are closed here
	got := tsharkFields(t, file, "http", "ip.src", "http.request.method", "http.host", "http.request.uri", "http.response.code", "http.content_type", "json.value.string")
	want := []string{
		"10.0.0.10|GET|lyncdiscoverinternal.contoso.com|/autodiscover/autodiscoverservice.svc/root|||",
		"10.0.0.30||||200|application/json|Internal,http://lyncdiscoverinternal.contoso.com/Autodiscover/AutodiscoverService.svc/root?originalDomain=contoso.com,https://pool01.contoso.com/Autodiscover/AutodiscoverService.svc/root/oauth/user?originalDomain=contoso.com,https://pool01.contoso.com/Autodiscover/XFrame/XFrame.html,pool01.contoso.com,sipexternal.contoso.com",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The Front End publishes no HTTPS: its RST to port 443 is the one
	// expected warning.
	if rst := tsharkFields(t, file, "tcp.flags.reset == 1", "ip.src", "tcp.srcport"); strings.Join(rst, ",") != "10.0.0.30|443" {
		t.Errorf("resets %q, want the Front End's from port 443 alone", rst)
	}
	if bad := tsharkFields(t, file, "(_ws.malformed || _ws.expert.severity >= warning) && !tcp.flags.reset", "frame.number", "_ws.col.Protocol", "_ws.expert.message"); len(bad) > 0 {
		t.Errorf("tshark reports malformed frames or warnings:\n%s", strings.Join(bad, "\n"))
	}
}

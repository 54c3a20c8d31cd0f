package wpad_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/wpad"
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

// TestPACAndProxyDecodeInTshark captures WPAD through DNS (the PAC fetch)
// and a proxied GET and CONNECT, and has tshark decode them: the GET of
// /wpad.dat and its application/x-ns-proxy-autoconfig answer, the
// absolute-form GET to the proxy, the CONNECT and its 200, nothing
// malformed, no bad checksum, no expert warning.
func TestPACAndProxyDecodeInTshark(t *testing.T) {
	requireTshark(t)
	file := filepath.Join(t.TempDir(), "wpad.pcapng")
	t.Run("capture", func(t *testing.T) {
		l := newLAN(t, wpadRecord, file)
		servePAC(t, l.proxy, companyPAC)
		serveHTTP(t, l.web, 80, hello)
		l.runProxy(t, nil)
		res, err := wpad.Discover(t.Context(), wpad.DiscoverConfig{Resolver: l.windows(t, false, false), Dialer: l.client})
		if err != nil || res.PAC == nil {
			t.Fatalf("Discover: %+v, %v", res, err)
		}
		conn, err := l.client.DialContext(t.Context(), "tcp", "10.0.0.80:8080")
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		if resp, body := request(t, br, conn, "GET http://web.contoso.com/page HTTP/1.1\r\nHost: web.contoso.com\r\n\r\n"); resp.StatusCode != 200 || body != "hello /page" {
			t.Fatalf("proxied GET: %s %q", resp.Status, body)
		}
		if _, err := io.WriteString(conn, "CONNECT web.contoso.com:80 HTTP/1.1\r\nHost: web.contoso.com:80\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect}); err != nil || resp.StatusCode != 200 {
			t.Fatalf("CONNECT: %v %v", resp, err)
		}
		conn.Close()
	}) // the World and the capture are closed here
	got := tsharkFields(t, file, "http", "ip.src", "http.host", "http.request.method", "http.request.uri", "http.response.code", "http.content_type")
	want := []string{
		"10.0.0.10|wpad.contoso.com|GET|/wpad.dat||",
		"10.0.0.80||||200|application/x-ns-proxy-autoconfig",
		"10.0.0.10|web.contoso.com|GET|http://web.contoso.com/page||",
		"10.0.0.80|web.contoso.com|GET|/page||",
		"10.0.0.90||||200|text/plain; charset=utf-8",
		"10.0.0.80||||200|text/plain; charset=utf-8",
		"10.0.0.10|web.contoso.com:80|CONNECT|web.contoso.com:80||",
		// tshark hands the answer to a CONNECT to the tunnel: an HTTP
		// frame without fields, whose bytes are checked below.
		"10.0.0.80|||||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark decodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ok := tsharkFields(t, file, `tcp.srcport == 8080 && tcp.payload == "HTTP/1.1 200 Connection established\r\n\r\n"`, "frame.number"); len(ok) != 1 {
		t.Errorf("the proxy's answer to CONNECT: %d frames, want 1", len(ok))
	}
	if bad := tsharkFields(t, file, "_ws.malformed || _ws.expert.severity >= warning", "frame.number", "_ws.col.Protocol", "_ws.expert.message"); len(bad) > 0 {
		t.Errorf("tshark reports malformed frames or warnings:\n%s", strings.Join(bad, "\n"))
	}
}

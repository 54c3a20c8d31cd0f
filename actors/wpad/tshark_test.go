package wpad_test

import (
	"bufio"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/internal/tsharktest"
)

// TestPACAndProxyDecodeInTshark captures WPAD through DNS (the PAC fetch)
// and a proxied GET and CONNECT, and has tshark decode them: the GET of
// /wpad.dat and its application/x-ns-proxy-autoconfig answer, the
// absolute-form GET to the proxy, the CONNECT and its 200, nothing
// malformed, no bad checksum, no expert warning.
func TestPACAndProxyDecodeInTshark(t *testing.T) {
	tsharktest.Require(t)
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
	got := tsharktest.Fields(t, file, "http", "ip.src", "http.host", "http.request.method", "http.request.uri", "http.response.code", "http.content_type")
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
	if ok := tsharktest.Fields(t, file, `tcp.srcport == 8080 && tcp.payload == "HTTP/1.1 200 Connection established\r\n\r\n"`, "frame.number"); len(ok) != 1 {
		t.Errorf("the proxy's answer to CONNECT: %d frames, want 1", len(ok))
	}
	tsharktest.CheckClean(t, file, "")
}

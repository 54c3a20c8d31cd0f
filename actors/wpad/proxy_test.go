package wpad_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/wpad"
)

// hello answers every request with "hello <path>".
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s", r.URL.Path) })

// serveWebTLS runs hello over TLS on the web host's port 443 with a
// certificate for web.contoso.com and returns the roots that trust it.
func (l *lan) serveWebTLS(t *testing.T) *pki.CA {
	t.Helper()
	root, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root", Clock: l.w.Now})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := root.IssueServer(pki.ServerRequest{DNSNames: []string{"web.contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := l.web.Listen("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: hello}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, Time: l.w.Now}))
	}()
	t.Cleanup(func() { srv.Close(); <-done })
	return root
}

// request writes raw on conn and reads the response (body read in full).
func request(t *testing.T, br *bufio.Reader, conn net.Conn, raw string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestProxyConnect tunnels a TLS connection to the web server through the
// proxy: the client checks the web server's own certificate end to end.
func TestProxyConnect(t *testing.T) {
	l := newLAN(t, "", "")
	root := l.serveWebTLS(t)
	p := l.runProxy(t, nil)
	conn, err := l.client.DialContext(t.Context(), "tcp", "10.0.0.80:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, "CONNECT web.contoso.com:443 HTTP/1.1\r\nHost: web.contoso.com:443\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %v, %v", resp, err)
	}
	tc := tls.Client(&bufferedConn{Conn: conn, r: br}, &tls.Config{ServerName: "web.contoso.com", RootCAs: root.Pool(), Time: l.w.Now})
	if err := tc.HandshakeContext(t.Context()); err != nil {
		t.Fatalf("TLS through the tunnel: %v", err)
	}
	if _, body := request(t, bufio.NewReader(tc), tc, "GET /tunnel HTTP/1.1\r\nHost: web.contoso.com\r\nConnection: close\r\n\r\n"); body != "hello /tunnel" {
		t.Errorf("body %q", body)
	}
	tc.Close()
	reqs := p.Requests()
	if len(reqs) != 1 || reqs[0].Method != "CONNECT" || reqs[0].Target != "web.contoso.com:443" || reqs[0].Status != 200 || reqs[0].From.Addr() != clientAddr {
		t.Errorf("proxy recorded %+v", reqs)
	}
}

// bufferedConn reads first what a bufio.Reader already holds.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// TestProxyAuthenticates has the proxy demand credentials: a 407 with the
// Authenticator's challenge, then, on the same connection, the request
// with credentials forwarded as a plain GET.
func TestProxyAuthenticates(t *testing.T) {
	l := newLAN(t, "", "")
	serveHTTP(t, l.web, 80, hello)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:Canary-7f3a"))
	p := l.runProxy(t, func(r *http.Request) (string, []string, bool) {
		if r.Header.Get("Proxy-Authorization") == want {
			return "alice", nil, true
		}
		return "", []string{`Basic realm="contoso"`}, false
	})
	conn, err := l.client.DialContext(t.Context(), "tcp", "10.0.0.80:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	resp, _ := request(t, br, conn, "GET http://web.contoso.com/page HTTP/1.1\r\nHost: web.contoso.com\r\n\r\n")
	if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get("Proxy-Authenticate") != `Basic realm="contoso"` {
		t.Fatalf("first answer %s %q, want 407 with the challenge", resp.Status, resp.Header.Get("Proxy-Authenticate"))
	}
	resp, body := request(t, br, conn, "GET http://web.contoso.com/page HTTP/1.1\r\nHost: web.contoso.com\r\nProxy-Authorization: "+want+"\r\n\r\n")
	if resp.StatusCode != http.StatusOK || body != "hello /page" {
		t.Fatalf("second answer %s %q", resp.Status, body)
	}
	var got []string
	for _, r := range p.Requests() {
		got = append(got, fmt.Sprintf("%s %s %s %q %s %d", r.From, r.Method, r.Target, r.Authorization, r.User, r.Status))
	}
	from := conn.LocalAddr().String()
	wantReqs := []string{
		from + ` GET http://web.contoso.com/page "" ` + " 407",
		from + ` GET http://web.contoso.com/page "` + want + `" alice 200`,
	}
	if strings.Join(got, "\n") != strings.Join(wantReqs, "\n") {
		t.Errorf("proxy recorded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantReqs, "\n"))
	}
}

// TestProxyUnreachable answers 502 for a target nobody serves.
func TestProxyUnreachable(t *testing.T) {
	l := newLAN(t, "", "")
	p := l.runProxy(t, nil)
	conn, err := l.client.DialContext(t.Context(), "tcp", "10.0.0.80:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, _ := request(t, bufio.NewReader(conn), conn, "GET http://nowhere.contoso.com/ HTTP/1.1\r\nHost: nowhere.contoso.com\r\n\r\n")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %s, want 502", resp.Status)
	}
	if r := p.Requests(); len(r) != 1 || r[0].Status != http.StatusBadGateway {
		t.Errorf("recorded %+v", r)
	}
	if _, err := wpad.NewProxy(wpad.ProxyConfig{}); err == nil {
		t.Error("NewProxy without a Dialer succeeded")
	}
}

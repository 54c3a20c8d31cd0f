package netsim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// connectFront starts a CONNECT front on p.a whose resolver knows one
// name, "b.lan", as host b (10.0.0.2).
func connectFront(t *testing.T, p *pair) *Bridge {
	t.Helper()
	resolve := func(_ context.Context, name string) (netip.Addr, error) {
		if name == "b.lan" {
			return netip.MustParseAddr("10.0.0.2"), nil
		}
		return netip.Addr{}, fmt.Errorf("no such name %s", name)
	}
	b, err := p.a.BridgeConnect("127.0.0.1:0", resolve)
	if err != nil {
		t.Fatalf("BridgeConnect: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// proxyRequest sends head to the front and returns the status line of
// its answer, the body and the connection (for a tunnel).
func proxyRequest(t *testing.T, front *Bridge, head string) (status, body string, c net.Conn, br *bufio.Reader) {
	t.Helper()
	c = dialReal(t, front.Addr().String())
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	br = bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("reading the proxy's answer to %q: %v", head, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
	}
	return resp.Status, body, c, br
}

// TestBridgeConnectTunnels resolves a name through the front's resolver
// and carries the tunnel from host a, bytes sent right after the request
// included.
func TestBridgeConnectTunnels(t *testing.T) {
	p := newPair(t, pairConfig{})
	remotes := make(chan net.Addr, 1)
	serveConns(t, listenWorld(t, p.b, ":5061"), func(c net.Conn) {
		remotes <- c.RemoteAddr()
		echo(c)
	})
	front := connectFront(t, p)
	status, _, c, br := proxyRequest(t, front, "CONNECT b.lan:5061 HTTP/1.1\r\nHost: b.lan:5061\r\n\r\n")
	if status != "200 Connection established" {
		t.Fatalf("status %q, want 200 Connection established", status)
	}
	if _, err := io.WriteString(c, "hello through the tunnel\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "hello through the tunnel\n" {
		t.Fatalf("echo = %q, %v", line, err)
	}
	if ra := (<-remotes).(*net.TCPAddr); !ra.IP.Equal(net.IPv4(10, 0, 0, 1)) {
		t.Errorf("the server saw the tunnel come from %v, want host a (10.0.0.1)", ra)
	}
}

// TestBridgeConnectRefusals checks each refused request gets its status
// and reason, and a clean close.
func TestBridgeConnectRefusals(t *testing.T) {
	p := newPair(t, pairConfig{})
	serveConns(t, listenWorld(t, p.b, ":5061"), echo)
	front := connectFront(t, p)
	for _, tc := range []struct{ head, status, body string }{
		{"GET http://b.lan/ HTTP/1.1\r\nHost: b.lan\r\n\r\n", "405 Method Not Allowed", "method GET: this proxy only tunnels (CONNECT)\n"},
		{"CONNECT b.lan HTTP/1.1\r\n\r\n", "400 Bad Request", `CONNECT target "b.lan" is not host:port` + "\n"},
		{"CONNECT nowhere.lan:5061 HTTP/1.1\r\n\r\n", "502 Bad Gateway", "resolving nowhere.lan from a: no such name nowhere.lan\n"},
	} {
		status, body, c, br := proxyRequest(t, front, tc.head)
		if status != tc.status || body != tc.body {
			t.Errorf("%q: got %q %q, want %q %q", tc.head, status, body, tc.status, tc.body)
		}
		if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("%q: after the answer, read %v, want EOF (a clean close)", tc.head, err)
		}
		c.Close()
	}
	status, body, _, _ := proxyRequest(t, front, "CONNECT 10.0.0.2:9 HTTP/1.1\r\n\r\n")
	if status != "502 Bad Gateway" || !strings.Contains(body, "connection refused") {
		t.Errorf("a refused dial: got %q %q, want 502 naming the refusal", status, body)
	}
}

// TestBridgeConnectRefusesNonLoopback checks the front's listening
// address is checked as BridgeIn's is.
func TestBridgeConnectRefusesNonLoopback(t *testing.T) {
	p := newPair(t, pairConfig{})
	_, err := p.a.BridgeConnect("0.0.0.0:0", func(context.Context, string) (netip.Addr, error) { return netip.Addr{}, nil })
	var ae *BridgeAddrError
	if !errors.As(err, &ae) {
		t.Fatalf("BridgeConnect(0.0.0.0:0) = %v, want a *BridgeAddrError", err)
	}
}

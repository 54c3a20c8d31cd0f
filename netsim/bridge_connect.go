package netsim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// maxConnectRequest bounds a CONNECT request's head; real clients send
// a few hundred bytes.
const maxConnectRequest = 8 << 10

// connectRequestTimeout bounds how long a client may take to send its
// CONNECT request once connected.
const connectRequestTimeout = 10 * time.Second

// errAnswered marks a bridge dial that failed after answering the
// accepted connection with its reason: the relay closes it cleanly.
var errAnswered = errors.New("netsim: the bridge answered the connection")

// Resolver looks a name up for a BridgeConnect front, as the host the
// tunnels come from would (its DNS server, its cache): it returns the
// IPv4 address to dial, or an error saying why there is none.
type Resolver func(ctx context.Context, name string) (netip.Addr, error)

// BridgeConnect lets real clients reach the World through an HTTP proxy:
// it listens on listen, a loopback "ip:port" as for BridgeIn, and reads
// from each connection an HTTP/1.1 CONNECT request ("CONNECT
// pool01.contoso.com:5061 HTTP/1.1", as openssl s_client -proxy and curl
// --proxytunnel send). It resolves the name with resolve (a literal IPv4
// address is taken as it is), dials it from h in the World, answers "200
// Connection established", and carries the tunnel as BridgeIn carries a
// connection. So a real client's lookups go through the World's DNS, and
// DNS attacks on h apply to it. A request it cannot serve is answered
// with an HTTP error and closed: 405 for another method, 400 for a
// malformed request or target, 502 with the reason when the name does
// not resolve or the dial fails.
func (h *Host) BridgeConnect(listen string, resolve Resolver) (*Bridge, error) {
	if resolve == nil {
		return nil, &ConfigError{What: "connect bridge into host " + h.name, Problem: "no resolver"}
	}
	ln, err := h.listenLoopback(listen)
	if err != nil {
		return nil, err
	}
	return h.world.startBridge(ln, func(ctx context.Context, in net.Conn) (net.Conn, error) {
		return h.dialConnect(ctx, in, resolve)
	}), nil
}

// dialConnect serves one CONNECT request read from in.
func (h *Host) dialConnect(ctx context.Context, in net.Conn, resolve Resolver) (net.Conn, error) {
	target, status, err := readConnect(in)
	if err != nil {
		refuseConnect(in, status, err)
		return nil, fmt.Errorf("%w: %w", errAnswered, err)
	}
	host, portText, _ := net.SplitHostPort(target)
	addr, err := netip.ParseAddr(host)
	if err != nil {
		if addr, err = resolve(ctx, host); err != nil {
			err = fmt.Errorf("resolving %s from %s: %w", host, h.name, err)
			refuseConnect(in, http.StatusBadGateway, err)
			return nil, fmt.Errorf("%w: %w", errAnswered, err)
		}
	}
	out, err := h.DialContext(ctx, "tcp", net.JoinHostPort(addr.String(), portText))
	if err != nil {
		refuseConnect(in, http.StatusBadGateway, err)
		return nil, fmt.Errorf("%w: %w", errAnswered, err)
	}
	if _, err := in.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

// readConnect reads a CONNECT request's head from c, byte by byte so no
// byte of the tunnel that follows is consumed, and returns its
// "host:port" target, or the HTTP status to refuse it with and why.
func readConnect(c net.Conn) (target string, status int, err error) {
	_ = c.SetReadDeadline(time.Now().Add(connectRequestTimeout))
	defer c.SetReadDeadline(time.Time{})
	var head []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if len(head) >= maxConnectRequest {
			return "", http.StatusRequestHeaderFieldsTooLarge, errors.New("CONNECT request head longer than " + strconv.Itoa(maxConnectRequest) + " bytes")
		}
		if _, err := c.Read(b); err != nil {
			return "", http.StatusBadRequest, fmt.Errorf("reading the CONNECT request: %w", err)
		}
		head = append(head, b[0])
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return "", http.StatusBadRequest, fmt.Errorf("malformed proxy request: %w", err)
	}
	if req.Method != http.MethodConnect {
		return "", http.StatusMethodNotAllowed, fmt.Errorf("method %s: this proxy only tunnels (CONNECT)", req.Method)
	}
	host, port, err := net.SplitHostPort(req.RequestURI)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || host == "" || perr != nil || n == 0 {
		return "", http.StatusBadRequest, fmt.Errorf("CONNECT target %q is not host:port", req.RequestURI)
	}
	return req.RequestURI, 0, nil
}

// refuseConnect answers a CONNECT request with status and the reason.
func refuseConnect(c net.Conn, status int, err error) {
	if status == 0 {
		return
	}
	msg := err.Error() + "\n"
	_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(msg), msg)
}

package ntlm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// TunnelDialer opens TCP tunnels through an HTTP proxy with CONNECT and
// answers the proxy's 407 NTLM demand on the tunnel's own connection, as
// Windows does for HTTPS (and SIP over TLS) through a WPAD proxy.
// net/http cannot: its CONNECT sends one fixed Proxy-Authorization. Use
// DialContext as an http.Transport's DialContext (with Proxy unset) or
// below crypto/tls. Safe for concurrent use; each tunnel is one
// connection to the proxy.
type TunnelDialer struct {
	// Dial connects to the proxy (e.g. a netsim host's DialContext).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Proxy is the proxy's host:port.
	Proxy string
	// Credential, Workstation, Allow and OnAnswer are as for Transport;
	// Offer.Proxy is always true and Offer.Request is the CONNECT.
	Credential  Credential
	Workstation string
	Allow       func(Offer) error
	OnAnswer    func(Offer)
}

// ProxyRefusedError is a proxy's final answer to CONNECT other than 2xx:
// after an AUTHENTICATE it means the credential was refused.
type ProxyRefusedError struct {
	Target string
	Status string
}

func (e *ProxyRefusedError) Error() string {
	return fmt.Sprintf("ntlm: proxy refused CONNECT %s: %s", e.Target, e.Status)
}

// DialContext returns a connection tunnelled to address through the
// proxy. network must be "tcp" (or "tcp4"). The context bounds the dial
// and the CONNECT exchange.
func (d *TunnelDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := d.Dial(ctx, network, d.Proxy)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	tunnel, err := d.connect(ctx, conn, address)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return tunnel, nil
}

// connect runs the CONNECT exchange on conn: plain first, then NEGOTIATE
// and AUTHENTICATE if the proxy demands NTLM.
func (d *TunnelDialer) connect(ctx context.Context, conn net.Conn, address string) (net.Conn, error) {
	br := bufio.NewReader(conn)
	req := (&http.Request{Method: http.MethodConnect, URL: &url.URL{Host: address}, Host: address,
		Header: http.Header{}}).WithContext(ctx)
	send := func(auth string) (*http.Response, error) {
		r := req.Clone(ctx)
		if auth != "" {
			r.Header.Set("Proxy-Authorization", auth)
		}
		if err := r.Write(conn); err != nil {
			return nil, err
		}
		resp, err := http.ReadResponse(br, r)
		if err != nil {
			return nil, fmt.Errorf("ntlm: reading the proxy's answer to CONNECT %s: %w", address, err)
		}
		if resp.StatusCode/100 != 2 {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return resp, nil
	}
	resp, err := send("")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusProxyAuthRequired {
		scheme, ok := offered(resp.Header.Values("Proxy-Authenticate"))
		if ok {
			offer := Offer{Proxy: true, Scheme: scheme, Request: req}
			if d.Allow != nil {
				if err := d.Allow(offer); err != nil {
					return nil, &RefusedError{Offer: offer, Err: err}
				}
			}
			var sentAuth bool
			if resp, sentAuth, err = d.handshake(send, offer); err != nil {
				return nil, err
			}
			if sentAuth && d.OnAnswer != nil {
				d.OnAnswer(offer)
			}
		}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &ProxyRefusedError{Target: address, Status: resp.Status}
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// handshake answers the proxy's NTLM demand on the CONNECT connection.
// sentAuth says whether an AUTHENTICATE went out.
func (d *TunnelDialer) handshake(send func(string) (*http.Response, error), offer Offer) (resp *http.Response, sentAuth bool, err error) {
	negotiate, err := NegotiateMessage()
	if err != nil {
		return nil, false, err
	}
	if resp, err = send(tokenHeader(offer.Scheme, negotiate)); err != nil {
		return nil, false, err
	}
	challenge, ok := challengeToken(resp.Header.Values("Proxy-Authenticate"), offer.Scheme)
	if !ok {
		return resp, false, nil
	}
	auth, err := d.Credential.AnswerChallenge(challenge, d.Workstation)
	if err != nil {
		return nil, false, err
	}
	resp, err = send(tokenHeader(offer.Scheme, auth))
	return resp, err == nil, err
}

// bufferedConn is a tunnel whose first bytes the CONNECT reader already
// buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

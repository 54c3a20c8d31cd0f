package pki

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// errNoTransport is the failure of every query by a Checker with neither
// Client nor Dial.
var errNoTransport = errors.New("pki: Checker has neither Client nor Dial; it cannot reach anything")

// fetch performs one HTTP request for a query and returns the body of a 200
// response, at most limit bytes. It is bounded by the Checker's Timeout.
func (c *Checker) fetch(ctx context.Context, method, rawURL, contentType string, body []byte, limit int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("unsupported URL %q: only absolute http URLs are fetched", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	var resp *http.Response
	switch {
	case c.Client != nil:
		resp, err = c.Client.Do(req)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %v: %w", c.timeout(), err)
		}
	case c.Dial != nil:
		var conn net.Conn
		if conn, err = c.dial(ctx, u); err != nil {
			return nil, err
		}
		defer conn.Close()
		// ctx's deadline becomes the connection's; cancelling ctx
		// interrupts it, body included.
		if d, ok := ctx.Deadline(); ok {
			conn.SetDeadline(d)
		}
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		resp, err = roundTrip(conn, req)
	default:
		err = errNoTransport
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return data, nil
}

// dial connects to u's host with Dial, port 80 by default.
func (c *Checker) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return c.Dial(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
}

// roundTrip writes req on conn as HTTP/1.1 with "Connection: close" and
// reads the response header.
func roundTrip(conn net.Conn, req *http.Request) (*http.Response, error) {
	req.Close = true
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	return http.ReadResponse(bufio.NewReader(conn), req)
}

package linemsg

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// ClientConfig declares a message client.
type ClientConfig struct {
	// TLS, when non-nil, makes Send run a TLS client handshake with this
	// config on the conn before sending; nil sends plaintext. Set ServerName
	// to the name the client dialled so the hostname is checked. It must not
	// be modified while Send runs.
	TLS *tls.Config
	// Timeout bounds one Send (handshake, request, reply); zero means
	// DefaultTimeout. ctx ending earlier closes the conn at once.
	Timeout time.Duration
	// Now is the clock deadlines are computed from; nil means time.Now.
	Now func() time.Time
}

// Client sends messages. It is stateless apart from its config and safe for
// concurrent use.
type Client struct {
	cfg ClientConfig
}

// NewClient returns a client for cfg. cfg is copied.
func NewClient(cfg ClientConfig) *Client {
	return &Client{cfg: cfg}
}

// Send delivers body over conn, which the caller has dialled, and waits for
// the server's OK. It takes ownership of conn and always closes it before
// returning. body must not contain a newline.
//
// The whole exchange is bounded by the config's Timeout and by ctx: when ctx
// ends, conn is closed and Send returns ctx's cause. A failure is an
// *OpError whose Op is "send", "handshake", "write" or "read"; a server's
// "ERR" answer is a *RejectedError inside it.
func (c *Client) Send(ctx context.Context, conn net.Conn, body string) error {
	remote := conn.RemoteAddr()
	if err := checkBody(body); err != nil {
		conn.Close()
		return &OpError{Op: "send", Addr: remote, Err: err}
	}
	w := newWatch(ctx, conn, exchangeDeadline(c.cfg.Now, c.cfg.Timeout))
	defer w.stop()
	defer func() { conn.Close() }() // the TLS conn once wrapped, so close_notify is sent

	if c.cfg.TLS != nil {
		tc := tls.Client(conn, c.cfg.TLS)
		conn = tc
		if err := tc.HandshakeContext(ctx); err != nil {
			return &OpError{Op: "handshake", Addr: remote, Err: w.cause(err)}
		}
	}
	if _, err := io.WriteString(conn, verbMsg+body+"\n"); err != nil {
		return &OpError{Op: "write", Addr: remote, Err: w.cause(err)}
	}
	line, err := readLine(bufio.NewReader(conn))
	if err != nil {
		return &OpError{Op: "read", Addr: remote, Err: w.cause(err)}
	}
	if err := parseReply(line); err != nil {
		return &OpError{Op: "read", Addr: remote, Err: err}
	}
	return nil
}

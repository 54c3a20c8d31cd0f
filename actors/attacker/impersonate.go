package attacker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/netip"
	"time"

	sipgo "github.com/emiago/sipgo/sip"
)

// MTLSImpersonation declares an attacker connecting to a server's MTLS
// port (a Front End's 5062, an Edge's federation 5061) as if it were a
// trusted server, to deliver a forged message.
type MTLSImpersonation struct {
	// Dial opens the connection from the attacker's host. Required.
	Dial Dialer
	// Addr is the server's "ip:port". Required.
	Addr string
	// ServerName is the TLS server name sent (the server's FQDN).
	ServerName string
	// Certificate is the client certificate presented: none (nil), a
	// self-signed or untrusted one, a valid enterprise certificate of a
	// host not in the topology, one lacking the clientAuth usage...
	// CertSource describes it for the record.
	Certificate *tls.Certificate
	CertSource  string
	// RootCAs verifies the server; nil verifies nothing, as an attacker
	// usually does.
	RootCAs *x509.CertPool
	// MinVersion and MaxVersion bound the TLS versions; zero means
	// crypto/tls's defaults.
	MinVersion, MaxVersion uint16
	// Message is sent once the handshake completes.
	Message ForgedMessage
	// Timeout bounds the whole attempt; zero means DefaultTimeout. Now is
	// the clock for the connection's deadline (the World's); nil means
	// time.Now.
	Timeout time.Duration
	Now     func() time.Time
}

// ImpersonationResult is what an MTLS impersonation attempt got.
type ImpersonationResult struct {
	// Connected reports that the server accepted the TCP connection: the
	// attacker reached the port and its handshake began. Local is the
	// attacker's end of it; invalid when it did not connect.
	Connected bool
	Local     netip.AddrPort
	// Presented describes the certificate offered; nil when none.
	Presented *CertInfo
	// Handshake is the TLS handshake as the attacker saw it. Under TLS
	// 1.3 the client's handshake completes before the server has checked
	// the client certificate: the server's verdict arrives as an alert on
	// the first read, so Completed alone proves nothing.
	Handshake Handshake
	// Sent reports that the forged MESSAGE was written.
	Sent bool
	// Answered reports that the server read the MESSAGE and answered it:
	// it accepted the attacker's certificate as a peer. Status, Reason and
	// Warning are the answer (a 2xx means it took the message).
	Answered        bool
	Status          int
	Reason, Warning string
	// Err is the exact error that ended the attempt: the handshake's, or
	// the server's alert read after it (e.g. "remote error: tls:
	// certificate required", "remote error: tls: bad certificate");
	// "" when the server answered.
	Err string
}

// ImpersonateMTLS connects to cfg.Addr, presents cfg.Certificate, and
// when the handshake completes sends the forged MESSAGE and waits for the
// final answer. The result says how far it got; the server's own records
// (FrontEnd.Rejections, Deliveries) say why. It fails only on an unusable
// config.
func ImpersonateMTLS(ctx context.Context, cfg MTLSImpersonation) (ImpersonationResult, error) {
	var r ImpersonationResult
	if cfg.Dial == nil || cfg.Addr == "" {
		return r, &ConfigError{"MTLSImpersonation", "Dial and Addr are required"}
	}
	req, err := cfg.Message.Request()
	if err != nil {
		return r, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if cfg.Certificate != nil {
		r.Presented = certInfo(leafOf(cfg.Certificate), cfg.CertSource)
	}
	r.Handshake.TLS = true
	r.Handshake.ServerName = cfg.ServerName
	raw, err := cfg.Dial.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		r.Err = err.Error()
		r.Handshake.Err = r.Err
		return r, nil
	}
	defer raw.Close()
	r.Connected, r.Local = true, addrPortOf(raw.LocalAddr())
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	_ = raw.SetDeadline(now().Add(timeout))
	tcfg := &tls.Config{
		ServerName: cfg.ServerName, RootCAs: cfg.RootCAs, InsecureSkipVerify: cfg.RootCAs == nil,
		MinVersion: cfg.MinVersion, MaxVersion: cfg.MaxVersion, Time: now,
		// Present the certificate whatever CAs the server asks for, as
		// the lab's servers do, so a server that does not trust it says
		// why rather than "no certificate".
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cfg.Certificate == nil {
				return &tls.Certificate{}, nil
			}
			return cfg.Certificate, nil
		},
	}
	tc := tls.Client(raw, tcfg)
	defer tc.Close()
	if err := tc.HandshakeContext(ctx); err != nil {
		r.Err = err.Error()
		r.Handshake.Err = r.Err
		return r, nil
	}
	cs := tc.ConnectionState()
	r.Handshake.Completed = true
	r.Handshake.fillTLS(cs)
	r.Handshake.Verified = len(cs.VerifiedChains) > 0
	if len(cs.PeerCertificates) > 0 {
		r.Handshake.Certificate = certInfo(cs.PeerCertificates[0], "")
	}
	if _, err := io.WriteString(tc, req.String()); err != nil {
		r.Err = err.Error()
		return r, nil
	}
	r.Sent = true
	branch := branchOf(req)
	f := newSIPFramer()
	buf := make([]byte, 4096)
	for {
		n, err := tc.Read(buf)
		f.feed(buf[:n])
		for {
			_, msg, ok := f.next()
			if !ok {
				break
			}
			res, isRes := msg.(*sipgo.Response)
			if !isRes || res.StatusCode < 200 || branchOf(res) != branch {
				continue
			}
			r.Answered, r.Status, r.Reason = true, res.StatusCode, res.Reason
			if h := res.GetHeader("Warning"); h != nil {
				r.Warning = warningText(h.Value())
			}
			return r, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", context.Cause(ctx), err)
			}
			r.Err = err.Error()
			return r, nil
		}
	}
}

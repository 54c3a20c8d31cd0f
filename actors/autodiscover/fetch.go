package autodiscover

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// rootURL is one autodiscover URL of the chain.
type rootURL struct {
	https    bool
	host     string
	internal bool
}

func (u rootURL) String() string {
	scheme := "http"
	if u.https {
		scheme = "https"
	}
	return scheme + "://" + u.host + RootPath
}

func (u rootURL) port() int {
	if u.https {
		return PortHTTPS
	}
	return PortHTTP
}

// autodiscoverURLs is the order of steps 1–4 of Discover.
func (d *discovery) autodiscoverURLs() []rootURL {
	in, ex := InternalPrefix+"."+d.domain, ExternalPrefix+"."+d.domain
	return []rootURL{{true, in, true}, {false, in, true}, {true, ex, false}, {false, ex, false}}
}

// maxRoot bounds the root document read.
const maxRoot = 64 << 10

// fetchRoot GETs u and reads the pool from its answer. It reports false
// with a Failed step when anything went wrong, true with a step holding
// the candidate pool (its verdict still to be decided) otherwise.
func (d *discovery) fetchRoot(ctx context.Context, u rootURL) (Step, bool) {
	step := Step{Kind: KindAutodiscover, Asked: u.String(), Verdict: Failed}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.StepTimeout)
	defer cancel()
	addrs, err := d.cfg.Resolver.LookupNetIP(ctx, "ip4", u.host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: u.host, IsNotFound: true}
	}
	if err != nil {
		step.Reason = err.Error()
		return step, false
	}
	step.From = netip.AddrPortFrom(addrs[0].Unmap(), uint16(u.port()))
	conn, err := d.cfg.Dialer.DialContext(ctx, "tcp", step.From.String())
	if err != nil {
		step.Reason = "connect: " + err.Error()
		return step, false
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if u.https {
		cfg := &tls.Config{
			RootCAs:          d.cfg.RootCAs,
			Time:             d.cfg.Time,
			VerifyConnection: d.cfg.VerifyConnection,
			MinVersion:       tls.VersionTLS12,
		}
		if d.cfg.TLS != nil {
			cfg = d.cfg.TLS.Clone()
		}
		cfg.ServerName = u.host
		tc := tls.Client(conn, cfg)
		err := tc.HandshakeContext(ctx)
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			step.Cert = certs[0]
		}
		var cve *tls.CertificateVerificationError
		if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
			step.Cert = cve.UnverifiedCertificates[0]
		}
		if err != nil {
			if step.Cert != nil {
				step.CertErr = err
			}
			step.Reason = "TLS: " + err.Error()
			return step, false
		}
		conn = tc
	}
	root, err := getRoot(ctx, conn, u)
	if err != nil {
		step.Reason = err.Error()
		return step, false
	}
	access := cmpPtr(root.SipServerExternalAccess, root.SipServerInternalAccess)
	if u.internal {
		access = cmpPtr(root.SipServerInternalAccess, root.SipServerExternalAccess)
	}
	if access == nil || normalize(access.FQDN) == "" {
		step.Reason = "the answer names no SIP pool"
		return step, false
	}
	step.Pool, step.Port = normalize(access.FQDN), access.Port
	step.UserLink = root.Links["user"].Href
	if step.Port == 0 {
		step.Port = PortSIPTLS
	}
	return step, true
}

// cmpPtr returns the first non-nil pointer.
func cmpPtr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// getRoot writes the GET on conn and decodes the answer.
func getRoot(ctx context.Context, conn net.Conn, u rootURL) (*Root, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tlslab-lync/1.0")
	req.Close = true
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("HTTP request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, fmt.Errorf("HTTP response: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRoot+1))
	if err != nil {
		return nil, fmt.Errorf("HTTP body: %w", err)
	}
	if len(body) > maxRoot {
		return nil, errors.New("answer larger than " + strconv.Itoa(maxRoot) + " bytes")
	}
	var root Root
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("answer is not an autodiscover document: %w", err)
	}
	return &root, nil
}

package contoso

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/lab"
)

// urlHost is the host of an autodiscover URL, "" for anything else.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// notePlaintextRefused records, after SIP over TLS failed, that the client
// did not fall back to plaintext SIP (tls-only) when the pool's TLS port
// refused the connection: the name led to a host, and a client allowed to
// would have tried port 5060 there. A reset or a time-out is never such a
// refusal: the lab cannot tell an attacker's broken endpoint from a
// decision.
func (s *SignIn) notePlaintextRefused(at time.Time, res *sip.Result) {
	if res == nil {
		return
	}
	for _, a := range res.Attempts {
		if a.Err == nil || a.Transport != sip.TransportTLS || !a.Addr.IsValid() {
			continue
		}
		if !errors.Is(a.Err, syscall.ECONNREFUSED) {
			continue
		}
		s.add(at, "sip", lab.DefenseTLSOnly, fmt.Sprintf("no plaintext fallback to %s:5060 after TLS to %s (%v) failed: %v", a.Target, a.Target, a.Addr, a.Err), nil)
		return
	}
}

// loaded reports whether m holds key with the value true.
func loaded(m *sync.Map, key string) bool {
	v, ok := m.Load(key)
	return ok && v == true
}

// discoveryDefense names the switch whose rule decided an autodiscover
// step that refused something: HTTP skipped, a target refused by strict
// naming, a prompt declined, a certificate refused, or discovery skipped
// for a pinned pool.
func discoveryDefense(st autodiscover.Step, pinned bool) string {
	switch {
	case st.Verdict == autodiscover.Skipped:
		return lab.DefenseAutodiscoverHTTPSOnly
	case st.Verdict == autodiscover.Refused:
		return lab.DefenseStrictDNSNaming
	case st.Verdict == autodiscover.Declined:
		return lab.DefenseDeclinePrompts
	case st.Kind == autodiscover.KindPinned && pinned:
		return lab.DefensePoolPinning
	case st.CertErr != nil:
		if d, ok := lab.ClassifyRefusal(st.CertErr); ok {
			return d
		}
	}
	return ""
}

// findProxy runs WPAD and asks the PAC file found which proxy the
// autodiscover URL takes; "" for none or DIRECT.
func (c *Deployment) findProxy(ctx context.Context, s *SignIn, names *winname.Resolver, now func() time.Time) string {
	url := ""
	if s.Lease != nil {
		url = s.Lease.WPAD
	}
	res, err := wpad.Discover(ctx, wpad.DiscoverConfig{DHCPURL: url, Resolver: names, Domain: contosoDomain,
		Dialer: c.hosts[hostAlice], Timeout: c.timeout,
		OnStep: func(st wpad.Step) { s.add(now(), "wpad", "", st.String(), nil) }})
	if err != nil || res.PAC == nil {
		s.add(now(), "wpad", "", "no PAC file found: no proxy", nil)
		return ""
	}
	target := "https://" + autodiscover.InternalPrefix + "." + contosoDomain + autodiscover.RootPath
	answer, err := res.PAC.FindProxyForURL(ctx, wpad.Env{MyIP: AliceAddr,
		Resolve: func(ctx context.Context, host string) (netip.Addr, error) {
			addrs, err := names.LookupNetIP(ctx, "ip4", host)
			if err != nil || len(addrs) == 0 {
				return netip.Addr{}, fmt.Errorf("no address for %s", host)
			}
			return addrs[0], nil
		}}, target, autodiscover.InternalPrefix+"."+contosoDomain)
	if err != nil {
		s.add(now(), "wpad", "", fmt.Sprintf("PAC file from %s failed: %v", res.URL, err), nil)
		return ""
	}
	dirs, err := wpad.ParseResult(answer)
	if err != nil || len(dirs) == 0 || dirs[0].Kind != "PROXY" {
		s.add(now(), "wpad", "", fmt.Sprintf("PAC file from %s (%s) says %q for %s: direct", res.URL, res.Source, answer, target), nil)
		return ""
	}
	s.add(now(), "wpad", "", fmt.Sprintf("PAC file from %s (%s) says %q for %s: through %s", res.URL, res.Source, answer, target, dirs[0].Addr), nil)
	return dirs[0].Addr
}

// promptingTLS returns the SIP client's TLS config: base as it is when the
// user declines prompts (a certificate that fails is refused, as always);
// otherwise base with a prompt the user accepts, so a certificate that fails
// a check is used anyway and noted. verified learns, per server name,
// whether its certificate passed every check.
func promptingTLS(base *tls.Config, decline bool, verified *sync.Map, note func(string)) *tls.Config {
	cfg := base.Clone()
	userVerify := base.VerifyConnection
	if decline {
		// crypto/tls verifies as ever; reaching VerifyConnection means
		// its checks passed.
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			var err error
			if userVerify != nil {
				err = userVerify(cs)
			}
			verified.Store(cs.ServerName, err == nil)
			return err
		}
		return cfg
	}
	check := base.Clone()
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		err := verifyLikeBase(check, cs, userVerify)
		if err == nil {
			verified.Store(cs.ServerName, true)
			return nil
		}
		verified.Store(cs.ServerName, false)
		if decline {
			return err
		}
		note(fmt.Sprintf("the user accepted the certificate prompt for %s despite: %v", cs.ServerName, err))
		return nil
	}
	return cfg
}

// verifyLikeBase makes the checks base would have made on cs: the chain
// and name (unless base skips them), then base's own VerifyConnection.
func verifyLikeBase(base *tls.Config, cs tls.ConnectionState, verify func(tls.ConnectionState) error) error {
	if !base.InsecureSkipVerify {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		chains, err := verifyChain(base, cs)
		if err != nil {
			return err
		}
		cs.VerifiedChains = chains
	}
	if verify != nil {
		return verify(cs)
	}
	return nil
}

// dnsTimeout is one DNS try's bound inside a step bounded by timeout.
func dnsTimeout(timeout time.Duration) time.Duration {
	return min(2*time.Second, timeout)
}

// verifyChain verifies cs's chain and name against cfg's roots and clock,
// as crypto/tls's client does, with its error.
func verifyChain(cfg *tls.Config, cs tls.ConnectionState) ([][]*x509.Certificate, error) {
	opts := x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
	if cfg.Time != nil {
		opts.CurrentTime = cfg.Time()
	}
	for _, cert := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(cert)
	}
	chains, err := cs.PeerCertificates[0].Verify(opts)
	if err != nil {
		return nil, &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return chains, nil
}

package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
)

// TLSPolicy is the one place where Defenses become tls.Configs. Every TLS
// endpoint a topology preset builds (user agents, client-facing listeners,
// MTLS between servers and partners) gets its config from here, so a
// switch turned off in Defenses is off everywhere at once.
//
//   - ChainValidation, HostnameCheck, ValidityCheck: with all three on,
//     crypto/tls verifies as usual (RootCAs and ServerName for servers,
//     ClientCAs with tls.RequireAndVerifyClientCert for MTLS clients).
//     With any of them off, crypto/tls verifies nothing (InsecureSkipVerify,
//     tls.RequireAnyClientCert) and VerifyConnection performs exactly the
//     checks still on with crypto/x509, returning their errors as crypto/tls
//     would: "tls: failed to verify certificate: x509: ...".
//   - DistrustList: after verification, a chain holding a certificate on
//     Distrusted (or one signed by its key) is refused with a
//     *DistrustedError; with chain validation off, the chain the peer sent
//     is judged.
//   - Revocation: a *pki.Checker runs after verification, on the verified
//     chain (or, with chain validation off, on the chain the peer sent).
//   - ClientCertRequired: MTLS listeners require a client certificate
//     (tls.RequireAndVerifyClientCert) or only verify one if given
//     (tls.VerifyClientCertIfGiven).
//   - MinTLSVersion: Config.MinVersion on every side.
//   - MinTLSVersion below TLS 1.2 adds the ECDHE CBC suites old versions
//     need.
//   - ForwardSecrecyOnly: CipherSuites lists only ECDHE suites; off, it
//     adds the static-RSA key-exchange suites, which Go offers only when
//     listed explicitly (they need an RSA certificate to be negotiated).
//
// Time is the World's clock and KeyLogWriter the run's key log on every
// config. With an Observer, VerifyConnection also reports what it decided
// (Observer.CertificateChecked); it decides exactly as without one.
//
// The switches that are not about TLS (trusted server list, plaintext
// fallback, federation policy) are the SIP actors' own settings;
// ContosoConfig.Build sets them from the same Defenses.
type TLSPolicy struct {
	Defenses Defenses
	// Now is the clock certificates are judged against, normally
	// env.World.Now. Nil means time.Now.
	Now func() time.Time
	// KeyLog receives TLS secrets (env.KeyLog); nil logs nothing.
	KeyLog io.Writer
	// Observer, when not nil, hears every certificate decision of the
	// configs that verify peers (Env.TLSPolicy sets the run's).
	Observer Observer
	// Distrusted is the enterprise's distrust list, read at each
	// handshake; nil distrusts nothing (Env.TLSPolicy sets the run's).
	Distrusted *DistrustList
}

// Client returns the config of a TLS client (a user agent) that trusts
// roots and checks revocation with rev (nil checks none). The caller (the
// SIP client) sets ServerName per connection.
func (p TLSPolicy) Client(roots *x509.CertPool, rev *pki.Checker) *tls.Config {
	cfg := p.base()
	cfg.RootCAs = roots
	cfg.InsecureSkipVerify = !p.standardClient()
	v := &verifier{p: p, roots: roots, rev: rev}
	v.observe(cfg)
	cfg.VerifyConnection = v.verify
	return cfg
}

// Server returns the config of a listener that presents cert and asks for
// no client certificate (a pool's client-facing listener).
func (p TLSPolicy) Server(cert tls.Certificate) *tls.Config {
	cfg := p.base()
	cfg.Certificates = []tls.Certificate{cert}
	return cfg
}

// MTLS returns a config for mutual TLS in both roles, as the SIP servers
// use it: accepting peers (which must present a certificate when
// ClientCertRequired) and dialling them (presenting cert as the client
// certificate). roots verifies the peer in both roles; rev checks its
// revocation (nil checks none).
func (p TLSPolicy) MTLS(cert tls.Certificate, roots *x509.CertPool, rev *pki.Checker) *tls.Config {
	cfg := p.base()
	cfg.Certificates = []tls.Certificate{cert}
	cfg.RootCAs = roots
	cfg.ClientCAs = roots
	cfg.InsecureSkipVerify = !p.standardClient()
	d := p.Defenses
	switch {
	case p.standardServer() && d.ClientCertRequired:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case p.standardServer():
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case d.ClientCertRequired:
		cfg.ClientAuth = tls.RequireAnyClientCert
	default:
		cfg.ClientAuth = tls.RequestClientCert
	}
	v := &verifier{p: p, roots: roots, rev: rev, mtls: true, own: cert.Leaf}
	if v.own == nil && len(cert.Certificate) > 0 {
		v.own, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	v.observe(cfg)
	cfg.VerifyConnection = v.verify
	// Present the certificate whatever CA names the peer's
	// CertificateRequest lists (as Schannel does), so a peer that does not
	// trust our CA refuses with the exact x509 reason instead of
	// "client didn't provide a certificate".
	own := &cfg.Certificates[0]
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own, nil }
	return cfg
}

// CipherSuites returns the TLS 1.0-1.2 cipher suites the policy allows (TLS
// 1.3's suites are all forward-secret and not configurable).
func (p TLSPolicy) CipherSuites() []uint16 {
	suites := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
	if p.Defenses.MinTLSVersion < tls.VersionTLS12 {
		// A floor below TLS 1.2 is only meaningful with suites that TLS 1.0
		// and 1.1 can use: the CBC ones, as deployments that allow old
		// versions configure them.
		suites = append(suites,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		)
	}
	if !p.Defenses.ForwardSecrecyOnly {
		suites = append(suites,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		)
	}
	return suites
}

func (p TLSPolicy) base() *tls.Config {
	return &tls.Config{
		MinVersion:   p.Defenses.MinTLSVersion,
		CipherSuites: p.CipherSuites(),
		Time:         p.Now,
		KeyLogWriter: p.KeyLog,
	}
}

// standardClient reports whether crypto/tls verifies servers itself.
func (p TLSPolicy) standardClient() bool {
	d := p.Defenses
	return d.ChainValidation && d.HostnameCheck && d.ValidityCheck
}

// standardServer reports whether crypto/tls verifies client certificates
// itself (no hostname check applies to them).
func (p TLSPolicy) standardServer() bool {
	return p.Defenses.ChainValidation && p.Defenses.ValidityCheck
}

func (p TLSPolicy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// role is the end of a handshake a VerifyConnection call runs at.
type role int

const (
	clientRole role = iota // verifying a server's certificate
	serverRole             // verifying a client's certificate
)

// verifier is one config's VerifyConnection: the checks crypto/tls was
// told to skip, then revocation.
type verifier struct {
	p     TLSPolicy
	roots *x509.CertPool
	rev   *pki.Checker
	mtls  bool              // the config serves both roles
	own   *x509.Certificate // the config's own leaf (MTLS only)
	keys  *configKeyLog     // the config's key log when an Observer hears it
}

// verify is the config's VerifyConnection: verifyChain, whose result it
// also reports to the timeline when one observes the config.
func (v *verifier) verify(cs tls.ConnectionState) error {
	err := v.verifyChain(cs)
	v.report(cs, err)
	return err
}

func (v *verifier) verifyChain(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		// Only an accepting end without a client certificate gets here
		// (crypto/tls refuses servers without one); ClientAuth already
		// said whether that is acceptable.
		return nil
	}
	chains := cs.VerifiedChains // crypto/tls verified them
	if len(chains) == 0 {
		verified, err := v.check(cs, v.role(cs))
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		chains = [][]*x509.Certificate{verified}
	}
	chains, err := v.p.checkDistrust(chains)
	if err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return checkRevocation(v.rev, chains[0])
}

// role says which end this call runs at. A client-only config is always
// the dialling end. An MTLS config serves both, and crypto/tls does not tell
// VerifyConnection which: when crypto/tls verifies client certificates
// itself, an unverified peer with certificates can only be a server; when
// it does not (chain or validity check off), the accepting end is the one
// whose own certificate names the server name of the handshake (the SNI the
// peer sent, which the lab's servers always set to the name they dial).
func (v *verifier) role(cs tls.ConnectionState) role {
	if !v.mtls || v.p.standardServer() {
		return clientRole
	}
	if v.own != nil && cs.ServerName != "" && v.own.VerifyHostname(cs.ServerName) == nil {
		return serverRole
	}
	return clientRole
}

// check performs the certificate checks that are on and returns the chain
// to check for revocation: the verified chain, or with chain validation off
// the chain the peer sent. Errors are crypto/x509's own.
func (v *verifier) check(cs tls.ConnectionState, r role) ([]*x509.Certificate, error) {
	d := v.p.Defenses
	certs := cs.PeerCertificates
	leaf := certs[0]
	hostname := d.HostnameCheck && r == clientRole
	if !d.ChainValidation {
		if d.ValidityCheck {
			now := v.p.now()
			for _, c := range certs {
				if err := checkValidity(c, now); err != nil {
					return nil, err
				}
			}
		}
		if hostname {
			if err := leaf.VerifyHostname(cs.ServerName); err != nil {
				return nil, err
			}
		}
		return certs, nil
	}
	opts := x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   v.p.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if r == serverRole {
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if hostname {
		opts.DNSName = cs.ServerName
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if !d.ValidityCheck {
		// crypto/x509 always checks validity; hand it copies of the
		// presented certificates whose windows are unbounded. Signatures
		// cover the raw TBS bytes, which the copies keep, so the chain is
		// still checked in full. The trust anchor must be valid now.
		leaf = timeless(leaf)
		opts.Intermediates = x509.NewCertPool()
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(timeless(c))
		}
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return nil, err
	}
	return chains[0], nil
}

// checkValidity is crypto/x509's validity check, with its error.
func checkValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return x509.CertificateInvalidError{Cert: c, Reason: x509.Expired,
			Detail: fmt.Sprintf("current time %s is before %s", now.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339))}
	case now.After(c.NotAfter):
		return x509.CertificateInvalidError{Cert: c, Reason: x509.Expired,
			Detail: fmt.Sprintf("current time %s is after %s", now.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))}
	}
	return nil
}

// timeless returns a copy of c valid at any time, for chain checks with
// the validity check off. Only the parsed window changes.
func timeless(c *x509.Certificate) *x509.Certificate {
	cp := *c
	cp.NotBefore = time.Time{}
	cp.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	return &cp
}

// checkRevocation runs rev on chain (leaf first, ending with the anchor
// when verified), reporting what it saw to rev.Observe, and returns the
// Checker's own error unchanged.
func checkRevocation(rev *pki.Checker, chain []*x509.Certificate) error {
	if rev == nil || rev.Mode == pki.RevocationOff || len(chain) < 2 {
		return nil
	}
	obs, err := rev.Check(context.Background(), chain)
	if rev.Observe != nil {
		for _, o := range obs {
			rev.Observe(o)
		}
	}
	return err
}

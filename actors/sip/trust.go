package sip

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
)

// verifyFunc is an identity policy run inside a TLS handshake, after chain
// and name validation, as tls.Config.VerifyConnection.
type verifyFunc func(tls.ConnectionState) error

// withVerify returns a clone of base whose VerifyConnection runs base's own
// first and then each non-nil check; a nil base is an empty config.
func withVerify(base *tls.Config, checks ...verifyFunc) *tls.Config {
	var cfg *tls.Config
	if base == nil {
		cfg = &tls.Config{}
	} else {
		cfg = base.Clone()
	}
	checks = slices.DeleteFunc(slices.Clone(checks), func(f verifyFunc) bool { return f == nil })
	if len(checks) == 0 {
		return cfg
	}
	prev := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if prev != nil {
			if err := prev(cs); err != nil {
				return err
			}
		}
		for _, check := range checks {
			if err := check(cs); err != nil {
				return err
			}
		}
		return nil
	}
	return cfg
}

// certNames returns a certificate's DNS names, normalized.
func certNames(c *x509.Certificate) []string {
	names := make([]string, 0, len(c.DNSNames))
	for _, n := range c.DNSNames {
		names = append(names, normalizeHost(n))
	}
	return names
}

// certIdentity is the name a certificate is known by in records: its first
// DNS name, or its subject common name when it has none.
func certIdentity(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return normalizeHost(c.DNSNames[0])
	}
	return c.Subject.CommonName
}

// trustedServerCheck returns the trusted server list policy: the peer's
// certificate must carry, among its DNS names, an FQDN of the list. A peer
// without a certificate fails it.
func trustedServerCheck(list []string) verifyFunc {
	trusted := make(map[string]bool, len(list))
	for _, fqdn := range list {
		trusted[normalizeHost(fqdn)] = true
	}
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &UntrustedPeerError{}
		}
		leaf := cs.PeerCertificates[0]
		names := certNames(leaf)
		for _, n := range names {
			if trusted[n] {
				return nil
			}
		}
		return &UntrustedPeerError{Identity: certIdentity(leaf), Names: names}
	}
}

// partnerCheck returns the inbound federation allow-list policy: one of the
// peer certificate's DNS names must lie in an allowed partner domain.
func partnerCheck(partners []string) verifyFunc {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &PartnerNotAllowedError{}
		}
		leaf := cs.PeerCertificates[0]
		if partnerDomain(certNames(leaf), partners) == "" {
			return &PartnerNotAllowedError{Peer: certIdentity(leaf)}
		}
		return nil
	}
}

// partnerDomain returns the first partner domain one of names lies in, or "".
func partnerDomain(names, partners []string) string {
	for _, p := range partners {
		for _, n := range names {
			if inDomain(n, p) {
				return normalizeHost(p)
			}
		}
	}
	return ""
}

// peerInfo describes an accepted connection; cs is nil for plaintext.
func peerInfo(listener, addr string, cs *tls.ConnectionState) PeerInfo {
	p := PeerInfo{Addr: addr, Listener: listener, Transport: TransportTCP}
	if cs == nil {
		return p
	}
	p.TLS = newTLSInfo(*cs)
	p.Transport = TransportTLS
	if len(cs.PeerCertificates) > 0 {
		p.Transport = TransportMTLS
		p.Identity = certIdentity(cs.PeerCertificates[0])
		p.Verified = len(cs.VerifiedChains) > 0
	}
	return p
}

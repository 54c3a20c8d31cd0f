package scenarios

import (
	"crypto/tls"
	"io"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
)

// tlsOffer is the TLS mallory's proxy offers alice: the versions (a
// consecutive range, as crypto/tls takes them) and, for TLS 1.0-1.2, the
// cipher suites in preference order (nil: crypto/tls's defaults).
type tlsOffer struct {
	versions []uint16
	suites   []uint16
}

// offerVersions names the versions as files spell them (the values of
// min-tls-version).
var offerVersions = []struct {
	name string
	v    uint16
}{{"TLS 1.0", tls.VersionTLS10}, {"TLS 1.1", tls.VersionTLS11}, {"TLS 1.2", tls.VersionTLS12}, {"TLS 1.3", tls.VersionTLS13}}

// victim is mallory's VictimTLS for the offer: answering as a server that
// speaks nothing else, so that alice refuses what she does not accept
// herself (see attacker.VictimTLS.Legacy).
func (o tlsOffer) victim(certs attacker.CertSource, keyLog io.Writer) attacker.VictimTLS {
	return attacker.VictimTLS{
		Certs: certs, MinVersion: o.versions[0], MaxVersion: o.versions[len(o.versions)-1],
		CipherSuites: slices.Clone(o.suites), KeyLogWriter: keyLog, Legacy: true,
	}
}

// text says what mallory offers: "TLS 1.0 to TLS 1.2 with
// TLS_RSA_WITH_AES_128_CBC_SHA".
func (o tlsOffer) text() string {
	return strings.TrimPrefix(o.victim(nil, nil).Offer(), "offering ")
}

// refusedSuite is the suite alice refused when she refused mallory's
// answer as "tls: server chose an unconfigured cipher suite": the first
// offered (mallory answers with it when alice offers none of them).
func (o tlsOffer) refusedSuite() (uint16, bool) {
	if len(o.suites) == 0 {
		return 0, false
	}
	return o.suites[0], true
}

// errUnconfiguredSuite is crypto/tls's refusal of a suite the client did
// not offer.
const errUnconfiguredSuite = "tls: server chose an unconfigured cipher suite"

// noteSuiteRefusal records alice's refusal of the offer's suite as the
// refusal of the defense that leaves it out, when one does, and reports
// whether it did. line is the evidence line.
func (o *tlsOffer) noteSuiteRefusal(ev *lab.Evidence, err error, line string) bool {
	if o == nil || err == nil || !strings.Contains(err.Error(), errUnconfiguredSuite) {
		return false
	}
	suite, ok := o.refusedSuite()
	if !ok {
		return false
	}
	defense, ok := lab.CipherSuiteDefense(suite)
	if !ok {
		return false
	}
	ev.Refused("alice", defense, "%s (mallory chose %s)", line, tls.CipherSuiteName(suite))
	return true
}

// offerSuites are the suites crypto/tls implements for TLS 1.0-1.2, by
// IANA name, with what they need.
func offerSuites() []*tls.CipherSuite {
	var out []*tls.CipherSuite
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Equal(s.SupportedVersions, []uint16{tls.VersionTLS13}) {
			out = append(out, s)
		}
	}
	return out
}

// suiteNeedsRSA reports whether a suite authenticates the server with an
// RSA key (static RSA key exchange or ECDHE_RSA).
func suiteNeedsRSA(name string) bool {
	return strings.HasPrefix(name, "TLS_RSA_") || strings.HasPrefix(name, "TLS_ECDHE_RSA_")
}

// suiteFitsKey reports whether a suite can be negotiated with a
// certificate key of type k.
func suiteFitsKey(name string, k pki.KeyType) bool {
	if suiteNeedsRSA(name) {
		return k.RSABits() != 0
	}
	return k.RSABits() == 0 // ECDHE_ECDSA: an ECDSA or Ed25519 key
}

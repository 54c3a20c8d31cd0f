package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/netsim"
)

// The defense switches by the names `tlslab show` prints. A Refusal names
// the one that refused; Defenses.Settings lists them in this order.
const (
	DefenseChainValidation          = "chain-validation"
	DefenseHostnameCheck            = "hostname-check"
	DefenseValidityCheck            = "validity-check"
	DefenseRevocation               = "revocation"
	DefenseClientCertRequired       = "client-cert-required"
	DefenseTrustedServerList        = "trusted-server-list"
	DefenseTLSOnly                  = "tls-only"
	DefenseMinTLSVersion            = "min-tls-version"
	DefenseForwardSecrecyOnly       = "forward-secrecy-only"
	DefenseFederationSRVDomainMatch = "federation-srv-domain-match"
	DefenseFederationAllowList      = "federation-allow-list"
	DefenseDNSRandomization         = "dns-randomization"
	DefenseDNSSECValidation         = "dnssec-validation"
	DefenseARPPolicy                = "arp-policy"
	DefenseDistrustList             = "distrust-list"
	DefenseAutodiscoverHTTPSOnly    = "autodiscover-https-only"
	DefenseStrictDNSNaming          = "strict-dns-naming"
	DefenseTrustedDomainsEmpty      = "trusted-domains-empty"
	DefenseDeclinePrompts           = "decline-prompts"
	DefenseLLMNRNBTNSDisabled       = "llmnr-nbtns-disabled"
	DefenseLinkSingleLabelOnly      = "link-single-label-only"
	DefenseWPADDisabled             = "wpad-disabled"
	DefenseDHCPSnooping             = "dhcp-snooping"
	DefenseNTLMVerifiedServersOnly  = "ntlm-verified-servers-only"
	DefensePoolPinning              = "pool-pinning"
)

// DefenseNames returns every defense switch name in the order of
// Switches.
func DefenseNames() []string {
	sw := Switches()
	names := make([]string, len(sw))
	for i, s := range sw {
		names[i] = s.Name
	}
	return names
}

// IsDefense reports whether name is one of DefenseNames or a defense
// added by RegisterDefense.
func IsDefense(name string) bool {
	for _, n := range DefenseNames() {
		if n == name {
			return true
		}
	}
	return isRegisteredDefense(name)
}

// positioning reports whether the defense acts before the attacker is on
// the victim's path (it refuses the spoofed ARP reply or forged DNS answer
// itself, drops the rogue DHCP offer, or keeps the victim from asking the
// link for a name or a proxy), so it can only be credited against an attempt, never against an
// attacker already in position.
func positioning(defense string) bool {
	switch defense {
	case DefenseARPPolicy, DefenseDNSSECValidation, DefenseDNSRandomization,
		DefenseDHCPSnooping, DefenseLLMNRNBTNSDisabled, DefenseLinkSingleLabelOnly, DefenseWPADDisabled, DefensePoolPinning:
		return true
	}
	return false
}

// Refusal is a defense seen refusing: Host enforced the switch named
// Defense (a `show` name, see DefenseNames) for the exact Reason. Line is
// the evidence line recorded with it, identical to the one in
// [Evidence.Lines]. Time-outs, EOF, resets, refused connections and other
// failures are never refusals.
type Refusal struct {
	Defense string
	Host    string
	Reason  string
	Line    string
	// Credited is set on a Result's refusals by Decide's judgement: the
	// refusal counts towards held (its switch is on in the run and the
	// attack had reached the point it stops). The first credited refusal
	// is the decisive one.
	Credited bool
}

// Milestone is a step an attack reached. An attack is carried out when it
// reached MilestoneInPosition, or MilestoneAttempted for a defense that
// refuses positioning itself (ARP policy, DNSSEC, DNS randomisation).
type Milestone string

const (
	// MilestoneAttempted: the attacker acted (sent spoofed ARP replies or
	// forged DNS answers, dialled a server with a certificate of its own).
	MilestoneAttempted Milestone = "attempted"
	// MilestoneInPosition: the victim's traffic reached the attacker
	// (intercepted connection, captured frames, a query answered by the
	// attacker, the attacker's own connection accepted by the server's TCP).
	MilestoneInPosition Milestone = "in-position"
	// MilestonePresented: the attacker presented its certificate, identity
	// or forged answer to the victim.
	MilestonePresented Milestone = "presented"
	// MilestoneRelayed: the attacker carried the victim's traffic on to
	// the real peer.
	MilestoneRelayed Milestone = "relayed"
)

// MilestoneReached is one milestone as recorded.
type MilestoneReached struct {
	Milestone Milestone
	Actor     string
	Line      string
}

// ClassifyRefusal maps an error from an enforcing end (a TLS handshake at
// the host that refused, a SIP server's rejection, a revocation check) to
// the defense switch that produced it. It looks only at typed causes and at
// the fixed texts crypto/tls uses for local refusals; a remote alert, a
// time-out, EOF, a reset or anything else is not a refusal and yields
// ok false. The alert a refusing peer sent is read by ClassifyAlert.
func ClassifyRefusal(err error) (defense string, ok bool) {
	if err == nil {
		return "", false
	}
	var (
		revoked     *pki.RevokedError
		unavailable *pki.RevocationUnavailableError
		untrusted   *sip.UntrustedPeerError
		notAllowed  *sip.PartnerNotAllowedError
		srv         *sip.SRVTargetError
		hostErr     x509.HostnameError
		hostErrP    *x509.HostnameError
		invalid     x509.CertificateInvalidError
		invalidP    *x509.CertificateInvalidError
		unknown     x509.UnknownAuthorityError
		unknownP    *x509.UnknownAuthorityError
	)
	var distrusted *DistrustedError
	switch {
	case errors.As(err, &distrusted):
		return DefenseDistrustList, true
	case errors.As(err, &revoked):
		return DefenseRevocation, true
	case errors.As(err, &unavailable):
		// Hard-fail refusing a status it could not get is the revocation
		// defense at work when a query was refused or answered unusably
		// (an attacker resetting the responder's connections). When every
		// query merely timed out, the lab cannot tell a black hole from
		// its own load: that is a time-out, never a refusal.
		if timedOut(unavailable) {
			return "", false
		}
		return DefenseRevocation, true
	case errors.As(err, &untrusted):
		return DefenseTrustedServerList, true
	case errors.As(err, &notAllowed):
		return DefenseFederationAllowList, true
	case errors.As(err, &srv):
		return DefenseFederationSRVDomainMatch, true
	case errors.As(err, &hostErr), errors.As(err, &hostErrP):
		return DefenseHostnameCheck, true
	case errors.As(err, &invalid):
		return invalidReason(invalid.Reason), true
	case errors.As(err, &invalidP):
		return invalidReason(invalidP.Reason), true
	case errors.As(err, &unknown), errors.As(err, &unknownP):
		return DefenseChainValidation, true
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error:"):
		// The other end refused; it records its own refusal.
		return "", false
	case strings.Contains(msg, "tls: client didn't provide a certificate"):
		return DefenseClientCertRequired, true
	case strings.Contains(msg, "tls: client offered only unsupported versions"),
		strings.Contains(msg, "tls: server selected unsupported protocol version"):
		return DefenseMinTLSVersion, true
	}
	return "", false
}

// ClassifyAlert maps the description of the alert with which a TLS client
// refused a server's handshake (on the victim's side of a man in the
// middle: attacker.Handshake.Alert) to the defense switch that refused,
// for the alerts that name exactly one. ok is false for any other alert,
// and for those real clients send for several causes, where a guess would
// credit the wrong defense.
//
// What real clients send, measured over loopback against the attacker's
// VictimTLS (TestRealClientAlerts in actors/attacker), the same at TLS 1.2
// and TLS 1.3 unless noted:
//
//	certificate presented             OpenSSL 3.0 s_client          GnuTLS 3.7 gnutls-cli    crypto/tls
//	self-signed                       unknown_ca (48)               bad_certificate (42)     bad_certificate (42)
//	issued by an untrusted CA         unknown_ca (48)               bad_certificate (42)     bad_certificate (42)
//	for another name                  bad_certificate (42)          bad_certificate (42)     bad_certificate (42)
//	expired                           certificate_expired (45)      bad_certificate (42)     bad_certificate (42)
//	not yet valid                     bad_certificate (42)          bad_certificate (42)     bad_certificate (42)
//	extended key usage codeSigning    unsupported_certificate (43)  bad_certificate (42)     bad_certificate (42)
//	CA's signature tampered           decrypt_error (51)            bad_certificate (42)     bad_certificate (42)
//	revoked, client given the CRL     certificate_revoked (44)      bad_certificate (42)     (no CRL check)
//	hard-fail CRL check, no CRL       unknown_ca (48)               (accepted)               (no CRL check)
//	hard-fail CRL check, CRL expired  certificate_expired (45)      (will not load the CRL)  (no CRL check)
//	trusted, signed with another key  decrypt_error (51)            decrypt_error (51)       TLS 1.2 illegal_parameter (47), TLS 1.3 decrypt_error (51)
//	TLS 1.0 answer to a 1.2 floor     protocol_version (70)         protocol_version (70)    protocol_version (70)
//
// OpenSSL sends each in plaintext, at TLS 1.3 too; the others protect
// theirs at TLS 1.3. Hence:
//
//   - unknown_ca (48): chain-validation. OpenSSL also sends it when a
//     hard-fail CRL check finds no CRL (revocation), which the alert
//     cannot tell apart.
//   - certificate_expired (45): validity-check. OpenSSL also sends it for
//     an expired CRL under a hard-fail CRL check, and sends
//     bad_certificate for a certificate not yet valid, so a not-yet-valid
//     certificate is never credited from its alert.
//   - certificate_revoked (44): revocation.
//   - unsupported_certificate (43): chain-validation. OpenSSL sends it for
//     a certificate whose extended key usage does not allow a TLS server,
//     which the lab counts as chain validation (as ClassifyRefusal does);
//     crypto/tls sends it only for a public key type it does not support,
//     which no certificate the lab issues has.
//   - protocol_version (70): min-tls-version.
//   - bad_certificate (42) is ambiguous: crypto/tls and GnuTLS send it for
//     every certificate they refuse, OpenSSL for a hostname mismatch and
//     a not-yet-valid certificate alike. No stack names a hostname
//     mismatch in its alert, so the hostname check is never read from
//     one.
//   - decrypt_error (51) is ambiguous: OpenSSL sends it both for a CA
//     signature that does not verify (chain validation) and for a
//     handshake signature that does not (the server lacks the
//     certificate's key: no defense switch), the others for the latter.
//   - certificate_unknown (46) and handshake_failure (40) appear in none of
//     these refusals; they are catch-alls with no one cause.
func ClassifyAlert(desc uint8) (defense string, ok bool) {
	switch desc {
	case 48: // unknown_ca
		return DefenseChainValidation, true
	case 43: // unsupported_certificate
		return DefenseChainValidation, true
	case 45: // certificate_expired
		return DefenseValidityCheck, true
	case 44: // certificate_revoked
		return DefenseRevocation, true
	case 70: // protocol_version
		return DefenseMinTLSVersion, true
	}
	return "", false
}

// timedOut reports whether every failed query of e timed out.
func timedOut(e *pki.RevocationUnavailableError) bool {
	if len(e.Failures) == 0 {
		return false
	}
	for _, f := range e.Failures {
		var ne net.Error
		if f.Err == nil || !(errors.Is(f.Err, context.DeadlineExceeded) || errors.As(f.Err, &ne) && ne.Timeout()) {
			return false
		}
	}
	return true
}

// invalidReason maps crypto/x509's CertificateInvalidError reasons: an
// expired (or not yet valid) certificate is the validity check, anything
// else (wrong key usage, a CA not allowed to sign, name constraints) is
// chain validation.
func invalidReason(r x509.InvalidReason) string {
	if r == x509.Expired {
		return DefenseValidityCheck
	}
	return DefenseChainValidation
}

// On reports whether the switch named name is on in d: a switch whose
// value is not "off" (revocation soft-fail and hard-fail are on), the ARP
// policy when stricter than accept-any, and the minimum TLS version always
// (it is a floor, weakened rather than switched off), and a defense added
// by RegisterDefense always. Unknown names are off.
func (d Defenses) On(name string) bool {
	s, ok := SwitchNamed(name)
	switch {
	case !ok:
		return isRegisteredDefense(name)
	case name == DefenseMinTLSVersion:
		return true
	case name == DefenseARPPolicy:
		return d.ARPPolicy != netsim.ARPAcceptAny
	}
	return s.Value(d) != "off"
}

// CipherSuiteDefense returns the defense switch that leaves suite out of
// the clients' and servers' TLS 1.0-1.2 suites (TLSPolicy.CipherSuites),
// for a peer that refused a handshake at that suite ("tls: server chose
// an unconfigured cipher suite"): forward-secrecy-only for the static-RSA
// key exchange suites it adds when off, min-tls-version for the ECDHE CBC
// suites a floor below TLS 1.2 adds. ok is false for a suite no switch
// ever allows (3DES, RC4, CBC with SHA-256): the lab's fixed policy
// refuses it, which no switch can be credited with.
func CipherSuiteDefense(suite uint16) (defense string, ok bool) {
	off := Hardened()
	off.ForwardSecrecyOnly = false
	if slices.Contains(TLSPolicy{Defenses: off}.CipherSuites(), suite) && !slices.Contains(TLSPolicy{Defenses: Hardened()}.CipherSuites(), suite) {
		return DefenseForwardSecrecyOnly, true
	}
	low := Hardened()
	low.MinTLSVersion = tls.VersionTLS10
	if slices.Contains(TLSPolicy{Defenses: low}.CipherSuites(), suite) && !slices.Contains(TLSPolicy{Defenses: Hardened()}.CipherSuites(), suite) {
		return DefenseMinTLSVersion, true
	}
	return "", false
}

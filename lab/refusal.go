package lab

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
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
// itself), so it can only be credited against an attempt, never against an
// attacker already in position.
func positioning(defense string) bool {
	switch defense {
	case DefenseARPPolicy, DefenseDNSSECValidation, DefenseDNSRandomization:
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
// ok false.
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
	switch {
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

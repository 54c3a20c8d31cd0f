package lab_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

func TestDecide(t *testing.T) {
	comp := []lab.Compromise{{Kind: lab.CompromiseCanary, Actor: "mallory", Line: "mallory: 1 of 1 canary in 5 B"}}
	inPos := []lab.MilestoneReached{{Milestone: lab.MilestoneInPosition, Actor: "mallory"}}
	tried := []lab.MilestoneReached{{Milestone: lab.MilestoneAttempted, Actor: "mallory"}}
	chain := []lab.Refusal{{Defense: lab.DefenseChainValidation, Host: "alice"}}
	chainThenRev := []lab.Refusal{{Defense: lab.DefenseChainValidation, Host: "alice"}, {Defense: lab.DefenseRevocation, Host: "alice"}, {Defense: lab.DefenseChainValidation, Host: "fe01"}}
	arp := []lab.Refusal{{Defense: lab.DefenseARPPolicy, Host: "alice"}}
	static := lab.Hardened()
	static.ARPPolicy = netsim.ARPStaticOnly
	chainOff := lab.Hardened()
	chainOff.ChainValidation = false
	boom := errors.New("boom")
	tests := []struct {
		name    string
		err     error
		o       lab.Observation
		want    lab.Verdict
		stopped []string
		reason  string // InconclusiveError reason, for Error without err
	}{
		{"run error wins over compromise", boom, lab.Observation{Attack: true, Compromises: comp}, lab.Error, nil, ""},
		{"compromise", nil, lab.Observation{Attack: true, Compromises: comp}, lab.Broken, nil, ""},
		{"compromise wins over refusal", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Compromises: comp, Refusals: chain, Milestones: inPos}, lab.Broken, nil, ""},
		{"refusal in position", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Refusals: chain, Milestones: inPos}, lab.Held, []string{"chain-validation"}, ""},
		{"refusals in order, deduplicated", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Refusals: chainThenRev, Milestones: inPos}, lab.Held, []string{"chain-validation", "revocation"}, ""},
		{"nothing observed", nil, lab.Observation{Attack: true, Defenses: lab.Hardened()}, lab.Error, nil, lab.ReasonNotCarriedOut},
		{"in position, no refusal", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Milestones: inPos}, lab.Error, nil, lab.ReasonNoDefense},
		{"refusal without the attack in position", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Refusals: chain, Milestones: tried}, lab.Error, nil, lab.ReasonNotCarriedOut},
		{"refusal without any milestone", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Refusals: chain}, lab.Error, nil, lab.ReasonNotCarriedOut},
		{"positioning defense against an attempt", nil, lab.Observation{Attack: true, Defenses: static, Refusals: arp, Milestones: tried}, lab.Held, []string{"arp-policy"}, ""},
		{"positioning defense, attacker in position anyway", nil, lab.Observation{Attack: true, Defenses: static, Refusals: arp, Milestones: append(tried, inPos...)}, lab.Error, nil, lab.ReasonNoDefense},
		{"positioning defense that is off is not credited", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Refusals: arp, Milestones: tried}, lab.Error, nil, lab.ReasonNotCarriedOut},
		{"attempt that never got in position, nothing refusing", nil, lab.Observation{Attack: true, Defenses: lab.Hardened(), Milestones: tried}, lab.Error, nil, lab.ReasonNotCarriedOut},
		{"a switched-off defense is never credited", nil, lab.Observation{Attack: true, Defenses: chainOff, Refusals: chain, Milestones: inPos}, lab.Error, nil, lab.ReasonNoDefense},
		{"baseline delivered", nil, lab.Observation{Delivered: true}, lab.Passed, nil, ""},
		{"baseline not delivered", nil, lab.Observation{}, lab.Error, nil, lab.ReasonNotDelivered},
		{"baseline refused", nil, lab.Observation{Delivered: true, Defenses: lab.Hardened(), Refusals: chain}, lab.Error, nil, lab.ReasonBaselineRefuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := lab.Decide(tt.err, tt.o)
			if j.Verdict != tt.want || !slices.Equal(j.StoppedBy, tt.stopped) {
				t.Fatalf("Decide = %q %q (err %v), want %q %q", j.Verdict, j.StoppedBy, j.Err, tt.want, tt.stopped)
			}
			var ie *lab.InconclusiveError
			switch {
			case tt.reason != "":
				if !errors.As(j.Err, &ie) || ie.Reason != tt.reason {
					t.Errorf("Err = %v, want inconclusive: %s", j.Err, tt.reason)
				}
			case tt.err != nil:
				if j.Err != tt.err {
					t.Errorf("Err = %v, want the run's error", j.Err)
				}
			case j.Err != nil:
				t.Errorf("Err = %v, want nil", j.Err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	chain := []string{"chain-validation", "revocation"}
	tests := []struct {
		observed  lab.Verdict
		stoppedBy []string
		expected  lab.Verdict
		decisive  string
		want      bool
	}{
		{lab.Held, chain, lab.Held, "chain-validation", true},
		{lab.Held, chain, lab.Held, "revocation", false},
		{lab.Held, nil, lab.Held, "chain-validation", false},
		{lab.Broken, nil, lab.Broken, "", true},
		{lab.Passed, nil, lab.Passed, "", true},
		{lab.Held, chain, lab.Broken, "", false},
		{lab.Broken, nil, lab.Held, "chain-validation", false},
		{lab.Error, nil, lab.Error, "", false},
		{lab.Error, nil, lab.Held, "chain-validation", false},
	}
	for _, tt := range tests {
		if got := lab.Matches(tt.observed, tt.stoppedBy, tt.expected, tt.decisive); got != tt.want {
			t.Errorf("Matches(%q %q, %q %q) = %v, want %v", tt.observed, tt.stoppedBy, tt.expected, tt.decisive, got, tt.want)
		}
	}
}

func TestClassifyRefusal(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sip: alice: MESSAGE: %w", err) }
	tests := []struct {
		name string
		err  error
		want string // "" for no refusal
	}{
		{"unknown authority", wrap(&tlsVerifyErr{x509.UnknownAuthorityError{}}), lab.DefenseChainValidation},
		{"hostname", wrap(x509.HostnameError{Host: "pool01.contoso.com"}), lab.DefenseHostnameCheck},
		{"expired", wrap(x509.CertificateInvalidError{Reason: x509.Expired}), lab.DefenseValidityCheck},
		{"wrong EKU", wrap(x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}), lab.DefenseChainValidation},
		{"revoked", wrap(&pki.RevokedError{}), lab.DefenseRevocation},
		{"revocation unavailable: no responder named", wrap(&pki.RevocationUnavailableError{}), lab.DefenseRevocation},
		{"revocation unavailable: reset", wrap(&pki.RevocationUnavailableError{Failures: []pki.Observation{
			{Err: syscall.ECONNRESET}, {Err: os.ErrDeadlineExceeded}}}), lab.DefenseRevocation},
		{"revocation unavailable: every query timed out", wrap(&pki.RevocationUnavailableError{Failures: []pki.Observation{
			{Err: os.ErrDeadlineExceeded}, {Err: context.DeadlineExceeded}}}), ""},
		{"trusted server list", wrap(&sip.UntrustedPeerError{Identity: "fe99.contoso.com"}), lab.DefenseTrustedServerList},
		{"allow-list", wrap(&sip.PartnerNotAllowedError{Domain: "litware.com"}), lab.DefenseFederationAllowList},
		{"SRV domain", wrap(&sip.SRVTargetError{Target: "sip.evil.com"}), lab.DefenseFederationSRVDomainMatch},
		{"no client certificate", errors.New("tls: client didn't provide a certificate"), lab.DefenseClientCertRequired},
		{"old version offered", errors.New("tls: client offered only unsupported versions: [301]"), lab.DefenseMinTLSVersion},
		{"remote alert", errors.New("remote error: tls: bad certificate"), ""},
		{"remote version alert", errors.New("remote error: tls: protocol version not supported"), ""},
		{"EOF", wrap(io.EOF), ""},
		{"timeout", wrap(context.DeadlineExceeded), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		got, ok := lab.ClassifyRefusal(tt.err)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: ClassifyRefusal = %q %v, want %q", tt.name, got, ok, tt.want)
		}
	}
}

// TestClassifyAlert checks every alert description: the five that name
// one defense, and no defense for the rest (bad_certificate,
// certificate_unknown, handshake_failure and decrypt_error among them).
func TestClassifyAlert(t *testing.T) {
	want := map[uint8]string{
		48: lab.DefenseChainValidation, // unknown_ca
		43: lab.DefenseChainValidation, // unsupported_certificate
		45: lab.DefenseValidityCheck,   // certificate_expired
		44: lab.DefenseRevocation,      // certificate_revoked
		70: lab.DefenseMinTLSVersion,   // protocol_version
	}
	for d := range 256 {
		got, ok := lab.ClassifyAlert(uint8(d))
		if got != want[uint8(d)] || ok != (want[uint8(d)] != "") {
			t.Errorf("ClassifyAlert(%d) = %q %v, want %q", d, got, ok, want[uint8(d)])
		}
	}
}

// tlsVerifyErr wraps an x509 error as crypto/tls's verification error does.
type tlsVerifyErr struct{ err error }

func (e *tlsVerifyErr) Error() string { return "tls: failed to verify certificate: " + e.err.Error() }
func (e *tlsVerifyErr) Unwrap() error { return e.err }

// The expectation never feeds the verdict: a scenario that expects "broken"
// but sees a defense refuse is held, and the mismatch is reported.
func TestExpectationDoesNotFeedVerdict(t *testing.T) {
	s := lab.Scenario{
		Name:     "eavesdrop/claims-broken",
		Summary:  "expects broken, observes a refusal",
		Attacker: "mallory",
		Expected: lab.Broken,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.NewCanary("alice")
			env.Evidence.Reached("mallory", lab.MilestoneInPosition, "captured alice's traffic")
			env.Evidence.Refused("alice", lab.DefenseTLSOnly, "sent only TLS records")
			env.Evidence.CanariesObtained("mallory", 0, 1, "0 B of captured TCP payload")
			return nil
		},
	}
	res := lab.Runner{}.Run(context.Background(), s)
	if res.Verdict != lab.Held || res.OK || !slices.Equal(res.StoppedBy, []string{"tls-only"}) {
		t.Fatalf("verdict %q %q ok=%v, want held [tls-only] ok=false (err %v)", res.Verdict, res.StoppedBy, res.OK, res.Err)
	}
	if res.Expected != lab.Broken {
		t.Errorf("Expected = %q, want broken", res.Expected)
	}
}

// Decide marks which refusals it credited: never one by a switch that is
// off, a positioning defense only while the attacker is not in position,
// any other only once the attacker is in position.
func TestDecideCredits(t *testing.T) {
	d := lab.Hardened()
	d.HostnameCheck = false
	d.ARPPolicy = netsim.ARPStaticOnly
	refusals := []lab.Refusal{
		{Defense: lab.DefenseHostnameCheck, Credited: true}, // off: never credited, whatever the input says
		{Defense: lab.DefenseARPPolicy},
		{Defense: lab.DefenseChainValidation},
	}
	for _, tt := range []struct {
		name       string
		milestones []lab.Milestone
		verdict    lab.Verdict
		stoppedBy  []string
		credited   []bool
	}{
		{"attempted only", []lab.Milestone{lab.MilestoneAttempted}, lab.Held, []string{"arp-policy"}, []bool{false, true, false}},
		{"in position after all", []lab.Milestone{lab.MilestoneAttempted, lab.MilestoneInPosition}, lab.Held, []string{"chain-validation"}, []bool{false, false, true}},
		{"nothing reached", nil, lab.Error, nil, []bool{false, false, false}},
	} {
		var ms []lab.MilestoneReached
		for _, m := range tt.milestones {
			ms = append(ms, lab.MilestoneReached{Milestone: m})
		}
		j := lab.Decide(nil, lab.Observation{Attack: true, Defenses: d, Milestones: ms, Refusals: refusals})
		var got []bool
		for _, r := range j.Refusals {
			got = append(got, r.Credited)
		}
		if j.Verdict != tt.verdict || !slices.Equal(j.StoppedBy, tt.stoppedBy) || !slices.Equal(got, tt.credited) {
			t.Errorf("%s: Decide = %s %q, credited %v; want %s %q, credited %v", tt.name, j.Verdict, j.StoppedBy, got, tt.verdict, tt.stoppedBy, tt.credited)
		}
	}
}

package autodiscover

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
)

// Kind is the kind of a discovery step.
type Kind int

const (
	// KindPinned is the manually configured pool: discovery skipped.
	KindPinned Kind = iota
	// KindAutodiscover is a GET of an autodiscover URL.
	KindAutodiscover
	// KindSRV is a DNS SRV lookup, or the check of one of its targets.
	KindSRV
	// KindHost is a DNS A lookup of a fallback name (sipinternal. etc.).
	KindHost
	// KindPrompt is the user asked to trust a pool outside the SIP domain,
	// or the Trusted Domain List answering for them.
	KindPrompt
)

func (k Kind) String() string {
	switch k {
	case KindPinned:
		return "pinned"
	case KindAutodiscover:
		return "autodiscover"
	case KindSRV:
		return "SRV"
	case KindHost:
		return "A"
	case KindPrompt:
		return "prompt"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Verdict is what came of a step.
type Verdict int

const (
	// Failed: the step got no usable answer (lookup, connection,
	// certificate, HTTP or document error); the chain goes on.
	Failed Verdict = iota
	// Skipped: the policy forbids the step (HTTP under HTTPSOnly).
	Skipped
	// Refused: the answer named a pool the policy does not accept (strict
	// DNS naming); the chain goes on.
	Refused
	// Offered: the answer named a pool that is still to be trusted (a
	// prompt step follows).
	Offered
	// Accepted: the step yielded the pool.
	Accepted
	// Declined: the user declined the prompt; discovery stops.
	Declined
)

func (v Verdict) String() string {
	switch v {
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	case Refused:
		return "refused"
	case Offered:
		return "offered"
	case Accepted:
		return "accepted"
	case Declined:
		return "declined"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Step is one step of the discovery chain: evidence of how the pool was
// found, or why a candidate was not used.
type Step struct {
	// Kind is what was done.
	Kind Kind
	// Asked is what was asked: the URL, the SRV record name, the host
	// name, or for a prompt the pool's FQDN.
	Asked string
	// From is who answered: the address and port the HTTP(S) request
	// went to (the address DNS gave). Zero for DNS steps (the stub does
	// not say which server answered) and when nothing was reached.
	From netip.AddrPort
	// Cert is the leaf certificate the server presented (HTTPS only),
	// whether or not it verified.
	Cert *x509.Certificate
	// CertErr is why Cert was not trusted; nil when it verified or when
	// there was none.
	CertErr error
	// Pool and Port are the candidate the step found; empty when none.
	Pool string
	Port uint16
	// UserLink is the answer's "user" link (autodiscover steps that
	// got one).
	UserLink string
	// Verdict is what came of it.
	Verdict Verdict
	// Reason explains the verdict in words (the policy rule that decided,
	// the error), for evidence and timelines.
	Reason string
}

// String renders the step on one line, e.g.
// "autodiscover https://lyncdiscoverinternal.contoso.com/...: from
// 10.0.0.30:443, cert lyncdiscoverinternal.contoso.com verified, pool
// pool01.contoso.com:5061: accepted (pool in the SIP domain)".
func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", s.Kind, s.Asked)
	if s.From.IsValid() {
		fmt.Fprintf(&b, " from %s,", s.From)
	}
	if s.Cert != nil {
		name := s.Cert.Subject.CommonName
		if len(s.Cert.DNSNames) > 0 {
			name = strings.Join(s.Cert.DNSNames, ",")
		}
		if s.CertErr != nil {
			fmt.Fprintf(&b, " cert %s rejected,", name)
		} else {
			fmt.Fprintf(&b, " cert %s verified,", name)
		}
	}
	if s.Pool != "" {
		fmt.Fprintf(&b, " pool %s:%d,", s.Pool, s.Port)
	}
	str := strings.TrimSuffix(b.String(), ",")
	if s.Reason != "" {
		return fmt.Sprintf("%s %s (%s)", str, s.Verdict, s.Reason)
	}
	return str + " " + s.Verdict.String()
}

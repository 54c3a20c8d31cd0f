package contoso

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/actors/wpad"
	"github.com/tlslab/tlslab/lab"
)

// SignInConfig declares one sign-in of alice's PC, as a Windows Skype for
// Business client makes it (Deployment.SignIn). It needs Config.Discovery.
type SignInConfig struct {
	// To and Body are the message sent once signed in (the run's canary
	// to dave@contoso.com, say).
	To, Body string
	// DHCP has the PC take its DNS server, domain and WPAD URL from a
	// DHCP lease first; false keeps the preset's static configuration
	// (DNS 10.0.0.53).
	DHCP bool
	// TrustedDomains is the Trusted Domain List the client holds when the
	// trusted-domains-empty defense is off: the domain an attacker
	// controls in the scenario. With the defense on it is ignored.
	TrustedDomains []string
	// LinkAttacked says an attacker answers LLMNR and NBT-NS on the link:
	// a name DNS denied that the PC did not ask there
	// (llmnr-nbtns-disabled, link-single-label-only) is then a refusal of
	// her, where otherwise it is a plain note.
	LinkAttacked bool
	// WPADAttacked says an attacker offers the PC a proxy (answering
	// "wpad", or option 252): the PC's not looking for one (wpad-disabled)
	// is then a refusal of her, where otherwise it is a plain note.
	WPADAttacked bool
}

// SignIn is what one sign-in did, step by step: the evidence of how the PC
// found its pool and its proxy, and whom it answered with NTLM.
type SignIn struct {
	// Lease is the DHCP lease taken; nil without SignInConfig.DHCP or when
	// none was.
	Lease *dhcp.Config
	// DNS is the DNS server the PC asked.
	DNS netip.Addr
	// Proxy is the proxy the PAC file chose for autodiscover ("host:port");
	// "" for none (direct).
	Proxy string
	// Pool is the result of discovery, with every step it took (nil when
	// it never ran); Pool.Pool is empty when discovery failed.
	Pool *autodiscover.Result
	// Message is the SIP client's result; nil when it never ran.
	Message *sip.Result
	// Err is where the sign-in stopped; nil when the message was sent.
	Err error

	mu    sync.Mutex
	steps []ChainStep
}

// ChainStep is one step of a sign-in.
type ChainStep struct {
	// At is when it happened, on the World clock.
	At time.Time
	// Phase is "dhcp", "name", "wpad", "autodiscover", "tls", "ntlm" or
	// "sip".
	Phase string
	// Text says what was asked, who answered and what came of it.
	Text string
	// Defense is the defense switch whose rule refused something at this
	// step ("" for none), and Cause the error that says why when the
	// defense is the certificate checks' (see lab.ClassifyRefusal).
	Defense string
	Cause   error
}

// Steps returns the sign-in's steps, in order.
func (s *SignIn) Steps() []ChainStep {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChainStep(nil), s.steps...)
}

func (s *SignIn) add(at time.Time, phase, defense, text string, cause error) {
	s.mu.Lock()
	s.steps = append(s.steps, ChainStep{At: at, Phase: phase, Text: text, Defense: defense, Cause: cause})
	s.mu.Unlock()
}

// Record writes the sign-in's steps as evidence lines of host "alice", at
// the times they happened: the discovery chain a timeline and `tlslab
// show --run` print. With attack, a step whose rule refused something is
// recorded as that defense's refusal; without (a baseline), as a note.
func (s *SignIn) Record(ev *lab.Evidence, attack bool) {
	for _, st := range s.Steps() {
		at, line := ev.At(st.At), st.Text
		if !strings.HasPrefix(line, st.Phase+" ") {
			line = st.Phase + ": " + line
		}
		if attack && st.Defense != "" {
			at.Refused(hostAlice, st.Defense, "%s", line)
			continue
		}
		at.Notef(hostAlice, "%s", line)
	}
}

// SignIn runs alice's sign-in: DHCP (when asked), Windows name
// resolution (DNS, then LLMNR and NBT-NS as the defenses allow), WPAD
// (unless disabled), the autodiscover chain (unless the pool is pinned),
// then SIP over TLS to the pool found, REGISTER with NTLM, and the message.
// The defenses decide every policy: HTTPS-only autodiscover, strict DNS
// naming, the Trusted Domain List, the user's answer to prompts, the link
// fallbacks, WPAD, and to whom NTLM is answered. It returns when the
// message was answered or the sign-in stopped (SignIn.Err); it never
// returns nil.
func (c *Deployment) SignIn(ctx context.Context, cfg SignInConfig) *SignIn {
	s := &SignIn{DNS: ipContosoDNS}
	s.Err = c.signIn(ctx, cfg, s)
	return s
}

func (c *Deployment) signIn(ctx context.Context, cfg SignInConfig, s *SignIn) error {
	if c.discovery == nil {
		return errors.New("lab: contoso: SignIn needs Config.Discovery")
	}
	now := c.env.World.Now
	h := c.hosts[hostAlice]
	cred := c.discovery.users[hostAlice]
	d := c.d

	// DHCP.
	if cfg.DHCP {
		lease, err := dhcp.Acquire(ctx, dhcp.ClientConfig{NIC: h.NICs()[0],
			OnOffer: func(server, addr netip.Addr, taken bool) {
				verb := "ignored (an earlier offer was taken)"
				if taken {
					verb = "taken"
				}
				s.add(now(), "dhcp", "", fmt.Sprintf("OFFER of %v from %v: %s", addr, server, verb), nil)
			}})
		if err != nil {
			s.add(now(), "dhcp", "", "no lease: "+err.Error(), nil)
			return err
		}
		s.Lease = lease
		if len(lease.DNS) > 0 {
			s.DNS = lease.DNS[0]
		}
		wpadURL := "none"
		if lease.WPAD != "" {
			wpadURL = lease.WPAD
		}
		s.add(now(), "dhcp", "", fmt.Sprintf("lease %v from %v: router %v, DNS %v, domain %q, WPAD (option 252) %s",
			lease.Addr, lease.Server, lease.Router, lease.DNS, lease.Domain, wpadURL), nil)
	}

	// Name resolution.
	txid, port := resolverPolicies(d)
	// The PC's trust anchors are its own, whichever server DHCP named.
	stub, err := dns.NewResolver(dns.ResolverConfig{Net: h, Servers: []netip.AddrPort{netip.AddrPortFrom(s.DNS, 53)},
		TXID: txid, SourcePort: port, Timeout: dnsTimeout(c.timeout), TrustAnchors: c.anchors[hostAlice],
		Rand: rand.NewPCG(c.env.World.Seed(), 0x5167e1),
		OnDropped: func(d dns.DroppedAnswer) {
			defense := ""
			if d.Reason == dns.DropValidation {
				defense = lab.DefenseDNSSECValidation
			}
			s.add(now(), "name", defense, "resolver dropped "+d.String(), nil)
		}})
	if err != nil {
		return err
	}
	q, err := winname.NewNetQuerier(winname.NetQuerierConfig{Net: h})
	if err != nil {
		return err
	}
	names, err := winname.NewResolver(winname.ResolverConfig{DNS: stub, Querier: q,
		LLMNR: !d.LLMNRNBTNSDisabled, NBTNS: !d.LLMNRNBTNSDisabled, LinkMultiLabel: !d.LinkSingleLabelOnly,
		SearchList: []string{contosoDomain},
		OnStep: func(st winname.Step) {
			defense := ""
			var na *winname.NotAskedError
			if errors.As(st.Err, &na) && cfg.LinkAttacked {
				defense = lab.DefenseLLMNRNBTNSDisabled
				if na.Rule == winname.MultiLabel {
					defense = lab.DefenseLinkSingleLabelOnly
				}
			}
			s.add(now(), "name", defense, st.String(), nil)
		}})
	if err != nil {
		return err
	}

	// WPAD.
	direct := autodiscover.Dialer(h)
	if d.WPADDisabled {
		defense := ""
		if cfg.WPADAttacked {
			defense = lab.DefenseWPADDisabled
		}
		s.add(now(), "wpad", defense, "automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)", nil)
	} else if proxy := c.findProxy(ctx, s, names, now); proxy != "" {
		s.Proxy = proxy
		direct = &ntlm.TunnelDialer{Dial: h.DialContext, Proxy: proxy, Credential: cred, Workstation: "ALICE-PC",
			Allow: func(o ntlm.Offer) error {
				if d.NTLMVerifiedServersOnly {
					err := fmt.Errorf("refused to answer the NTLM demand of proxy %s: a proxy is not a server whose certificate was verified", proxy)
					s.add(now(), "ntlm", lab.DefenseNTLMVerifiedServersOnly, err.Error(), nil)
					return err
				}
				return nil
			},
			OnAnswer: func(o ntlm.Offer) {
				s.add(now(), "ntlm", "", fmt.Sprintf("answered proxy %s's NTLM demand as %s", proxy, cred), nil)
			}}
	}

	// Autodiscover.
	base, err := c.ClientConfig(hostAlice, "alice@"+contosoDomain)
	if err != nil {
		return err
	}
	policy := autodiscover.Policy{HTTPSOnly: d.AutodiscoverHTTPSOnly, StrictDNSNaming: d.StrictDNSNaming,
		DeclinePrompts: d.DeclinePrompts}
	if !d.TrustedDomainsEmpty {
		policy.TrustedDomains = cfg.TrustedDomains
	}
	if d.PoolPinning {
		policy.PinnedPool = SIPName + fmt.Sprintf(":%d", PortSIPTLS)
	}
	reached := map[string]bool{} // autodiscover host -> its HTTPS step reached an address
	res, err := autodiscover.Discover(ctx, autodiscover.Config{SIPDomain: contosoDomain, Resolver: names, Dialer: direct,
		TLS: base.TLS, Time: now, StepTimeout: c.timeout, Policy: policy,
		OnStep: func(st autodiscover.Step) {
			host := urlHost(st.Asked)
			if strings.HasPrefix(st.Asked, "https://") {
				reached[host] = st.From.IsValid()
			}
			defense := discoveryDefense(st, d.PoolPinning)
			if st.Verdict == autodiscover.Skipped && !reached[host] {
				// Skipping HTTP for a name that led nowhere refuses
				// nothing: only a name that answered could be abused.
				defense = ""
			}
			s.add(now(), "autodiscover", defense, st.String(), st.CertErr)
		}})
	s.Pool = res
	if err != nil {
		return err
	}

	// SIP.
	verified := &sync.Map{} // server name -> true when its certificate verified
	base.Resolver = names
	base.Server = net.JoinHostPort(res.Pool, fmt.Sprint(res.Port))
	base.Credential, base.Workstation = &cred, "ALICE-PC"
	base.TLS = c.promptingTLS(base.TLS, d.DeclinePrompts, verified, func(text string) { s.add(now(), "tls", "", text, nil) })
	base.AllowNTLM = func(o sip.NTLMOffer) error {
		why := ""
		switch {
		case !d.NTLMVerifiedServersOnly:
		case o.TLS == nil:
			why = "plaintext SIP: the server is not authenticated"
		case !loaded(verified, o.Server):
			why = "its certificate was accepted at a prompt, not verified"
		}
		if why != "" {
			err := fmt.Errorf("refused to answer the NTLM demand of %s (%s): %s", o.Server, o.Addr, why)
			s.add(now(), "ntlm", lab.DefenseNTLMVerifiedServersOnly, err.Error(), nil)
			return err
		}
		s.add(now(), "ntlm", "", fmt.Sprintf("answered the NTLM demand of %s (%s) as %s", o.Server, o.Addr, cred), nil)
		return nil
	}
	client, err := sip.NewClient(base)
	if err != nil {
		return err
	}
	s.Message, err = client.SendMessage(ctx, cfg.To, cfg.Body)
	if err != nil && d.TLSOnly {
		s.notePlaintextRefused(now(), s.Message)
	}
	if err != nil {
		defense, _ := lab.ClassifyRefusal(err)
		var refused *sip.NTLMRefusedError
		if errors.As(err, &refused) {
			defense = "" // recorded by AllowNTLM
		}
		s.add(now(), "sip", defense, err.Error(), err)
		return err
	}
	s.add(now(), "sip", "", fmt.Sprintf("registered with %s and sent the message to %s", base.Server, cfg.To), nil)
	return nil
}

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
// did not fall back to plaintext SIP (tls-only) when a TLS attempt reached
// an address and failed short of a certificate check: the pool's name led
// somewhere, and a client allowed to would have tried port 5060 there.
func (s *SignIn) notePlaintextRefused(at time.Time, res *sip.Result) {
	if res == nil {
		return
	}
	for _, a := range res.Attempts {
		if a.Err == nil || a.Transport != sip.TransportTLS || !a.Addr.IsValid() {
			continue
		}
		if _, cert := lab.ClassifyRefusal(a.Err); cert {
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
func (c *Deployment) promptingTLS(base *tls.Config, decline bool, verified *sync.Map, note func(string)) *tls.Config {
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

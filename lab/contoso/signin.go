package contoso

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/actors/winname"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
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
	// HTTPAttacked says an attacker answers plain-HTTP autodiscover: a
	// plain-HTTP URL the PC skipped (autodiscover-https-only) whose name
	// led to an address is then a refusal of her, where otherwise it is a
	// plain note.
	HTTPAttacked bool
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
		if !strings.HasPrefix(line, st.Phase+" ") && !strings.HasPrefix(line, st.Phase+":") {
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

// signIn is one sign-in under way: the PC, its user, the policies the
// defenses set, and where the steps go.
type signIn struct {
	c    *Deployment
	cfg  SignInConfig
	s    *SignIn
	d    lab.Defenses
	host *netsim.Host
	cred ntlm.Credential
	now  func() time.Time
}

func (c *Deployment) signIn(ctx context.Context, cfg SignInConfig, s *SignIn) error {
	if c.discovery == nil {
		return errors.New("lab: contoso: SignIn needs Config.Discovery")
	}
	in := &signIn{c: c, cfg: cfg, s: s, d: c.d, host: c.hosts[hostAlice], cred: c.discovery.users[hostAlice], now: c.env.World.Now}
	if cfg.DHCP {
		if err := in.lease(ctx); err != nil {
			return err
		}
	}
	names, err := in.resolver()
	if err != nil {
		return err
	}
	dialer := in.proxy(ctx, names)
	base, err := c.ClientConfig(hostAlice, "alice@"+contosoDomain)
	if err != nil {
		return err
	}
	res, err := in.discover(ctx, names, dialer, base.TLS)
	if err != nil {
		return err
	}
	if res.UserLink != "" {
		in.webSignIn(ctx, names, dialer, base.TLS, res.UserLink)
	}
	return in.send(ctx, base, names, res)
}

// step records one step at the World's time.
func (in *signIn) step(phase, defense, text string, cause error) {
	in.s.add(in.now(), phase, defense, text, cause)
}

// lease takes a DHCP lease, and with it the DNS server to ask.
func (in *signIn) lease(ctx context.Context) error {
	lease, err := dhcp.Acquire(ctx, dhcp.ClientConfig{NIC: in.host.NICs()[0],
		OnOffer: func(server, addr netip.Addr, taken bool) {
			verb := "ignored (an earlier offer was taken)"
			if taken {
				verb = "taken"
			}
			in.step("dhcp", "", fmt.Sprintf("OFFER of %v from %v: %s", addr, server, verb), nil)
		}})
	if err != nil {
		in.step("dhcp", "", "no lease: "+err.Error(), nil)
		return err
	}
	in.s.Lease = lease
	if len(lease.DNS) > 0 {
		in.s.DNS = lease.DNS[0]
	}
	wpadURL := "none"
	if lease.WPAD != "" {
		wpadURL = lease.WPAD
	}
	in.step("dhcp", "", fmt.Sprintf("lease %v from %v: router %v, DNS %v, domain %q, WPAD (option 252) %s",
		lease.Addr, lease.Server, lease.Router, lease.DNS, lease.Domain, wpadURL), nil)
	return nil
}

// resolver builds the PC's Windows resolver: its DNS stub (asking the
// server the lease named, validating with the PC's own trust anchors),
// then LLMNR and NBT-NS as the defenses allow.
func (in *signIn) resolver() (*winname.Resolver, error) {
	txid, port := resolverPolicies(in.d)
	stub, err := dns.NewResolver(dns.ResolverConfig{Net: in.host, Servers: []netip.AddrPort{netip.AddrPortFrom(in.s.DNS, 53)},
		TXID: txid, SourcePort: port, Timeout: dnsTimeout(in.c.timeout), TrustAnchors: in.c.anchors[hostAlice],
		Rand: rand.NewPCG(in.c.env.World.Seed(), 0x5167e1),
		OnDropped: func(d dns.DroppedAnswer) {
			defense := ""
			if d.Reason == dns.DropValidation {
				defense = lab.DefenseDNSSECValidation
			}
			in.step("name", defense, "resolver dropped "+d.String(), nil)
		}})
	if err != nil {
		return nil, err
	}
	// Windows 8 and later retry an unanswered LLMNR query after 410 ms
	// and wait 410 ms more (MS-LLMNRP 3.1.2); NetBT broadcasts a name
	// query three times, 750 ms apart (BcastNameQueryCount,
	// BcastQueryTimeout).
	q, err := winname.NewNetQuerier(winname.NetQuerierConfig{Net: in.host,
		LLMNRTimeout: 410 * time.Millisecond, LLMNRTries: 2, NBNSTimeout: 750 * time.Millisecond, NBNSTries: 3})
	if err != nil {
		return nil, err
	}
	return winname.NewResolver(winname.ResolverConfig{DNS: stub, Querier: q,
		LLMNR: !in.d.LLMNRNBTNSDisabled, NBTNS: !in.d.LLMNRNBTNSDisabled, LinkMultiLabel: !in.d.LinkSingleLabelOnly,
		SearchList: []string{contosoDomain},
		OnStep: func(st winname.Step) {
			defense := ""
			var na *winname.NotAskedError
			if errors.As(st.Err, &na) && in.cfg.LinkAttacked {
				defense = lab.DefenseLLMNRNBTNSDisabled
				if na.Rule == winname.MultiLabel {
					defense = lab.DefenseLinkSingleLabelOnly
				}
			}
			in.step("name", defense, st.String(), nil)
		}})
}

// proxy runs WPAD unless it is disabled and returns how autodiscover
// connects: directly, or through the proxy the PAC file chose, answering
// its NTLM demand as the defenses allow.
func (in *signIn) proxy(ctx context.Context, names *winname.Resolver) autodiscover.Dialer {
	if in.d.WPADDisabled {
		defense := ""
		if in.cfg.WPADAttacked {
			defense = lab.DefenseWPADDisabled
		}
		in.step("wpad", defense, "automatic proxy detection is off: no proxy looked for (no option 252, no \"wpad\" lookup)", nil)
		return in.host
	}
	proxy := in.c.findProxy(ctx, in.s, names, in.now)
	if proxy == "" {
		return in.host
	}
	in.s.Proxy = proxy
	return &ntlm.TunnelDialer{Dial: in.host.DialContext, Proxy: proxy, Credential: in.cred, Workstation: workstation,
		Allow: func(ntlm.Offer) error {
			if !in.d.NTLMVerifiedServersOnly {
				return nil
			}
			err := fmt.Errorf("refused to answer the NTLM demand of proxy %s: a proxy is not a server whose certificate was verified", proxy)
			in.step("ntlm", lab.DefenseNTLMVerifiedServersOnly, err.Error(), nil)
			return err
		},
		OnAnswer: func(ntlm.Offer) {
			in.step("ntlm", "", fmt.Sprintf("answered proxy %s's NTLM demand as %s", proxy, in.cred), nil)
		}}
}

// discover runs the autodiscover chain under the defenses' policy.
func (in *signIn) discover(ctx context.Context, names *winname.Resolver, dialer autodiscover.Dialer, tlsCfg *tls.Config) (*autodiscover.Result, error) {
	d := in.d
	policy := autodiscover.Policy{HTTPSOnly: d.AutodiscoverHTTPSOnly, StrictDNSNaming: d.StrictDNSNaming,
		DeclinePrompts: d.DeclinePrompts}
	if !d.TrustedDomainsEmpty {
		policy.TrustedDomains = in.cfg.TrustedDomains
	}
	if d.PoolPinning {
		policy.PinnedPool = net.JoinHostPort(SIPName, fmt.Sprint(PortSIPTLS))
	}
	reached := map[string]bool{} // autodiscover host -> its HTTPS step reached an address
	res, err := autodiscover.Discover(ctx, autodiscover.Config{SIPDomain: contosoDomain, Resolver: names, Dialer: dialer,
		TLS: tlsCfg, Time: in.now, StepTimeout: autodiscoverStepTimeout(in.c.timeout), Policy: policy,
		OnStep: func(st autodiscover.Step) {
			host := urlHost(st.Asked)
			if strings.HasPrefix(st.Asked, "https://") {
				reached[host] = st.From.IsValid()
			}
			defense := discoveryDefense(st, d.PoolPinning)
			if st.Verdict == autodiscover.Skipped && (!reached[host] || !in.cfg.HTTPAttacked) {
				// Skipping HTTP refuses an attack only where one
				// waits: a name that led to an address, with an
				// attacker answering plain HTTP.
				defense = ""
			}
			in.step("autodiscover", defense, st.String(), st.CertErr)
		}})
	in.s.Pool = res
	return res, err
}

// webSignIn asks the autodiscover answer's user resource, as the client
// does to sign in to the pool's web services, answering its NTLM demand as
// the defenses allow: only over HTTPS (the transport verified the
// certificate) while ntlm-verified-servers-only is on. Its outcome is a
// step; SIP sign-in goes on either way.
func (in *signIn) webSignIn(ctx context.Context, names *winname.Resolver, dialer autodiscover.Dialer, tlsCfg *tls.Config, link string) {
	u, err := url.Parse(link)
	if err != nil {
		in.step("web", "", fmt.Sprintf("user link %q: %v", link, err), nil)
		return
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := names.LookupNetIP(ctx, "ip4", host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("no address for %s: %v", host, err)
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
	}
	base := &http.Transport{DialContext: dial, TLSClientConfig: tlsCfg.Clone(), DisableCompression: true}
	defer base.CloseIdleConnections()
	client := &http.Client{Timeout: autodiscoverStepTimeout(in.c.timeout), Transport: &ntlm.Transport{Base: base,
		Credential: in.cred, Workstation: workstation,
		Allow: func(o ntlm.Offer) error {
			if !in.d.NTLMVerifiedServersOnly || o.Request.URL.Scheme == "https" {
				return nil
			}
			err := fmt.Errorf("refused to answer the NTLM demand of %s: plain HTTP, the server is not authenticated", o.Request.URL.Host)
			in.step("ntlm", lab.DefenseNTLMVerifiedServersOnly, err.Error(), nil)
			return err
		},
		OnAnswer: func(o ntlm.Offer) {
			in.step("ntlm", "", fmt.Sprintf("answered the NTLM demand of %s://%s as %s", o.Request.URL.Scheme, o.Request.URL.Host, in.cred), nil)
		}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		in.step("web", "", fmt.Sprintf("GET %s: %v", link, err), nil)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		in.step("web", "", fmt.Sprintf("GET %s: %v", link, err), nil)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	in.step("web", "", fmt.Sprintf("GET %s: %s", link, resp.Status), nil)
}

// send registers with the pool found, answering its NTLM demand as the
// defenses allow, and sends the message.
func (in *signIn) send(ctx context.Context, base sip.ClientConfig, names *winname.Resolver, res *autodiscover.Result) error {
	d := in.d
	verified := &sync.Map{} // server name -> true when its certificate verified
	base.Resolver = names
	base.Server = net.JoinHostPort(res.Pool, fmt.Sprint(res.Port))
	base.Credential, base.Workstation = &in.cred, workstation
	base.TLS = promptingTLS(base.TLS, d.DeclinePrompts, verified, func(text string) { in.step("tls", "", text, nil) })
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
			in.step("ntlm", lab.DefenseNTLMVerifiedServersOnly, err.Error(), nil)
			return err
		}
		in.step("ntlm", "", fmt.Sprintf("answered the NTLM demand of %s (%s) as %s", o.Server, o.Addr, in.cred), nil)
		return nil
	}
	client, err := sip.NewClient(base)
	if err != nil {
		return err
	}
	in.s.Message, err = client.SendMessage(ctx, in.cfg.To, in.cfg.Body)
	if err == nil {
		in.step("sip", "", fmt.Sprintf("registered with %s and sent the message to %s", base.Server, in.cfg.To), nil)
		return nil
	}
	if d.TLSOnly {
		in.s.notePlaintextRefused(in.now(), in.s.Message)
	}
	defense, _ := lab.ClassifyRefusal(err)
	var refused *sip.NTLMRefusedError
	if errors.As(err, &refused) {
		defense = "" // recorded by AllowNTLM
	}
	in.step("sip", defense, err.Error(), err)
	return err
}

// autodiscoverStepTimeout bounds each autodiscover request: half the SIP
// bound, so that a chain whose four URLs hang still leaves the sign-in
// time to register within a run's deadline.
func autodiscoverStepTimeout(timeout time.Duration) time.Duration { return timeout / 2 }

// workstation is alice's PC's NetBIOS name, sent in NTLM AUTHENTICATE.
const workstation = "ALICE-PC"

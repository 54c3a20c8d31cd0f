package scenarios

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"sync"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// discoveryRun is one run of the family: the world, mallory's machine and
// what she runs, and what she captured.
type discoveryRun struct {
	p   discoveryParams
	env *lab.Env
	c   *contoso.Deployment

	mallory *netsim.Host
	nic     *netsim.NIC

	proxies []*attacker.Proxy    // her SIP pool
	spoofer *attacker.DNSSpoofer // on the path to dns01
	rogue   *mallorysDHCP        // her DHCP and DNS servers
	link    *mallorysLink        // Responder, PAC file, proxy

	mu       sync.Mutex
	captured []ntlm.Captured // NTLMv2 responses her servers received

	stops []func()
}

// run builds the world, puts mallory in place, has alice sign in and send
// dave a canary, then records the chain alice took and what mallory got.
func (p discoveryParams) run(ctx context.Context, env *lab.Env) error {
	c, err := p.topologyConfig().Build(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	r := &discoveryRun{p: p, env: env, c: c}
	defer r.stop()
	if err := r.placeMallory(ctx); err != nil {
		return err
	}
	canary := env.NewCanary("alice")
	in := c.SignIn(ctx, contoso.SignInConfig{
		DHCP: true, To: dnsDave, Body: fmt.Sprintf("alice to %s: code word %s", dnsDave, canary),
		TrustedDomains: []string{discMalloryDomain},
		HTTPAttacked:   p.attack == discAutodiscoverHTTP || p.attack == discWPADRewrite,
		LinkAttacked:   p.attack == discLinkPoison || p.attack == discWPADNTLM || p.attack == discWPADRewrite,
		WPADAttacked:   p.attack == discWPADNTLM || p.attack == discWPADRewrite,
	})
	r.observe(ctx, in, canary)
	return context.Cause(ctx)
}

func (r *discoveryRun) stop() {
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
}

// capture is every NTLM front of mallory's: capture-only, recording each
// response.
func (r *discoveryRun) capture(proxy bool) (*ntlm.Server, error) {
	return ntlm.NewServer(ntlm.ServerConfig{Now: r.env.World.Now, Proxy: proxy,
		Target: ntlm.Target{NetBIOSDomain: contoso.NetBIOSDomain, NetBIOSComputer: "MALLORY-PC"},
		OnCapture: func(c ntlm.Captured) {
			r.mu.Lock()
			r.captured = append(r.captured, c)
			r.mu.Unlock()
		}})
}

// placeMallory attaches her machine and starts what the attack needs.
func (r *discoveryRun) placeMallory(ctx context.Context) error {
	c := r.c
	if h := c.Host(discMalloryPC); h != nil {
		r.mallory, r.nic = h, h.NICs()[0]
	} else {
		h, nic, err := c.AttachHost("mallory", "contoso-lan", discMalloryAddr, false)
		if err != nil {
			return err
		}
		r.mallory, r.nic = h, nic
	}
	me := discMalloryAddr.Addr()
	switch r.p.attack {
	case discAutodiscoverHTTP:
		cert, err := r.issuePublic(discMalloryPool)
		if err != nil {
			return err
		}
		if err := r.startPool(ctx, attacker.FixedCertificate("public certificate for "+discMalloryPool, cert)); err != nil {
			return err
		}
		if err := r.startAutodiscover(ctx, autodiscover.PortHTTP, nil, discMalloryPool); err != nil {
			return err
		}
		return r.spoof(attacker.DNSForgery{A: me, Names: append(autodiscover.WebNames(contoso.Domain), discMalloryPool)})
	case discSRVInsider:
		cred, ok := c.Credential(discMalloryPC)
		if !ok {
			return fmt.Errorf("scenarios: no certificate for %s", discMalloryPC)
		}
		if err := r.startPool(ctx, attacker.OwnCertificate(cred)); err != nil {
			return err
		}
		return r.spoof(attacker.DNSForgery{Names: []string{"_sipinternaltls._tcp." + contoso.Domain},
			SRVTarget: discMalloryPC + "." + contoso.Domain, SRVPort: contoso.PortSIPTLS})
	case discSRVSubdomain:
		cert, err := r.issuePublic(discSubdomainSIP)
		if err != nil {
			return err
		}
		if err := r.startPool(ctx, attacker.FixedCertificate("public certificate for "+discSubdomainSIP, cert)); err != nil {
			return err
		}
		return r.spoof(attacker.DNSForgery{Names: []string{"_sipinternaltls._tcp." + contoso.Domain, discSubdomainSIP},
			A: me, SRVTarget: discSubdomainSIP, SRVPort: contoso.PortSIPTLS})
	case discRogueDHCP:
		forged := attacker.ForgedByCA(c.CA("attacker"), contoso.SIPName)
		if err := r.startPool(ctx, forged); err != nil {
			return err
		}
		if err := r.startAutodiscover(ctx, autodiscover.PortHTTPS, forged, contoso.SIPName); err != nil {
			return err
		}
		return r.startRogueDHCP(ctx, attacker.DNSForgery{A: me, SRVTarget: contoso.SIPName, SRVPort: contoso.PortSIPTLS})
	case discRogueRegistrar:
		if err := r.startPlainRegistrar(ctx); err != nil {
			return err
		}
		return r.startRogueDHCP(ctx, attacker.DNSForgery{A: me, SRVTarget: contoso.SIPName, SRVPort: contoso.PortSIPTLS,
			Names: []string{"_sipinternaltls._tcp." + contoso.Domain, "_sip._tls." + contoso.Domain, contoso.SIPName}})
	case discLinkPoison:
		if err := r.startAutodiscover(ctx, autodiscover.PortHTTPS, attacker.ForgedByCA(c.CA("attacker"), contoso.SIPName), contoso.SIPName); err != nil {
			return err
		}
		return r.startLink(ctx, linkConfig{})
	case discWPADNTLM:
		return r.startLink(ctx, linkConfig{pac: true, ntlm: true})
	case discWPADRewrite:
		cred, ok := c.Credential(discMalloryPC)
		if !ok {
			return fmt.Errorf("scenarios: no certificate for %s", discMalloryPC)
		}
		if err := r.startPool(ctx, attacker.OwnCertificate(cred)); err != nil {
			return err
		}
		if err := r.startAutodiscover(ctx, discRewritePort, nil, discMalloryPC+"."+contoso.Domain); err != nil {
			return err
		}
		return r.startLink(ctx, linkConfig{pac: true, rewrite: true, nbnsOnly: true})
	}
	return fmt.Errorf("scenarios: unknown discovery attack %d", r.p.attack)
}

// issuePublic has the public CA issue mallory a certificate for name, as
// a CA validating her control of the domain does.
func (r *discoveryRun) issuePublic(name string) (tls.Certificate, error) {
	cred, err := r.c.CA("public-issuing").Issue(pki.CertRequest{DNSNames: []string{name}})
	if err != nil {
		return tls.Certificate{}, err
	}
	return cred.TLS, nil
}

// spoof puts her DNS spoofer on the path to dns01, answering f.
func (r *discoveryRun) spoof(f attacker.DNSForgery) error {
	if spooferSilent(r.env) {
		return nil
	}
	s, err := attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{Forgery: f,
		Servers: []netip.Addr{r.c.Host("dns01").Addr()}, HoldQueries: dnsQueryHold})
	if err != nil {
		return err
	}
	r.spoofer = s
	r.stops = append(r.stops, s.AttachSegmentVia(r.c.Segment("contoso-lan"), r.nic))
	return nil
}

// startPlainRegistrar runs her plaintext registrar on 5060, demanding
// NTLM.
func (r *discoveryRun) startPlainRegistrar(ctx context.Context) error {
	return r.startRegistrar(ctx, portPlain, attacker.VictimPlain{}, contoso.SIPName)
}

// startPool runs her SIP pool on 5061, TLS with certs.
func (r *discoveryRun) startPool(ctx context.Context, certs attacker.CertSource) error {
	return r.startRegistrar(ctx, contoso.PortSIPTLS, attacker.VictimTLS{Certs: certs, KeyLogWriter: r.env.KeyLog}, "")
}

// startRegistrar runs her registrar on port, playing victim to alice: it
// demands NTLM on REGISTER (naming itself target, "" for what alice
// dialled), captures the answer, and answers 200 to the rest.
func (r *discoveryRun) startRegistrar(ctx context.Context, port uint16, victim attacker.VictimSide, target string) error {
	auth, err := r.capture(false)
	if err != nil {
		return err
	}
	px, err := attacker.NewProxy(attacker.ProxyConfig{Host: r.mallory, Port: port, SIP: true,
		Victim: sabotagedVictim(r.env, victim), Upstream: attacker.SIPResponder{NTLM: auth, TargetName: target}})
	if err != nil {
		return err
	}
	if err := px.Start(ctx); err != nil {
		return err
	}
	r.stops = append(r.stops, func() { px.Close() })
	r.proxies = append(r.proxies, px)
	return nil
}

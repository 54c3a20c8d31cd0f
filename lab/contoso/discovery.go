package contoso

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/tlslab/tlslab/actors/autodiscover"
	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/wpad"
)

// NetBIOSDomain is contoso's NetBIOS domain name, the domain of its users'
// NTLM credentials.
const NetBIOSDomain = "CONTOSO"

// ProxyPAC is the PAC file proxy01 serves: intranet names direct,
// everything else through proxy01.
const ProxyPAC = `function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".contoso.com")) {
    return "DIRECT";
  }
  return "PROXY proxy01.contoso.com:8080";
}
`

// discardLog keeps net/http's complaints about connections the World cut
// out of the run's output.
var discardLog = log.New(io.Discard, "", 0)

// discoveryServices is what startDiscovery started, for scenarios to read.
type discoveryServices struct {
	cfg      Discovery
	users    map[string]ntlm.Credential // "alice" -> credential
	dhcp     *dhcp.Server
	proxy    *wpad.Proxy
	pac      *wpad.PACServer
	authMu   sync.Mutex
	authLog  []ntlm.Result // every NTLM verdict of contoso's servers
	autodisc *autodiscover.Service
	snoop    *snooping // nil when DHCP snooping is off
}

// buildDiscovery starts Config.Discovery's services; it does nothing when
// the config has none.
func (c *Deployment) buildDiscovery() error {
	if c.plan.cfg.Discovery == nil {
		return nil
	}
	d := &discoveryServices{cfg: *c.plan.cfg.Discovery, users: map[string]ntlm.Credential{}}
	c.discovery = d
	for _, u := range c.plan.users {
		name, domain, _ := strings.Cut(u.user, "@")
		if domain != contosoDomain {
			continue
		}
		// The password is a canary: should it ever cross the wire in
		// clear, the canary search finds it like any other.
		pw := c.env.NewCanary(name + "'s password")
		d.users[name] = ntlm.Credential{User: name, Domain: NetBIOSDomain, Password: ntlm.PasswordOf(pw.Token)}
	}
	for _, start := range []func(*discoveryServices) error{c.startSnooping, c.startAutodiscover, c.startDHCP, c.startProxy} {
		if err := start(d); err != nil {
			return err
		}
	}
	return nil
}

// UserCredential returns user's ("alice") NTLM credential, whose password
// was drawn for this run; ok is false without Config.Discovery or for a
// user who is not contoso's.
func (c *Deployment) UserCredential(user string) (ntlm.Credential, bool) {
	if c.discovery == nil {
		return ntlm.Credential{}, false
	}
	cred, ok := c.discovery.users[user]
	return cred, ok
}

// NTLMResults returns every NTLM verdict contoso's own servers (the
// proxy, the Front Ends) reached so far, in order.
func (c *Deployment) NTLMResults() []ntlm.Result {
	if c.discovery == nil {
		return nil
	}
	c.discovery.authMu.Lock()
	defer c.discovery.authMu.Unlock()
	return append([]ntlm.Result(nil), c.discovery.authLog...)
}

// DHCPLeases returns the leases dns01's DHCP server granted.
func (c *Deployment) DHCPLeases() []dhcp.Lease {
	if c.discovery == nil || c.discovery.dhcp == nil {
		return nil
	}
	return c.discovery.dhcp.Leases()
}

// ProxyRequests returns the requests proxy01 handled.
func (c *Deployment) ProxyRequests() []wpad.ProxyRequest {
	if c.discovery == nil || c.discovery.proxy == nil {
		return nil
	}
	return c.discovery.proxy.Requests()
}

// ntlmServer returns an NTLM front checking contoso's directory, named as
// the server on host, reporting to the deployment's log.
func (c *Deployment) ntlmServer(d *discoveryServices, host string, proxy bool) (*ntlm.Server, error) {
	var users []ntlm.Credential
	for _, name := range []string{"alice", "bob", "dave"} {
		if u, ok := d.users[name]; ok {
			users = append(users, u)
		}
	}
	return ntlm.NewServer(ntlm.ServerConfig{
		Users: users, Now: c.env.World.Now, Proxy: proxy,
		Target: ntlm.Target{NetBIOSDomain: NetBIOSDomain, NetBIOSComputer: strings.ToUpper(host),
			DNSDomain: contosoDomain, DNSComputer: host + "." + contosoDomain},
		OnResult: func(r ntlm.Result) {
			d.authMu.Lock()
			d.authLog = append(d.authLog, r)
			d.authMu.Unlock()
		},
	})
}

// startAutodiscover serves autodiscover on fe01 (HTTPS, and HTTP when
// configured) and on edge01's external side (HTTPS).
func (c *Deployment) startAutodiscover(d *discoveryServices) error {
	svc, err := autodiscover.NewService(autodiscover.ServiceConfig{SIPDomain: contosoDomain, WebServices: WebServicesName,
		Internal: autodiscover.PoolAccess{FQDN: Pool, Port: PortSIPTLS},
		External: autodiscover.PoolAccess{FQDN: SIPName, Port: PortSIPTLS}})
	if err != nil {
		return err
	}
	d.autodisc = svc
	for _, site := range []struct {
		host, cert string
		ip         netip.Addr
		http       bool
	}{
		{hostFE01, certFE01Web, ipFE01, d.cfg.AutodiscoverHTTP},
		{hostEdge01, certEdge01Web, ipEdgeExternal, false},
	} {
		cfg, err := c.ServerTLS(site.cert)
		if err != nil {
			return err
		}
		// The user resource asks for NTLM; the root answers anyone.
		auth, err := c.ntlmServer(d, site.host, false)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/", svc)
		mux.Handle(autodiscover.UserPath, auth.Wrap(svc))
		if err := c.serveHTTP(site.host, netip.AddrPortFrom(site.ip, autodiscover.PortHTTPS), cfg, caseless(mux), auth); err != nil {
			return err
		}
		if site.http {
			if err := c.serveHTTP(site.host, netip.AddrPortFrom(site.ip, autodiscover.PortHTTP), nil, svc, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// caseless routes by the lower-cased path, as IIS matches
// case-insensitively (clients ask /Autodiscover/AutodiscoverService.svc/...).
func caseless(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.ToLower(r.URL.Path)
		h.ServeHTTP(w, r2)
	})
}

// startDHCP runs dns01's DHCP server, leasing alice's PC its address.
func (c *Deployment) startDHCP(d *discoveryServices) error {
	h := c.hosts[hostDNS01]
	cfg := dhcp.ServerConfig{Host: h, Subnet: pfx(contosoLANPrefix), PoolFirst: AliceAddr, PoolLast: AliceAddr,
		Router: ipRouterLAN, DNS: []netip.Addr{ipContosoDNS}, Domain: contosoDomain}
	if d.cfg.DHCPWPAD {
		cfg.WPAD = "http://" + ProxyFQDN + "/wpad.dat"
	}
	srv, err := dhcp.NewServer(cfg)
	if err != nil {
		return err
	}
	pc, err := h.ListenPacket("udp", fmt.Sprintf(":%d", dhcp.ServerPort))
	if err != nil {
		return fmt.Errorf("lab: contoso: DHCP on %s: %w", hostDNS01, err)
	}
	d.dhcp = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(c.ctx, pc)
	}()
	c.onClose(func() {
		pc.Close()
		<-done
	})
	return nil
}

// startProxy runs proxy01: the NTLM proxy on :8080, the PAC file on :80.
func (c *Deployment) startProxy(d *discoveryServices) error {
	h := c.hosts[hostProxy01]
	px, err := wpad.NewProxy(wpad.ProxyConfig{Dialer: h, Resolver: c.resolvers[hostProxy01], DialTimeout: c.timeout})
	if err != nil {
		return err
	}
	pac, err := wpad.NewPACServer(wpad.PACServerConfig{Script: ProxyPAC})
	if err != nil {
		return err
	}
	d.proxy, d.pac = px, pac
	auth, err := c.ntlmServer(d, hostProxy01, true)
	if err != nil {
		return err
	}
	if err := c.serveHTTP(hostProxy01, netip.AddrPortFrom(ipProxy01, ProxyPort), nil, auth.Wrap(px), auth); err != nil {
		return err
	}
	return c.serveHTTP(hostProxy01, netip.AddrPortFrom(ipProxy01, 80), nil, pac, nil)
}

// serveHTTP serves handler on host at addr, over TLS when cfg is not nil,
// until Close; auth, when not nil, hears of closed connections.
func (c *Deployment) serveHTTP(host string, addr netip.AddrPort, cfg *tls.Config, handler http.Handler, auth *ntlm.Server) error {
	h := c.hosts[host]
	l, err := h.Listen("tcp", addr.String())
	if err != nil {
		return fmt.Errorf("lab: contoso: %s listening on %v: %w", host, addr, err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: c.timeout, IdleTimeout: c.timeout,
		ErrorLog: discardLog}
	if auth != nil {
		srv.ConnState = auth.ConnState
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			_ = err // the World closing under it; nothing to report
		}
	}()
	c.onClose(func() {
		_ = srv.Close()
		<-done
	})
	return nil
}

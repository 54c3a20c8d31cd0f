package wpad

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/winname"
)

// Dialer opens TCP connections. *netsim.Host satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Source is where the client learnt the PAC URL.
type Source int

const (
	// SourceNone: no PAC found.
	SourceNone Source = iota
	// SourceDHCP is DHCP option 252.
	SourceDHCP
	// SourceDNS is the name wpad.<domain> answered by DNS.
	SourceDNS
	// SourceLLMNR is the name "wpad" answered on the link by LLMNR.
	SourceLLMNR
	// SourceNBTNS is the name WPAD<00> answered by NBT-NS broadcast.
	SourceNBTNS
)

func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceDHCP:
		return "DHCP option 252"
	case SourceDNS:
		return "DNS"
	case SourceLLMNR:
		return "LLMNR"
	case SourceNBTNS:
		return "NBT-NS"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Step is one step of WPAD discovery.
type Step struct {
	// Source is the method tried: SourceDHCP, or for the name lookup the
	// protocol that answered (SourceDNS when nobody did).
	Source Source
	// Asked is what was asked: the option-252 URL, or the name "wpad"
	// (as given to the resolver).
	Asked string
	// Resolution is the name resolver's own steps for this step's lookup
	// (DNS, LLMNR, NBT-NS), when the resolver is a *winname.Resolver
	// (concurrent lookups by others on the same resolver would show here
	// too).
	Resolution []winname.Step
	// URL is the PAC URL fetched; empty when none was.
	URL string
	// From is the address and port the PAC was fetched from.
	From netip.AddrPort
	// ContentType is the answer's Content-Type.
	ContentType string
	// Err is why the step gave no PAC; nil when it did.
	Err error
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.Source, s.Asked)
	if s.URL != "" {
		fmt.Fprintf(&b, ": GET %s", s.URL)
	}
	if s.From.IsValid() {
		fmt.Fprintf(&b, " from %s", s.From)
	}
	if s.Err != nil {
		fmt.Fprintf(&b, ": %v", s.Err)
	} else {
		fmt.Fprintf(&b, ": PAC (%s)", s.ContentType)
	}
	return b.String()
}

// DiscoverConfig declares one WPAD discovery.
type DiscoverConfig struct {
	// DHCPURL is the URL of DHCP option 252 in the client's lease
	// (dhcp.Config.WPAD); empty means the lease has none.
	DHCPURL string
	// Resolver resolves names. Give the client's *winname.Resolver (with
	// the DNS suffix search list and its LLMNR/NBT-NS switches) to have
	// "wpad" asked of DNS as wpad.<suffix>, then of the link; a plain DNS
	// resolver is asked wpad.<Domain>. Required.
	Resolver dns.NameResolver
	// Domain is the primary DNS suffix, used when Resolver is not a
	// *winname.Resolver, e.g. "contoso.com".
	Domain string
	// Dialer fetches the PAC file. Required.
	Dialer Dialer
	// Timeout bounds each fetch; zero means 10 seconds.
	Timeout time.Duration
	// OnStep, when not nil, is called with each step as it is recorded.
	OnStep func(Step)
}

// Result is the PAC discovery found and how.
type Result struct {
	// PAC is the compiled file; nil when none was found.
	PAC *PAC
	// URL is where it was fetched from.
	URL string
	// Source is how the URL was learnt.
	Source Source
	// Steps are every step taken, in order.
	Steps []Step
}

// stepper is a resolver that records its steps (*winname.Resolver).
type stepper interface{ Steps() []winname.Step }

// maxPAC bounds a PAC file read.
const maxPAC = 1 << 20

// Discover looks for a PAC file as Windows' WinHTTP auto-proxy does: the
// URL of DHCP option 252 first; failing that (none offered, or its fetch
// failed), the name "wpad" through the resolver — DNS wpad.<suffix>,
// then LLMNR and NBT-NS when the resolver is a Windows one with them on —
// fetching http://<the name that answered>/wpad.dat ("wpad" itself after
// LLMNR or NBT-NS) from the address given. A fetch fails on a connection
// error, a status other than 200, a file larger than 1 MiB or one that
// does not Compile. When nothing is found Result.PAC is nil and Discover
// returns nil error: WPAD failing means "no proxy", not a fault. It
// returns an error only for a bad config or when ctx ends.
func Discover(ctx context.Context, cfg DiscoverConfig) (*Result, error) {
	if cfg.Resolver == nil || cfg.Dialer == nil {
		return nil, &ConfigError{What: "discover", Problem: "DiscoverConfig needs a Resolver and a Dialer (the client's resolver and netsim host)"}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	res := &Result{}
	record := func(s Step) {
		res.Steps = append(res.Steps, s)
		if cfg.OnStep != nil {
			cfg.OnStep(s)
		}
	}
	st, windows := cfg.Resolver.(stepper)
	// lookup resolves name, keeping the Windows resolver's own steps.
	lookup := func(step *Step, name string) (netip.Addr, error) {
		before := 0
		if windows {
			before = len(st.Steps())
		}
		addrs, err := cfg.Resolver.LookupNetIP(ctx, "ip4", name)
		if windows {
			step.Resolution = st.Steps()[before:]
		}
		if err == nil && len(addrs) == 0 {
			err = fmt.Errorf("no address for %s", name)
		}
		if err != nil {
			return netip.Addr{}, err
		}
		return addrs[0], nil
	}
	dhcp := Step{Source: SourceDHCP, Asked: cfg.DHCPURL}
	if cfg.DHCPURL == "" {
		dhcp.Asked, dhcp.Err = "(lease)", errNoOption
		record(dhcp)
	} else {
		u, err := url.Parse(cfg.DHCPURL)
		if err == nil && (u.Scheme != "http" || u.Hostname() == "") {
			err = fmt.Errorf("option 252 %q is not an http URL", cfg.DHCPURL)
		}
		if err == nil {
			var addr netip.Addr
			if addr, err = lookup(&dhcp, u.Hostname()); err == nil {
				dhcp.URL = u.String()
				res.PAC, err = cfg.fetch(ctx, &dhcp, addr, u)
			}
		}
		dhcp.Err = err
		record(dhcp)
		if err == nil {
			res.URL, res.Source = dhcp.URL, SourceDHCP
			return res, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	name := "wpad"
	if !windows {
		name = "wpad." + strings.Trim(cfg.Domain, ".")
	}
	step := Step{Source: SourceDNS, Asked: name}
	addr, err := lookup(&step, name)
	host := name
	if n := len(step.Resolution); n > 0 && err == nil {
		switch last := step.Resolution[n-1]; last.Protocol {
		case winname.LLMNR:
			step.Source = SourceLLMNR
		case winname.NBTNS:
			step.Source = SourceNBTNS
		default:
			host = last.Name
		}
	}
	if err == nil {
		u := &url.URL{Scheme: "http", Host: strings.TrimSuffix(host, "."), Path: "/wpad.dat"}
		step.URL = u.String()
		res.PAC, err = cfg.fetch(ctx, &step, addr, u)
	}
	step.Err = err
	record(step)
	if err == nil {
		res.URL, res.Source = step.URL, step.Source
	}
	return res, ctx.Err()
}

// errNoOption is the DHCP step's failure when the lease has no URL.
var errNoOption = fmt.Errorf("the lease has no option 252")

// fetch GETs u from addr and compiles the answer, noting in step who
// answered and with what Content-Type.
func (cfg DiscoverConfig) fetch(ctx context.Context, step *Step, addr netip.Addr, u *url.URL) (*PAC, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	port := uint16(80)
	if p := u.Port(); p != "" {
		var n int
		if _, err := fmt.Sscan(p, &n); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("bad port in %s", u)
		}
		port = uint16(n)
	}
	step.From = netip.AddrPortFrom(addr.Unmap(), port)
	conn, err := cfg.Dialer.DialContext(ctx, "tcp", step.From.String())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "WinHttp-Autoproxy-Service/5.1")
	req.Close = true
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("HTTP request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, fmt.Errorf("HTTP response: %w", err)
	}
	defer resp.Body.Close()
	step.ContentType = resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPAC+1))
	if err != nil {
		return nil, fmt.Errorf("HTTP body: %w", err)
	}
	if len(body) > maxPAC {
		return nil, fmt.Errorf("PAC file larger than %d bytes", maxPAC)
	}
	return Compile(string(body))
}

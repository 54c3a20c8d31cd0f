// Package wpad is Web Proxy Auto-Discovery as Windows clients do it, the
// PAC files it finds, and the HTTP proxy they point at.
//
// # Discovery
//
// Discover looks for a PAC file: the URL of DHCP option 252 in the lease
// (actors/dhcp), else the name "wpad" through the client's resolver. With
// a *winname.Resolver that is DNS wpad.<suffix>, then, for a name DNS
// denies, LLMNR and NBT-NS, whose first answer wins: a Responder-style
// poisoner answering "wpad" serves the client its own PAC file. Every step
// is recorded (Step), with the resolver's own steps.
//
//	res, err := wpad.Discover(ctx, wpad.DiscoverConfig{
//		DHCPURL: lease.WPAD, Resolver: windowsResolver, Dialer: alice,
//	})
//	if res.PAC != nil {
//		answer, _ := res.PAC.FindProxyForURL(ctx, wpad.Env{}, u, host)
//		dirs, _ := wpad.ParseResult(answer) // [PROXY 10.0.0.66:8080]
//	}
//
// # PAC files
//
// Compile reads the subset of JavaScript PAC files are written in (see
// PAC) without a JavaScript engine; PACServer serves a file as
// application/x-ns-proxy-autoconfig at /wpad.dat and /proxy.pac and
// records who fetched it.
//
// # The proxy
//
// Proxy is a forward proxy on a netsim host: CONNECT tunnels and
// absolute-form requests, every request recorded (ProxyRequest). An
// Authenticator, when set, decides each request and supplies the 407
// challenge (an NTLM exchange, say, kept per client connection), so that a
// proxy can ask the client for credentials.
package wpad

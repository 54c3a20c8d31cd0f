// Package dns is the lab's DNS: authoritative servers and the stub resolver
// every actor uses, speaking real DNS (github.com/miekg/dns) over netsim's
// UDP and TCP, with the knobs the trust model's DNS attacks turn: query ID
// and source-port randomisation, and DNSSEC validation.
//
// The package is named dns like miekg/dns; import that one under another
// name (this package uses miekg):
//
//	import miekg "github.com/miekg/dns"
//
// # Zones
//
// A Zone holds the records of one origin. Build it from helpers or from
// zone-file text:
//
//	z, err := dns.NewZone("contoso.com",
//		dns.A("pool01.contoso.com", netip.MustParseAddr("10.0.0.80")),
//		dns.CNAME("sip.contoso.com", "pool01.contoso.com"),
//		dns.SRV("_sip._tls.contoso.com", 0, 0, 443, "sip.contoso.com"),
//	)
//
//	z, err := dns.ParseZone("contoso.com", `
//	pool01                IN A   10.0.0.80
//	_sipinternaltls._tcp  IN SRV 0 0 5061 pool01
//	`)
//
// An internal and a public view of contoso.com are simply two zones with
// the same origin, served by different servers.
//
// # Servers
//
// A Server answers authoritatively (AA set) for its zones: the RRset,
// CNAME chains followed inside the zone, NXDOMAIN or NODATA with the SOA,
// and REFUSED for names outside its zones. It serves any net.PacketConn and
// net.Listener; in the lab, netsim sockets on port 53:
//
//	srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{z}})
//	pc, _ := host.ListenPacket("udp", ":53")
//	l, _ := host.Listen("tcp", ":53")
//	go srv.Serve(ctx, pc, l) // until ctx ends; returns when all its goroutines have
//
// UDP answers larger than the client's buffer are truncated (TC), and
// ServerConfig.TruncateUDP truncates them all, sending clients to TCP.
//
// # Resolving
//
// A Resolver is a stub resolver bound to a host. Its LookupNetIP and
// LookupSRV have net.Resolver's signatures, so actors can depend on the
// NameResolver interface and take either:
//
//	r, err := dns.NewResolver(dns.ResolverConfig{
//		Net:     aliceHost, // a *netsim.Host
//		Servers: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.53:53")},
//	})
//	_, srvs, err := r.LookupSRV(ctx, "sipinternaltls", "tcp", "contoso.com")
//	addrs, err := r.LookupNetIP(ctx, "ip", srvs[0].Target)
//
// Each try waits Timeout (2s) and is repeated Retries (2) times, to every
// server in turn; a truncated answer is fetched again over TCP. A UDP
// response counts only if its source address and port, its ID and its
// question match the query; anything else is ignored, as a real stub
// ignores it, and recorded: Resolver.Dropped (and ResolverConfig.OnDropped,
// as it happens) reports each datagram dropped on a query socket, with its
// source and the reason (wrong source, query ID or question mismatch, a
// DNSSEC validation error), so a lab can show the resolver refusing a
// forgery. A datagram to a port no query is waiting on reaches no socket
// and is not reported. Failures are *LookupError values:
//
//	dns: lookup pool01.contoso.com: no such host
//	dns: lookup pool01.contoso.com: i/o timeout after 3 tries
//
// # Spoofing defences
//
// By default every query gets a random ID and a fresh socket on a random
// ephemeral port, both from ResolverConfig.Rand (crypto/rand when nil, a
// seeded math/rand/v2 source for reproducible runs). The pre-2008
// behaviour an off-path attacker can predict is one setting away:
//
//	cfg.TXID = dns.SequentialTXID         // IDs 1, 2, 3, ... (FirstTXID)
//	cfg.SourcePort = dns.FixedSourcePort  // every query from port 53000 (FixedPort)
//
// # DNSSEC
//
// Zone.Sign turns a zone into a signed zone (ECDSA P-256 KSK and ZSK,
// algorithm 13, NSEC chain, an RRSIG over every RRset); its server then
// returns signatures to queries with the DNSSEC OK bit. A resolver given
// trust anchors validates every answer for an anchored zone:
//
//	cfg.TrustAnchors = []miekg.RR{z.DS()} // or z.KSK()
//
// The zone's DNSKEY set must be signed by the anchored key, and every
// answer RRset must carry an RRSIG by a key of that set that verifies and
// is valid at ResolverConfig.Now; a negative answer needs a signed NSEC
// record proving it. Anything else is a *ValidationError, whatever server
// sent it:
//
//	dns: DNSSEC validation failed for pool01.contoso.com A: no RRSIG
//	dns: DNSSEC validation failed for pool01.contoso.com A: RRSIG does not verify
//
// Names in zones without an anchor are not validated.
//
// # Time
//
// A resolver computes socket deadlines and checks signature validity with
// ResolverConfig.Now, by default the World's clock of the netsim host it
// runs on; SignConfig.Now defaults to time.Now. netsim's default clock is
// package time, so inside a testing/synctest bubble timeouts and retries
// run on virtual time and tests of them take no real time.
package dns

// Package dhcp is the lab's DHCPv4: a server that hands out leases and a
// client that obtains one and configures its netsim host, speaking real
// DHCP messages (encoded by github.com/insomniacslk/dhcp/dhcpv4, whose
// network client and server are not used) over netsim UDP broadcast.
//
// # Server
//
// A Server leases addresses from a pool with the options a Windows client
// uses: subnet mask (1), router (3), DNS servers (6), domain name (15) and
// the WPAD proxy auto-config URL (252), for ServerConfig.LeaseTime on the
// World clock:
//
//	srv, err := dhcp.NewServer(dhcp.ServerConfig{
//		Host:      dc, // a *netsim.Host on the access segment
//		Subnet:    netip.MustParsePrefix("10.0.0.0/24"),
//		PoolFirst: netip.MustParseAddr("10.0.0.100"),
//		PoolLast:  netip.MustParseAddr("10.0.0.199"),
//		Router:    netip.MustParseAddr("10.0.0.1"),
//		DNS:       []netip.Addr{netip.MustParseAddr("10.0.0.53")},
//		Domain:    "contoso.com",
//		WPAD:      "http://wpad.contoso.com/wpad.dat",
//	})
//	pc, _ := dc.ListenPacket("udp", ":67")
//	go srv.Serve(ctx, pc) // until ctx ends; closes pc
//
// It answers DISCOVER with an OFFER of the client's current address or the
// lowest free one (held for a minute), REQUEST with an ACK or a NAK, and
// takes its offer back when the client's REQUEST names another server. A
// lease expires when the World clock passes it, with no timer: Leases
// reports those still live, and an expired address is offered again.
// ServerConfig.OnEvent reports each OFFER, ACK and NAK once it is on the
// wire, which lets a test or scenario act on "the server has answered"
// without sleeping.
//
// # Client
//
// Acquire runs DISCOVER/OFFER/REQUEST/ACK from 0.0.0.0:68 to
// 255.255.255.255:67 for a NIC added with netsim.NICConfig{Unaddressed:
// true}, then puts the leased address on the NIC and the default route
// through option 3's router, and returns the lease's Config (DNS servers,
// domain, WPAD URL) for the caller to build a resolver with:
//
//	nic, _ := alice.AddNIC(access, netsim.NICConfig{Unaddressed: true})
//	lease, err := dhcp.Acquire(ctx, dhcp.ClientConfig{NIC: nic})
//	var servers []netip.AddrPort
//	for _, a := range lease.DNS {
//		servers = append(servers, netip.AddrPortFrom(a, 53))
//	}
//	r, err := dns.NewResolver(dns.ResolverConfig{Net: alice, Servers: servers})
//
// The client takes the first OFFER for its transaction, as real clients
// do. That is the rogue DHCP server attack: a rogue on the segment that
// answers before the real server decides the victim's gateway, DNS servers
// and WPAD URL, and nothing in DHCP itself tells the two apart; only the
// switch (DHCP snooping) can.
//
// Renew extends a lease by unicast with the server that granted it (the
// RENEWING state); Maintain does so at T1, half the lease, on the World
// clock, and reports ErrLeaseExpired when the lease runs out unrenewed.
//
// # Time
//
// Leases, offer holds and the client's timeouts run on the World clock of
// the hosts involved, so in a testing/synctest bubble lease expiry takes
// no real time.
package dhcp

package dhcp_test

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/tlslab/tlslab/actors/dhcp"
)

func TestLeaseEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		events := newEventLog()
		cfg := contoso(l.dc)
		cfg.OnEvent = events.add
		srv := serve(t, cfg)
		nic := l.client(t, "alice")
		start := time.Now()

		got, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: nic})
		if err != nil {
			t.Fatal(err)
		}
		want := dhcp.Config{
			Addr:      netip.MustParsePrefix("10.0.0.100/24"),
			Server:    netip.MustParseAddr("10.0.0.10"),
			Router:    netip.MustParseAddr("10.0.0.1"),
			DNS:       []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.0.54")},
			Domain:    "contoso.com",
			WPAD:      "http://wpad.contoso.com/wpad.dat",
			LeaseTime: time.Hour,
			Obtained:  start,
		}
		if !equalConfig(*got, want) {
			t.Errorf("lease config\n%+v\nwant\n%+v", *got, want)
		}
		if got.Expires() != start.Add(time.Hour) {
			t.Errorf("Expires %v, want an hour after %v", got.Expires(), start)
		}
		// The host is configured: address, connected and default routes.
		if nic.Prefix() != want.Addr {
			t.Errorf("NIC address %v, want %v", nic.Prefix(), want.Addr)
		}
		routes := strings.Join(nic.Host().Routes(), "|")
		if routes != "10.0.0.0/24 dev alice/eth0|0.0.0.0/0 via 10.0.0.1 dev alice/eth0" {
			t.Errorf("routes %s", routes)
		}
		events.wait(t, dhcp.Offered)
		events.wait(t, dhcp.Acked)
		leases := srv.Leases()
		if len(leases) != 1 || leases[0].Addr != want.Addr.Addr() || leases[0].MAC.String() != nic.MAC().String() || !leases[0].Expires.Equal(start.Add(time.Hour)) {
			t.Errorf("server leases %+v, want 10.0.0.100 for %v until %v", leases, nic.MAC(), start.Add(time.Hour))
		}
		// The leased address works: the server reaches it by unicast.
		pc, err := nic.Host().ListenPacket("udp", "10.0.0.100:9")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		probe, _ := l.dc.ListenPacket("udp", ":0")
		defer probe.Close()
		probe.WriteTo([]byte("hello"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 100), Port: 9})
		buf := make([]byte, 16)
		pc.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err := pc.ReadFrom(buf); err != nil || string(buf[:n]) != "hello" {
			t.Errorf("unicast to the leased address: %q, %v", buf[:n], err)
		}
	})
}

func equalConfig(a, b dhcp.Config) bool {
	return a.Addr == b.Addr && a.Server == b.Server && a.Router == b.Router && slices.Equal(a.DNS, b.DNS) &&
		a.Domain == b.Domain && a.WPAD == b.WPAD && a.LeaseTime == b.LeaseTime && a.Obtained.Equal(b.Obtained)
}

// TestRogueServerFirstOfferWins races a rogue server against the real one:
// the real server starts serving only once the rogue's OFFER is on the
// wire, so the rogue's arrives first, and the client takes it.
func TestRogueServerFirstOfferWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		realEvents, rogueEvents := newEventLog(), newEventLog()
		realCfg := contoso(l.dc)
		realCfg.OnEvent = realEvents.add
		real := newServer(t, realCfg) // its socket is open: the DISCOVER waits there
		rogueCfg := dhcp.ServerConfig{
			Host:      l.rogue,
			Subnet:    netip.MustParsePrefix("10.0.0.0/24"),
			PoolFirst: netip.MustParseAddr("10.0.0.200"),
			PoolLast:  netip.MustParseAddr("10.0.0.210"),
			Router:    netip.MustParseAddr("10.0.0.66"),
			DNS:       []netip.Addr{netip.MustParseAddr("10.0.0.66")},
			Domain:    "contoso.com",
			WPAD:      "http://10.0.0.66/wpad.dat",
			OnEvent:   rogueEvents.add,
		}
		rogue := serve(t, rogueCfg)
		go func() {
			if ev := <-rogueEvents.ch; ev.Kind != dhcp.Offered {
				t.Errorf("rogue's first event %s, want %s", ev.Kind, dhcp.Offered)
			}
			real.start()
		}()
		nic := l.client(t, "alice")
		var taken []netip.Addr
		got, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{
			NIC: nic,
			OnOffer: func(server, _ netip.Addr, ok bool) {
				if ok {
					taken = append(taken, server)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(taken, []netip.Addr{rogue.ID()}) {
			t.Errorf("offers taken from %v, want only the rogue's", taken)
		}
		if got.Server != rogue.ID() || got.Addr.String() != "10.0.0.200/24" || got.Router.String() != "10.0.0.66" ||
			!slices.Equal(got.DNS, rogueCfg.DNS) || got.WPAD != "http://10.0.0.66/wpad.dat" {
			t.Errorf("client configured from %+v, want the rogue's lease", *got)
		}
		// The real server offered too, then saw the REQUEST naming the
		// rogue and took its offer back.
		realEvents.wait(t, dhcp.Offered)
		realEvents.wait(t, dhcp.Withdrawn)
		if leases := real.Leases(); len(leases) != 0 {
			t.Errorf("real server leases %+v, want none", leases)
		}
		rogueEvents.wait(t, dhcp.Acked)
		if leases := rogue.Leases(); len(leases) != 1 {
			t.Errorf("rogue leases %+v, want one", leases)
		}
	})
}

// TestLeaseExpiresOnWorldClock exhausts a one-address pool, then lets the
// lease run out on the World clock (virtual time in the synctest bubble),
// after which the address goes to the next client.
func TestLeaseExpiresOnWorldClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		cfg := contoso(l.dc)
		cfg.PoolLast = cfg.PoolFirst
		cfg.LeaseTime = 10 * time.Minute
		srv := serve(t, cfg)
		first, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: l.client(t, "alice")})
		if err != nil {
			t.Fatal(err)
		}
		bob := l.client(t, "bob")
		_, err = dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: bob, Tries: 2, Timeout: time.Second})
		var ae *dhcp.AcquireError
		if !errors.As(err, &ae) || !errors.Is(err, dhcp.ErrNoOffer) || ae.Tries != 2 {
			t.Fatalf("Acquire on an exhausted pool = %v, want ErrNoOffer after 2 tries", err)
		}
		if err.Error() != "dhcp: discover: no DHCPOFFER after 2 tries of 1s" {
			t.Errorf("error text %q", err)
		}
		time.Sleep(time.Until(first.Expires()))
		if leases := srv.Leases(); len(leases) != 0 {
			t.Errorf("leases at expiry %+v, want none", leases)
		}
		second, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: bob})
		if err != nil {
			t.Fatal(err)
		}
		if second.Addr != first.Addr {
			t.Errorf("after expiry bob got %v, want the freed %v", second.Addr, first.Addr)
		}
	})
}

func TestServerConfigErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		for _, tc := range []struct {
			name   string
			change func(*dhcp.ServerConfig)
			want   string
		}{
			{"no host", func(c *dhcp.ServerConfig) { c.Host = nil }, "dhcp: server: ServerConfig.Host is nil"},
			{"pool outside", func(c *dhcp.ServerConfig) { c.PoolLast = netip.MustParseAddr("10.0.1.5") },
				"dhcp: server: the pool 10.0.0.100-10.0.1.5 must be a range inside 10.0.0.0/24"},
			{"router outside", func(c *dhcp.ServerConfig) { c.Router = netip.MustParseAddr("192.0.2.1") },
				"dhcp: server: router 192.0.2.1 is outside 10.0.0.0/24"},
		} {
			cfg := contoso(l.dc)
			tc.change(&cfg)
			_, err := dhcp.NewServer(cfg)
			var ce *dhcp.ConfigError
			if !errors.As(err, &ce) || err.Error() != tc.want {
				t.Errorf("%s: NewServer = %v, want %q", tc.name, err, tc.want)
			}
		}
	})
}

// TestRenewAtT1 keeps a lease with Maintain: at half the lease time on the
// World clock the client renews it by unicast, and the server extends it
// from then; once the server is gone, the lease runs out unrenewed.
func TestRenewAtT1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		events := newEventLog()
		cfg := contoso(l.dc)
		cfg.OnEvent = events.add
		srv := serve(t, cfg)
		nic := l.client(t, "alice")
		ccfg := dhcp.ClientConfig{NIC: nic}
		start := time.Now()
		lease, err := dhcp.Acquire(t.Context(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		events.wait(t, dhcp.Offered)
		events.wait(t, dhcp.Acked)
		renewed := make(chan *dhcp.Config, 4)
		done := make(chan error, 1)
		go func() { done <- dhcp.Maintain(t.Context(), ccfg, lease, func(c *dhcp.Config) { renewed <- c }) }()

		r := <-renewed
		if ev := events.wait(t, dhcp.Acked); !ev.At.Equal(start.Add(30 * time.Minute)) {
			t.Errorf("renewal ACK at %v, want T1 = %v", ev.At, start.Add(30*time.Minute))
		}
		if !r.Obtained.Equal(start.Add(30*time.Minute)) || r.Addr != lease.Addr || r.Server != lease.Server {
			t.Errorf("renewed lease %+v, want %v from %v obtained at T1", *r, lease.Addr, lease.Server)
		}
		if got := srv.Leases(); len(got) != 1 || !got[0].Expires.Equal(start.Add(90*time.Minute)) {
			t.Errorf("server lease after renewal %+v, want it to run until %v", got, start.Add(90*time.Minute))
		}
		// The server goes away; renewals fail and the lease runs out.
		l.dc.Down()
		err = <-done
		if !errors.Is(err, dhcp.ErrLeaseExpired) {
			t.Fatalf("Maintain = %v, want ErrLeaseExpired", err)
		}
		if !time.Now().Equal(start.Add(90 * time.Minute)) {
			t.Errorf("Maintain gave up at %v, want the expiry %v", time.Now(), start.Add(90*time.Minute))
		}
		l.dc.Up()
	})
}

// TestNakAndRelease sends the server two messages the client package does
// not: a REQUEST for an address outside the pool (an INIT-REBOOT client
// back from another network), which draws a NAK, and a RELEASE, which
// frees the lease.
func TestNakAndRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		events := newEventLog()
		cfg := contoso(l.dc)
		cfg.OnEvent = events.add
		srv := serve(t, cfg)
		nic := l.client(t, "alice")
		lease, err := dhcp.Acquire(t.Context(), dhcp.ClientConfig{NIC: nic})
		if err != nil {
			t.Fatal(err)
		}
		events.wait(t, dhcp.Offered)
		events.wait(t, dhcp.Acked)

		pc, err := nic.Host().ListenPacket("udp", ":68")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		send := func(m *dhcpv4.DHCPv4, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pc.WriteTo(m.ToBytes(), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 10), Port: 67}); err != nil {
				t.Fatal(err)
			}
		}
		send(dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest), dhcpv4.WithHwAddr(nic.MAC()),
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 250)))))
		if ev := events.wait(t, dhcp.Naked); ev.Addr.String() != "10.0.0.250" {
			t.Errorf("NAK for %v, want 10.0.0.250", ev.Addr)
		}
		buf := make([]byte, 1500)
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := dhcpv4.FromBytes(buf[:n]); err != nil || m.MessageType() != dhcpv4.MessageTypeNak {
			t.Errorf("reply %v, %v; want a NAK", m, err)
		}
		if got := srv.Leases(); len(got) != 1 || got[0].Addr != lease.Addr.Addr() {
			t.Errorf("leases after the NAK %+v, want alice's intact", got)
		}

		send(dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeRelease), dhcpv4.WithHwAddr(nic.MAC()),
			dhcpv4.WithClientIP(net.IP(lease.Addr.Addr().AsSlice()))))
		events.wait(t, dhcp.Released)
		if got := srv.Leases(); len(got) != 0 {
			t.Errorf("leases after RELEASE %+v, want none", got)
		}
	})
}

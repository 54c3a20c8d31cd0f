package attacker_test

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/netsim"
)

// echo serves TCP echo on h's port 7 until the test ends.
func echo(t *testing.T, h *netsim.Host) {
	t.Helper()
	l, err := h.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

// roundTrip sends msg to addr's echo service from h and checks the echo.
func roundTrip(t *testing.T, h *netsim.Host, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	c, err := h.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	const msg = "ping through the LAN"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

// TestARPSpoofer poisons alice and fe01 about each other. Under the
// classic accept-any policy both caches point at mallory and the traffic
// between them crosses mallory (who forwards it) in both directions.
// Accept-solicited and static-only caches, and static entries, ignore the
// poison: mallory sees nothing.
func TestARPSpoofer(t *testing.T) {
	for _, r := range []struct {
		name     string
		policy   netsim.ARPPolicy
		static   bool
		poisoned bool
	}{
		{"accept-any", netsim.ARPAcceptAny, false, true},
		{"accept-solicited", netsim.ARPAcceptSolicited, false, false},
		{"static-only", netsim.ARPStaticOnly, true, false},
		{"accept-any with static entries", netsim.ARPAcceptAny, true, false},
	} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOffice(t, officeConfig{aliceARP: r.policy, fe01ARP: r.policy})
				if r.static {
					o.alice.SetStaticARP(fe01IP, o.fe01NIC.MAC())
					o.fe01.SetStaticARP(aliceIP, o.aliceNIC.MAC())
				}
				echo(t, o.fe01)
				s := o.spoof(t)
				time.Sleep(3 * attacker.DefaultARPInterval) // a few rounds
				synctest.Wait()
				want := map[bool]net.HardwareAddr{true: o.mNIC.MAC(), false: o.fe01NIC.MAC()}[r.poisoned]
				roundTrip(t, o.alice, fe01IP.String()+":7") // works either way: mallory forwards
				if got := o.alice.ARPTable()[fe01IP]; got.String() != want.String() {
					t.Errorf("alice maps fe01 to %v, want %v", got, want)
				}
				want = map[bool]net.HardwareAddr{true: o.mNIC.MAC(), false: o.aliceNIC.MAC()}[r.poisoned]
				if got := o.fe01.ARPTable()[aliceIP]; got.String() != want.String() {
					t.Errorf("fe01 maps alice to %v, want %v", got, want)
				}
				rep := s.Report()
				if rep.Rounds != 4 || rep.FramesSent != 16 {
					t.Errorf("rounds %d frames %d, want 4 rounds of 4 frames", rep.Rounds, rep.FramesSent)
				}
				if rep.MACs[aliceIP] != o.aliceNIC.MAC().String() || rep.MACs[fe01IP] != o.fe01NIC.MAC().String() {
					t.Errorf("learned MACs %v", rep.MACs)
				}
				if len(rep.Positions) != 2 {
					t.Fatalf("positions %v", rep.Positions)
				}
				for _, p := range rep.Positions {
					if p.Intercepted != r.poisoned {
						t.Errorf("%v, want intercepted %v", p, r.poisoned)
					}
				}
			})
		})
	}
}

// TestARPSpooferRestore: on Close with Restore the victims get their
// true mappings back.
func TestARPSpooferRestore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		s, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: o.mNIC, Victims: []netip.Addr{aliceIP, fe01IP}, Restore: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := o.alice.ARPTable()[fe01IP]; got.String() != o.mNIC.MAC().String() {
			t.Fatalf("alice maps fe01 to %v while spoofed", got)
		}
		s.Close()
		synctest.Wait()
		if got := o.alice.ARPTable()[fe01IP]; got.String() != o.fe01NIC.MAC().String() {
			t.Errorf("alice maps fe01 to %v after Restore, want %v", got, o.fe01NIC.MAC())
		}
	})
}

// TestRogueGateway routes alice's traffic for the server subnet through
// mallory, who forwards it to the real gateway: mallory's monitor sees the
// flow, alice keeps her connectivity.
func TestRogueGateway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := netsim.NewWorld(netsim.Config{Seed: 3})
		t.Cleanup(func() { w.Close() })
		lan := w.NewSegment("lan", netsim.SegmentConfig{})
		dc := w.NewSegment("datacenter", netsim.SegmentConfig{})
		alice, _ := addHost(t, w, lan, "alice", netsim.HostConfig{}, aliceIP)
		mallory, mNIC := addHost(t, w, lan, "mallory", netsim.HostConfig{Forwarding: true}, malloryIP)
		gw, _ := addHost(t, w, lan, "gw", netsim.HostConfig{Forwarding: true}, netip.MustParseAddr("10.0.0.1"))
		if _, err := gw.AddNIC(dc, netsim.NICConfig{Addr: netip.MustParsePrefix("10.9.0.1/24")}); err != nil {
			t.Fatal(err)
		}
		server, _ := addHost(t, w, dc, "server", netsim.HostConfig{}, netip.MustParseAddr("10.9.0.20"))
		for _, h := range []*netsim.Host{alice, mallory} {
			if err := h.SetDefaultGateway(netip.MustParseAddr("10.0.0.1")); err != nil {
				t.Fatal(err)
			}
		}
		if err := server.SetDefaultGateway(netip.MustParseAddr("10.9.0.1")); err != nil {
			t.Fatal(err)
		}
		echo(t, server)
		mon := attacker.NewPositionMonitor(mNIC)
		defer mon.Close()
		if err := attacker.RogueGateway(alice, malloryIP, netip.MustParsePrefix("10.9.0.0/24")); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, alice, "10.9.0.20:7")
		f, ok := mon.Flow(aliceIP, netip.MustParseAddr("10.9.0.20"))
		if !ok || f.Frames == 0 {
			t.Errorf("mallory saw %+v, want alice's flow to the server", mon.Flows())
		}
		if err := attacker.RogueGateway(alice, netip.MustParseAddr("10.7.7.7")); err == nil {
			t.Error("RogueGateway accepted a gateway off alice's subnet")
		}
	})
}

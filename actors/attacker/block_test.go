package attacker_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/netsim"
)

// TestBlocker cuts alice off from the PKI host (CRL and OCSP), once from a
// hook on the LAN switch and once from the router between them: her
// connection attempts time out, other traffic flows, and the blocker
// counts the frames it dropped.
func TestBlocker(t *testing.T) {
	pkiIP := netip.MustParseAddr("10.9.0.80")
	for _, atRouter := range []bool{false, true} {
		t.Run(map[bool]string{false: "segment hook", true: "router hook"}[atRouter], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := netsim.NewWorld(netsim.Config{Seed: 2})
				t.Cleanup(func() { w.Close() })
				lan := w.NewSegment("lan", netsim.SegmentConfig{})
				dc := w.NewSegment("datacenter", netsim.SegmentConfig{})
				alice, _ := addHost(t, w, lan, "alice", netsim.HostConfig{}, aliceIP)
				gw, _ := addHost(t, w, lan, "gw", netsim.HostConfig{Forwarding: true}, netip.MustParseAddr("10.0.0.1"))
				if _, err := gw.AddNIC(dc, netsim.NICConfig{Addr: netip.MustParsePrefix("10.9.0.1/24")}); err != nil {
					t.Fatal(err)
				}
				pkiHost, _ := addHost(t, w, dc, "pki", netsim.HostConfig{}, pkiIP)
				other, _ := addHost(t, w, dc, "other", netsim.HostConfig{}, netip.MustParseAddr("10.9.0.7"))
				for h, via := range map[*netsim.Host]string{alice: "10.0.0.1", pkiHost: "10.9.0.1", other: "10.9.0.1"} {
					if err := h.SetDefaultGateway(netip.MustParseAddr(via)); err != nil {
						t.Fatal(err)
					}
				}
				echo(t, pkiHost)
				echo(t, other)
				b := attacker.NewBlocker(pkiIP)
				if atRouter {
					defer b.AttachRouter(gw)()
				} else {
					defer b.AttachSegment(lan)()
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				if _, err := alice.DialContext(ctx, "tcp", pkiIP.String()+":7"); !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("dial to the blocked PKI host: %v, want a timeout", err)
				}
				roundTrip(t, alice, "10.9.0.7:7")
				rep := b.Report()
				if rep.Dropped == 0 || rep.PerHost[pkiIP] != rep.Dropped {
					t.Errorf("report %+v, want the dropped SYNs counted against the PKI host", rep)
				}
			})
		})
	}
}

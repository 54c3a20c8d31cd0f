package contoso_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// TestContosoAttachHost: an attached host talks to the topology under
// every ARP policy; under static-only it is pinned on both sides (that its
// forged replies then change no cache, mitm/arp-static-entries shows).
func TestContosoAttachHost(t *testing.T) {
	for _, policy := range []netsim.ARPPolicy{netsim.ARPAcceptAny, netsim.ARPStaticOnly} {
		t.Run(policy.String(), func(t *testing.T) {
			s := lab.Scenario{Name: "x/attach", Summary: "s", Expected: lab.Passed,
				Defenses: func(d *lab.Defenses) { d.ARPPolicy = policy },
				Run: func(ctx context.Context, env *lab.Env) error {
					c, err := contoso.Config{}.Build(ctx, env)
					if err != nil {
						return err
					}
					defer c.Close()
					addr := netip.MustParsePrefix("10.0.0.66/24")
					h, nic, err := c.AttachHost("mallory", "contoso-lan", addr, true)
					if err != nil {
						return err
					}
					if h.Name() != "mallory" || nic.Addr() != addr.Addr() {
						return fmt.Errorf("attached %s at %v", h.Name(), nic.Addr())
					}
					alice := c.Host("alice")
					if pinned := alice.ARPTable()[addr.Addr()]; (policy == netsim.ARPStaticOnly) != (pinned.String() == nic.MAC().String()) {
						return fmt.Errorf("alice's entry for mallory under %v: %v", policy, pinned)
					}
					conn, err := h.DialContext(ctx, "tcp", "10.0.0.11:5061")
					if err != nil {
						return fmt.Errorf("mallory reaching fe01: %w", err)
					}
					conn.Close()
					if _, _, err := c.AttachHost("eve", "nowhere", addr, false); err == nil ||
						err.Error() != `lab: contoso: no segment "nowhere" for eve` {
						return fmt.Errorf("unknown segment: %v", err)
					}
					env.Evidence.Delivered("fe01", "accepted mallory's connection")
					return nil
				}}
			if res := (lab.Runner{}).Run(context.Background(), s); res.Err != nil {
				t.Fatal(res.Err)
			}
		})
	}
}

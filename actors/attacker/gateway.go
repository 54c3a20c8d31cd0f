package attacker

import (
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/netsim"
)

// RogueGateway gives the attacker a configuration-level position: it makes
// gateway (the attacker's address on the victim's subnet) the victim's next
// hop towards each of dsts, as a rogue DHCP offer, an ICMP redirect or a
// tampered host configuration would leave the victim's routing table. With
// no dsts it sets the victim's default gateway.
//
// netsim keeps the first of two routes with the same prefix, so a victim
// that already has a default gateway must be given dsts (for example the
// server's /32, or its subnet). The attacker's host must route onwards
// (HostConfig.Forwarding and a route to the destinations) for the victim to
// keep its connectivity. Nothing is undone later.
func RogueGateway(victim *netsim.Host, gateway netip.Addr, dsts ...netip.Prefix) error {
	if len(dsts) == 0 {
		if err := victim.SetDefaultGateway(gateway); err != nil {
			return fmt.Errorf("attacker: making %s the default gateway of %s: %w", gateway, victim.Name(), err)
		}
		return nil
	}
	for _, d := range dsts {
		if err := victim.AddRoute(d, gateway); err != nil {
			return fmt.Errorf("attacker: routing %s of %s via %s: %w", d, victim.Name(), gateway, err)
		}
	}
	return nil
}

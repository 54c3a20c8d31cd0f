package scenarios

import (
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// eavesdropperAddrs are the addresses of the eavesdropper's machine on the
// segments the eavesdrop families tap: addresses no host of theirs uses
// (mallory's, in the families that attach her).
var eavesdropperAddrs = map[string]netip.Prefix{
	"contoso-lan": netip.MustParsePrefix("10.0.0.66/24"),
	"internet":    netip.MustParsePrefix("203.0.113.66/24"),
}

// attachEavesdropper attaches the eavesdropper's machine, the host
// "mallory", to the segment it taps and returns its NIC, for the taps to
// be installed through (netsim.Segment.AddTapVia): impairing mallory's
// host, or taking it down, cuts the tap off as it would a real sniffer's
// machine. The host is passive: it sends nothing of its own and takes no
// part in the victims' traffic, so an unimpaired run is as without it. The
// evidence still calls the actor "eavesdropper".
func attachEavesdropper(c *contoso.Deployment, segment string) (*netsim.NIC, error) {
	addr, ok := eavesdropperAddrs[segment]
	if !ok {
		return nil, fmt.Errorf("scenarios: no eavesdropper address on segment %q", segment)
	}
	_, nic, err := c.AttachHost("mallory", segment, addr, false)
	return nic, err
}

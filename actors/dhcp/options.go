package dhcp

import "github.com/insomniacslk/dhcp/dhcpv4"

// Ports of DHCPv4 (RFC 2131).
const (
	ServerPort = 67
	ClientPort = 68
)

// OptionWPAD is option 252, the proxy auto-config URL that Windows asks
// DHCP for in WPAD (a private-use code with no name in RFC 2132).
const OptionWPAD = dhcpv4.GenericOptionCode(252)

// requested is the parameter request list (option 55) the client sends:
// what Windows asks for that the lab models.
var requested = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDomainName,
	OptionWPAD,
}

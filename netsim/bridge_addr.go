package netsim

import (
	"net"
	"net/netip"
	"strconv"
)

// BridgeAddrError reports a real address a Bridge refuses to listen on or
// dial. Bridges use literal loopback addresses only (127.0.0.0/8 and ::1),
// so that no other machine can reach a World through one and a World can
// reach no other machine; the address is refused before any socket is
// opened.
type BridgeAddrError struct {
	Op      string // "listen" or "dial"
	Addr    string // the address as given
	Problem string // why it is refused
}

func (e *BridgeAddrError) Error() string {
	return "netsim: bridge " + e.Op + " " + e.Addr + ": " + e.Problem
}

// loopbackOnly ends the message of a refused address: the rule and why.
const loopbackOnly = "bridges use 127.0.0.0/8 and ::1 only, so that nothing beyond this machine reaches the simulated network or is reached from it"

// loopbackAddrPort parses a bridge's real address, "ip:port" with a literal
// loopback IP, for op ("listen" or "dial"). Port 0, an ephemeral port, is
// for listening only. An IPv4-mapped IPv6 address is taken as its IPv4
// address.
func loopbackAddrPort(op, address string) (netip.AddrPort, error) {
	refuse := func(problem string) (netip.AddrPort, error) {
		return netip.AddrPort{}, &BridgeAddrError{Op: op, Addr: address, Problem: problem}
	}
	hostPart, portPart, err := net.SplitHostPort(address)
	if err != nil {
		problem := err.Error()
		if ae, ok := err.(*net.AddrError); ok {
			problem = ae.Err
		}
		return refuse("want ip:port (" + problem + ")")
	}
	if hostPart == "" {
		return refuse("an address without an IP means every interface, and " + loopbackOnly)
	}
	ip, err := netip.ParseAddr(hostPart)
	if err != nil {
		return refuse(strconv.Quote(hostPart) + " is not an IP address (bridges resolve no names), and " + loopbackOnly)
	}
	ip = ip.Unmap()
	if !ip.IsLoopback() {
		return refuse(ip.String() + " is not a loopback address, and " + loopbackOnly)
	}
	port, err := strconv.ParseUint(portPart, 10, 16)
	if err != nil {
		return refuse("port " + strconv.Quote(portPart) + " is not a number from 0 to 65535")
	}
	if port == 0 && op == "dial" {
		return refuse("port 0 cannot be dialled")
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

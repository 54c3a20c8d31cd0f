package contoso

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/dhcp"
	"github.com/tlslab/tlslab/netsim"
)

// SnoopedFrame is a DHCP server message the access switch dropped because
// it entered from a port other than the DHCP server's (DHCP snooping).
type SnoopedFrame struct {
	At  time.Time
	MAC net.HardwareAddr // the sender's
	IP  netip.Addr       // its IPv4 source address
}

// snooping is contoso-lan's DHCP snooping: the one trusted port is dns01's.
type snooping struct {
	trusted *netsim.NIC
	now     func() time.Time

	mu      sync.Mutex
	dropped []SnoopedFrame
}

// HandleFrame drops a DHCP server message (UDP from port 67) that did not
// enter from the trusted port.
func (s *snooping) HandleFrame(f *netsim.Frame) netsim.HookAction {
	ip, ok := dhcpServerMessage(f.Data)
	if !ok || f.Ingress == nil || f.Ingress == s.trusted {
		return netsim.Pass
	}
	s.mu.Lock()
	s.dropped = append(s.dropped, SnoopedFrame{At: s.now(), MAC: net.HardwareAddr(append([]byte(nil), f.Data[6:12]...)), IP: ip})
	s.mu.Unlock()
	return netsim.Drop
}

// dhcpServerMessage reports whether frame is IPv4 UDP from port 67, and
// its source address.
func dhcpServerMessage(frame []byte) (netip.Addr, bool) {
	if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:14]) != 0x0800 {
		return netip.Addr{}, false
	}
	ipHdr := frame[14:]
	ihl := int(ipHdr[0]&0x0f) * 4
	if ipHdr[9] != 17 || len(ipHdr) < ihl+8 {
		return netip.Addr{}, false
	}
	if binary.BigEndian.Uint16(ipHdr[ihl:ihl+2]) != dhcp.ServerPort {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(ipHdr[12:16])), true
}

// startSnooping installs DHCP snooping on contoso-lan when the defense is
// on.
func (c *Deployment) startSnooping(d *discoveryServices) error {
	if !c.d.DHCPSnooping {
		return nil
	}
	d.snoop = &snooping{trusted: c.hosts[hostDNS01].NICs()[0], now: c.env.World.Now}
	c.onClose(c.segments[segContosoLAN].AddHook(d.snoop))
	return nil
}

// SnoopedFrames returns the DHCP server messages contoso-lan's access
// switch dropped (the dhcp-snooping defense), in order.
func (c *Deployment) SnoopedFrames() []SnoopedFrame {
	if c.discovery == nil || c.discovery.snoop == nil {
		return nil
	}
	s := c.discovery.snoop
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SnoopedFrame(nil), s.dropped...)
}

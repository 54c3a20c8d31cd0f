package netsim

import (
	"bytes"
	"net"
	"net/netip"
)

// NICByMAC returns the NIC whose hardware address is mac, or nil when no
// NIC of the World has it. It answers for the World as it is at the call
// (hosts and NICs added later are not seen), and also after Close, so a
// report can name the senders of frames captured earlier.
//
// MACs that NICConfig.MAC set to the same value on several NICs make the
// answer the first of them in host creation order.
func (w *World) NICByMAC(mac net.HardwareAddr) *NIC {
	for _, h := range w.Hosts() {
		for _, n := range h.NICs() {
			if bytes.Equal(n.mac, mac) {
				return n
			}
		}
	}
	return nil
}

// NICsByAddr returns the NICs whose IPv4 address is addr, in host creation
// order: none for an address nobody holds, several when hosts share it (an
// attacker claiming a victim's address). Like NICByMAC it reflects the
// World at the call and works after Close.
func (w *World) NICsByAddr(addr netip.Addr) []*NIC {
	var nics []*NIC
	for _, h := range w.Hosts() {
		for _, n := range h.NICs() {
			if n.Prefix().Addr() == addr {
				nics = append(nics, n)
			}
		}
	}
	return nics
}

// Forwarding reports whether the host routes packets that are not its own
// (World.NewRouter, HostConfig.Forwarding).
func (h *Host) Forwarding() bool { return h.cfg.Forwarding }

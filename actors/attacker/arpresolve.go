package attacker

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/netsim"
)

// arpRetry is how often resolveMACs asks again for addresses that have not
// answered.
const arpRetry = time.Second

// resolveMACs learns the hardware addresses of ips on nic's segment as any
// host would: ARP requests from nic, retried every second on the World's
// clock, until every address answered or ctx ends. Hosts answer requests
// for their own addresses whatever their cache policy.
func resolveMACs(ctx context.Context, nic *netsim.NIC, ips []netip.Addr) (map[netip.Addr]net.HardwareAddr, error) {
	var mu sync.Mutex
	got := make(map[netip.Addr]net.HardwareAddr, len(ips))
	wake := make(chan struct{}, 1)
	mine := nic.MAC()
	remove := nic.AddTap(netsim.TapFunc(func(_ time.Time, frame []byte) {
		p := decode(frame)
		if p == nil {
			return
		}
		defer p.put()
		if !p.isARP() || p.arp.Operation != layers.ARPReply || !sameMAC(p.arp.DstHwAddress, mine) || len(p.arp.SourceProtAddress) != 4 {
			return
		}
		ip := netip.AddrFrom4([4]byte(p.arp.SourceProtAddress))
		if !slices.Contains(ips, ip) {
			return
		}
		mu.Lock()
		if got[ip] == nil {
			got[ip] = append(net.HardwareAddr(nil), p.arp.SourceHwAddress...)
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}))
	defer remove()
	clock := nic.Host().World().Clock()
	var tick chan struct{}
	var timer netsim.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		mu.Lock()
		var missing []netip.Addr
		for _, ip := range ips {
			if got[ip] == nil {
				missing = append(missing, ip)
			}
		}
		mu.Unlock()
		if len(missing) == 0 {
			break
		}
		if tick == nil { // (re)send the requests and arm the retry
			for _, ip := range missing {
				nic.WriteFrame(arpFrame(layers.ARPRequest, mine, nic.Addr(), zeroMAC, ip, broadcastMAC))
			}
			c := make(chan struct{})
			tick = c
			timer = clock.AfterFunc(arpRetry, func() { close(c) })
		}
		select {
		case <-wake:
		case <-tick:
			tick = nil
		case <-ctx.Done():
			return nil, &UnresolvedError{Addrs: missing, Err: context.Cause(ctx)}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return got, nil
}

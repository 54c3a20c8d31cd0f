package eavesdrop_test

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/actors/eavesdrop"
)

func TestNonTCPFrames(t *testing.T) {
	eth := func(typ layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac(alice.Addr()), DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: typ}
	}
	arp := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: mac(alice.Addr()), SourceProtAddress: alice.Addr().AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: pool.Addr().AsSlice(),
	})
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: alice.Addr().AsSlice(), DstIP: pool.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	udpFrame := serialize(t, eth(layers.EthernetTypeIPv4), ip, udp, gopacket.Payload(canary))
	tcpFrame := data(1, 0, canary).frame(t)

	e := eavesdrop.New(eavesdrop.Config{})
	for _, f := range [][]byte{arp, udpFrame, {0x01, 0x02}, tcpFrame[:20], nil} {
		e.ObserveFrame(epoch, f)
	}
	// The UDP payload holds the canary, but only TCP streams are searched.
	all(counts(5, 0, 3), streams(0), payloadBytes(0), found())(t, e.Report([]string{canary}))
}

func TestObserveFrameDoesNotRetain(t *testing.T) {
	e := eavesdrop.New(eavesdrop.Config{})
	buf := make([]byte, 0, 2048)
	for _, s := range []seg{syn(1), data(1, 8, "ry-7f3a9c\n"), data(1, 0, "MSG cana")} {
		buf = append(buf[:0], s.frame(t)...)
		e.ObserveFrame(epoch, buf)
		for i := range buf {
			buf[i] = 0xAA // the caller reuses its buffer
		}
	}
	all(found(canary), payloadBytes(18))(t, e.Report([]string{canary}))
}

func TestConcurrentObservers(t *testing.T) {
	const conns, chunks = 16, 20
	e := eavesdrop.New(eavesdrop.Config{})
	var canaries []string
	var wg sync.WaitGroup
	for i := range conns {
		canaries = append(canaries, fmt.Sprintf("canary-%02d", i))
		client := netip.AddrPortFrom(alice.Addr(), uint16(40000+i))
		tc := newTCPConn(client, pool, uint32(i)*1000, 7)
		tc.mss = 3 // every canary spans several segments
		segs := append(tc.handshake(), tc.send(true, []byte("MSG "+canaries[i]+"\n"))...)
		fs := frames(t, segs)
		wg.Go(func() {
			for _, f := range fs {
				e.ObserveFrame(epoch, f)
			}
		})
		probe := []string{canaries[i]}
		wg.Go(func() { e.Report(probe) }) // reports may run while frames arrive
	}
	wg.Wait()
	r := e.Report(canaries)
	slices.Sort(r.Found)
	all(streams(2*conns), payloadBytes(conns*len("MSG canary-00\n")))(t, r)
	if !slices.Equal(r.Found, canaries) {
		t.Errorf("Found = %q, want all %d canaries", r.Found, conns)
	}
}

func BenchmarkObserveFrame(b *testing.B) {
	tc := newTCPConn(alice, pool, 1, 2)
	segs := append(tc.handshake(), tc.send(true, make([]byte, 64<<10))...)
	fs := frames(b, segs)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := eavesdrop.New(eavesdrop.Config{})
		for _, f := range fs {
			e.ObserveFrame(epoch, f)
		}
	}
}

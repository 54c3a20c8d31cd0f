package eavesdrop_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlslab/tlslab/actors/eavesdrop"
)

// exampleFrame builds a client-to-server TCP segment as netsim puts it on
// the wire.
func exampleFrame(src, dst netip.AddrPort, seq uint32, syn bool, payload string) []byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, SYN: syn, ACK: !syn, Window: 65535}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func Example() {
	client := netip.MustParseAddrPort("10.0.0.2:49152")
	server := netip.MustParseAddrPort("10.0.0.5:5060")
	eve := eavesdrop.New(eavesdrop.Config{})

	// A plaintext message whose canary straddles two segments, the second
	// arriving first.
	eve.ObserveFrame(epoch, exampleFrame(client, server, 100, true, ""))
	eve.ObserveFrame(epoch, exampleFrame(client, server, 109, false, "ry-42\n"))
	eve.ObserveFrame(epoch, exampleFrame(client, server, 101, false, "MSG cana"))

	r := eve.Report([]string{"canary-42", "canary-43"})
	fmt.Printf("streams=%d bytes=%d found=%q\n", r.Streams, r.PayloadBytes, r.Found)
	// Output:
	// streams=1 bytes=14 found=["canary-42"]
}

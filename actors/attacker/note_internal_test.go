package attacker

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	miekg "github.com/miekg/dns"
)

func TestDNSAnswerText(t *testing.T) {
	hdr := func(name string, typ uint16) miekg.RR_Header {
		return miekg.RR_Header{Name: name, Rrtype: typ, Class: miekg.ClassINET, Ttl: 60}
	}
	refused := new(miekg.Msg)
	refused.SetQuestion("pool01.contoso.com.", miekg.TypeAAAA)
	refused.Rcode = miekg.RcodeRefused
	for _, tc := range []struct {
		msg  *miekg.Msg
		want string
	}{
		{&miekg.Msg{Answer: []miekg.RR{&miekg.A{Hdr: hdr("pool01.contoso.com.", miekg.TypeA), A: net.IPv4(10, 0, 0, 66)}}}, "pool01.contoso.com A 10.0.0.66"},
		{&miekg.Msg{Answer: []miekg.RR{
			&miekg.SRV{Hdr: hdr("_sipfederationtls._tcp.fabrikam.com.", miekg.TypeSRV), Weight: 100, Port: 5061, Target: "sip.evil.com."},
			&miekg.A{Hdr: hdr("sip.evil.com.", miekg.TypeA), A: net.IPv4(203, 0, 113, 66)},
		}}, "_sipfederationtls._tcp.fabrikam.com SRV 0 100 5061 sip.evil.com, sip.evil.com A 203.0.113.66"},
		{refused, "pool01.contoso.com AAAA REFUSED"},
	} {
		if got := dnsAnswerText(tc.msg); got != tc.want {
			t.Errorf("dnsAnswerText = %q, want %q", got, tc.want)
		}
	}
}

func TestTCPPayloadFrom(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	pool, alice := netip.MustParseAddrPort("10.0.0.11:5061"), netip.MustParseAddrPort("10.0.0.10:52000")
	udp := udpFrame(mac, mac, pool, alice, 1, []byte("hello"))
	for _, tc := range []struct {
		name     string
		frame    []byte
		src, dst netip.AddrPort
		want     bool
	}{
		{"data from src to dst", tcpDataFrame(pool, alice, []byte{22, 3, 3}), pool, alice, true},
		{"no payload", tcpDataFrame(pool, alice, nil), pool, alice, false},
		{"the other way", tcpDataFrame(alice, pool, []byte{22}), pool, alice, false},
		{"another port", tcpDataFrame(pool, netip.AddrPortFrom(alice.Addr(), 52001), []byte{22}), pool, alice, false},
		{"UDP", udp, pool, alice, false},
		{"ARP", arpFrame(2, mac, pool.Addr(), mac, alice.Addr(), mac), pool, alice, false},
	} {
		if got := tcpPayloadFrom(tc.frame, tc.src, tc.dst); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// tcpDataFrame builds an Ethernet/IPv4/TCP segment from src to dst.
func tcpDataFrame(src, dst netip.AddrPort, payload []byte) []byte {
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s4[:], DstIP: d4[:]}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), ACK: true, Window: 1024}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	return serialize(&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(payload))
}

package timeline_test

import (
	"context"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/netsim"
)

// dnsAnswerFrame is a DNS answer for srv.lab.test (ID id) saying a, from
// srv's address and port 53 to alice's port 5353, sent from srcMAC.
func dnsAnswerFrame(srcMAC net.HardwareAddr, id uint16, a string) []byte {
	m := new(dns.Msg).SetQuestion(tlSrvName+".", dns.TypeA)
	m.Id, m.Response = id, true
	rr, _ := dns.NewRR(tlSrvName + ". 60 IN A " + a)
	m.Answer = append(m.Answer, rr)
	payload, _ := m.Pack()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: tlSrv.Addr().AsSlice(), DstIP: tlAlice.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: 53, DstPort: 5353}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: tlAliceMAC, EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload(payload))
	return buf.Bytes()
}

// The recorder marks a DNS answer forged from the frames alone: one from
// another host's MAC than the one holding its source address on the
// segment (named after the MAC's host), and one that answers a query
// never seen (sent by nobody the wire names). The golden timeline holds a
// genuine answer, unmarked.
func TestForgedDNSAnswers(t *testing.T) {
	s := lab.Scenario{
		Name: "test/forged-dns", Labels: []lab.Label{lab.LabelDNS}, Summary: "forged DNS answers", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			w := env.World
			lan := w.NewSegment("lan", netsim.SegmentConfig{})
			env.Capture(lan)
			alice, srv, mallory := w.NewHost("alice", netsim.HostConfig{}), w.NewHost("srv", netsim.HostConfig{}), w.NewHost("mallory", netsim.HostConfig{})
			if _, err := alice.AddNIC(lan, netsim.NICConfig{Addr: tlAlice, MAC: tlAliceMAC}); err != nil {
				return err
			}
			snic, err := srv.AddNIC(lan, netsim.NICConfig{Addr: tlSrv, MAC: tlSrvMAC})
			if err != nil {
				return err
			}
			mnic, err := mallory.AddNIC(lan, netsim.NICConfig{Addr: tlMallory, MAC: tlMalloryMAC})
			if err != nil {
				return err
			}
			mnic.WriteFrame(dnsAnswerFrame(tlMalloryMAC, 1, "10.0.0.66")) // mallory's MAC, srv's address
			snic.WriteFrame(dnsAnswerFrame(tlSrvMAC, 2, "10.0.0.67"))     // srv's MAC and address, but no query 2 was sent
			return nil
		},
	}
	res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
	if runFailed(res) {
		t.Fatalf("run failed: %v", res.Err)
	}
	want := map[string]struct {
		host string
		text string
	}{
		"10.0.0.66": {"mallory", "DNS answer srv.lab.test A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.66 (forged as 10.0.0.20 (srv): " +
			"sent from mallory's MAC 02:00:00:00:00:42, not srv's)"},
		"10.0.0.67": {"", "DNS answer srv.lab.test A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.67 (forged as 10.0.0.20 (srv): " +
			"it crossed the wire before the query it answers)"},
	}
	found := 0
	for _, e := range tl {
		if e.Kind != timeline.DNS {
			continue
		}
		for _, w := range want {
			if e.Text == w.text {
				found++
				if !e.Forged || e.Host != w.host || e.Peer != "alice" || e.Frame == 0 {
					t.Errorf("%s: Forged %v, Host %q, Peer %q, Frame %d; want true, %q, alice, a frame", e.Text, e.Forged, e.Host, e.Peer, e.Frame, w.host)
				}
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d forged answers in\n%v", found, len(want), tl)
	}
}

package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlslab/tlslab/netsim"
)

func TestRefusalPeer(t *testing.T) {
	for _, tc := range []struct {
		reason string
		want   string // "" for none
	}{
		{"tls: failed to verify certificate: x509: certificate signed by unknown authority, in the TLS handshake with pool01.contoso.com (10.0.0.11:5061); plaintext fallback is off", "10.0.0.11:5061"},
		{"MTLS peer fe99.contoso.com is not in the trusted server list, in the inbound handshake from 10.0.0.99 on the mtls listener", "10.0.0.99:0"},
		{`pki: revocation status of "pool01.contoso.com" unavailable: OCSP http://pki.contoso.com/ocsp: read tcp 10.0.0.10:52813->10.0.0.80:80: read: connection reset by peer, in the TLS handshake with pool01.contoso.com (10.0.0.11:5061)`, "10.0.0.11:5061"},
		{"negotiated ephemeral (ECDHE) key exchange with alice; the stolen RSA key does not decrypt it", ""},
		{"a version 1.2.3.456 that is no address", ""},
		{"port out of range 10.0.0.1:70000", ""},
	} {
		got, ok := refusalPeer(tc.reason)
		if (tc.want == "") == ok || ok && got.String() != tc.want {
			t.Errorf("refusalPeer(%q) = %v, %v; want %q", tc.reason, got, ok, tc.want)
		}
	}
}

func TestRefusalNote(t *testing.T) {
	for _, tc := range []struct {
		defense, want string
	}{
		{DefenseChainValidation, "alice: refused the certificate (chain-validation): why"},
		{DefenseRevocation, "alice: refused the certificate (revocation): why"},
		{DefenseMinTLSVersion, "alice: refused the handshake (min-tls-version): why"},
		{DefenseTrustedServerList, "alice: refused the peer (trusted-server-list): why"},
		{DefenseARPPolicy, ""},
		{DefenseDNSSECValidation, ""},
		{DefenseTLSOnly, ""},
		{DefenseForwardSecrecyOnly, ""},
	} {
		got := ""
		if refusalNoun(tc.defense) != "" {
			got = refusalNote(Refusal{Defense: tc.defense, Host: "alice", Reason: "why"})
		}
		if got != tc.want {
			t.Errorf("%s: note %q, want %q", tc.defense, got, tc.want)
		}
	}
}

var (
	aliceIP = netip.MustParseAddr("10.0.0.10")
	poolIP  = netip.MustParseAddr("10.0.0.11")
)

// tcpFrame builds an Ethernet/IPv4/TCP frame from src to dst carrying
// payload.
func tcpFrame(src, dst netip.AddrPort, payload []byte) []byte {
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s4[:], DstIP: d4[:]}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), ACK: true, PSH: len(payload) > 0, Window: 1024}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// alert is a TLS 1.2 bad_certificate alert record.
var alert = []byte{21, 3, 3, 0, 2, 2, 42}

func TestTLSRecordFrom(t *testing.T) {
	alice := netip.AddrPortFrom(aliceIP, 52000)
	pool := netip.AddrPortFrom(poolIP, 5061)
	addrs := []netip.Addr{aliceIP}
	for _, tc := range []struct {
		name  string
		frame []byte
		peer  netip.AddrPort
		want  bool
	}{
		{"alert to the peer", tcpFrame(alice, pool, alert), pool, true},
		{"alert to the peer's address, any port", tcpFrame(alice, pool, alert), netip.AddrPortFrom(poolIP, 0), true},
		{"application data", tcpFrame(alice, pool, []byte{23, 3, 3, 0, 1, 0}), pool, true},
		{"another port", tcpFrame(alice, pool, alert), netip.AddrPortFrom(poolIP, 5062), false},
		{"another peer", tcpFrame(alice, pool, alert), netip.MustParseAddrPort("10.0.0.12:5061"), false},
		{"from the peer", tcpFrame(pool, alice, alert), netip.AddrPortFrom(aliceIP, 0), false},
		{"no TLS record", tcpFrame(alice, pool, []byte("POST /ocsp HTTP/1.1\r\n")), pool, false},
		{"no payload", tcpFrame(alice, pool, nil), pool, false},
		{"a record header cut short", tcpFrame(alice, pool, alert[:4]), pool, false},
		{"not IPv4", []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 6, 0, 1}, pool, false},
	} {
		if got := tlsRecordFrom(tc.frame, addrs, tc.peer); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A run's capture carries the notes of the frames its actors forged, a
// note on the frame by which a handshake was refused, written after the
// fact, and, with EmbedKeys, the key log as a Decryption Secrets Block.
func TestRunnerCaptureNotes(t *testing.T) {
	for _, embed := range []bool{false, true} {
		dir := t.TempDir()
		s := Scenario{Name: "mitm/noted", Summary: "x", Attacker: "mallory", Expected: Held, StoppedBy: DefenseChainValidation,
			Run: func(ctx context.Context, e *Env) error {
				if (e.KeyLog != nil) != embed {
					t.Errorf("KeyLog %v with EmbedKeys %v and no key log dir", e.KeyLog, embed)
				}
				lan := e.World.NewSegment("lan", netsim.SegmentConfig{})
				e.Capture(lan)
				nics := map[string]*netsim.NIC{}
				for name, addr := range map[string]string{"alice": "10.0.0.10/24", "fe01": "10.0.0.11/24", "mallory": "10.0.0.66/24"} {
					nic, err := e.World.NewHost(name, netsim.HostConfig{}).AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix(addr)})
					if err != nil {
						return err
					}
					nics[name] = nic
				}
				if e.KeyLog != nil {
					io.WriteString(e.KeyLog, "CLIENT_RANDOM 00 11\n")
				}
				alice, pool := netip.AddrPortFrom(aliceIP, 52000), netip.AddrPortFrom(poolIP, 5061)
				nics["mallory"].WriteFrame(e.World.NoteFrame(tcpFrame(pool, alice, []byte{22, 3, 3, 0, 1, 2}), "mallory: forged"))
				nics["alice"].WriteFrame(tcpFrame(alice, pool, alert))
				nics["alice"].WriteFrame(tcpFrame(alice, pool, nil)) // the FIN that follows, say
				e.Evidence.Reached("mallory", MilestonePresented, "presented her certificate")
				e.Evidence.Refused("alice", DefenseChainValidation, "x509: unknown authority, in the TLS handshake with pool01 (%s)", pool)
				e.Evidence.Refused("alice", DefenseDNSSECValidation, "dropped the forged answer from 10.0.0.53")
				return nil
			}}
		r := Runner{PcapDir: dir, EmbedKeys: embed}.Run(context.Background(), s)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "mitm-noted.pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		var comments [][]string
		for {
			_, _, opts, err := rd.ReadPacketDataWithOptions()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			comments = append(comments, opts.Comments)
		}
		want := [][]string{
			{"mallory: forged"},
			{"alice: refused the certificate (chain-validation): x509: unknown authority, in the TLS handshake with pool01 (10.0.0.11:5061)"},
			nil,
		}
		if !slices.EqualFunc(comments, want, slices.Equal) {
			t.Errorf("EmbedKeys %v: comments %q, want %q", embed, comments, want)
		}
		secrets := bytes.Contains(data, append(binary.LittleEndian.AppendUint32(nil, netsim.SecretsTLSKeyLog), binary.LittleEndian.AppendUint32(nil, 20)...))
		if secrets != embed || embed && !strings.Contains(string(data), "CLIENT_RANDOM 00 11\n") {
			t.Errorf("EmbedKeys %v: secrets block in the capture: %v", embed, secrets)
		}
	}
}

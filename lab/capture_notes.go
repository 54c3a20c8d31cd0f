package lab

import (
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	"github.com/tlslab/tlslab/internal/tcpstream"
	"github.com/tlslab/tlslab/netsim"
)

// The run's capture is annotated for Wireshark: the attackers note the
// frames they forge as they send them (netsim.World.NoteFrame), and the
// Env notes, for each refusal of a handshake, the frame that carried it,
// after the fact: the capture holds its frames until the run ends
// (netsim.CaptureOptions.Hold), and a refusal is recorded once the
// refusing side's TLS stack has already sent its alert.

// refusalNoun says what a defense refuses in a handshake, for a capture
// note; "" for the defenses that refuse no handshake (a spoofed ARP reply,
// a forged DNS answer, a plaintext fallback, an SRV target, a key
// exchange an eavesdropper cannot break), whose refusals carry no frame of
// the refusing host.
func refusalNoun(defense string) string {
	switch defense {
	case DefenseChainValidation, DefenseHostnameCheck, DefenseValidityCheck, DefenseRevocation:
		return "certificate"
	case DefenseClientCertRequired, DefenseMinTLSVersion:
		return "handshake"
	case DefenseTrustedServerList, DefenseFederationAllowList:
		return "peer"
	}
	return ""
}

// refusalNote is the capture note of a refusal:
// "alice: refused the certificate (chain-validation): tls: failed to
// verify certificate: x509: ...".
func refusalNote(r Refusal) string {
	return r.Host + ": refused the " + refusalNoun(r.Defense) + " (" + r.Defense + "): " + r.Reason
}

// noteRefusal notes a refusal of a handshake on the last frame carrying a
// TLS record that the refusing host sent to the peer it refused: its
// alert, or the last flight of its handshake when it refused afterwards
// (a trusted server list). The peer is the last address the reason names
// (see refusalPeer). It does nothing without a capture, for a refusal of
// something else, for a reason that names no peer address, or when no
// such frame was captured.
func (e *Env) noteRefusal(r Refusal) {
	if refusalNoun(r.Defense) == "" {
		return
	}
	peer, ok := refusalPeer(r.Reason)
	if !ok {
		return
	}
	e.mu.Lock()
	c := e.capture
	e.mu.Unlock()
	if c == nil {
		return
	}
	addrs := hostAddrs(e.World, r.Host)
	if len(addrs) == 0 {
		return
	}
	c.NoteLast(func(frame []byte) bool { return tlsRecordFrom(frame, addrs, peer) }, refusalNote(r))
}

// ipv4AddrPort matches an IPv4 address with an optional port.
var ipv4AddrPort = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?\b`)

// refusalPeer returns the last IPv4 address, with its port when given
// (zero otherwise), that reason names: the lab's refusals end by saying
// where they happened, "..., in the TLS handshake with pool01.contoso.com
// (10.0.0.11:5061)" or "..., in the inbound handshake from 10.0.0.99 on
// the mtls listener", while addresses earlier in the reason belong to
// its cause (an OCSP responder that did not answer).
func refusalPeer(reason string) (netip.AddrPort, bool) {
	all := ipv4AddrPort.FindAllStringSubmatch(reason, -1)
	if len(all) == 0 {
		return netip.AddrPort{}, false
	}
	last := all[len(all)-1]
	addr, err := netip.ParseAddr(last[1])
	if err != nil {
		return netip.AddrPort{}, false
	}
	var port uint64
	if last[2] != "" {
		if port, err = strconv.ParseUint(last[2], 10, 16); err != nil {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// hostAddrs returns the IPv4 addresses of the World's host named name.
func hostAddrs(w *netsim.World, name string) []netip.Addr {
	var addrs []netip.Addr
	for _, h := range w.Hosts() {
		if h.Name() == name {
			for _, n := range h.NICs() {
				addrs = append(addrs, n.Addr())
			}
		}
	}
	return addrs
}

// tlsRecordFrom reports whether frame is an Ethernet/IPv4/TCP frame from
// one of addrs to peer (to any port when peer's is zero) whose payload
// starts with a TLS record header (content type 20 to 23, major version
// 3).
func tlsRecordFrom(frame []byte, addrs []netip.Addr, peer netip.AddrPort) bool {
	seg, ok := tcpstream.ParseFrame(frame)
	switch {
	case !ok, len(seg.Payload) < 5,
		seg.Dst.Addr() != peer.Addr(),
		peer.Port() != 0 && seg.Dst.Port() != peer.Port(),
		!slices.Contains(addrs, seg.Src.Addr()):
		return false
	}
	typ, major := seg.Payload[0], seg.Payload[1]
	return typ >= 20 && typ <= 23 && major == 3
}

// embeddedKeyLog is the run's key log when the capture embeds it
// (Runner.EmbedKeys): each write goes into the capture, and to the key
// log file when one was asked for.
type embeddedKeyLog struct {
	capture io.Writer // the capture's KeyLogWriter, which never fails
	file    io.Writer // nil without a key log file
}

func (k embeddedKeyLog) Write(p []byte) (int, error) {
	k.capture.Write(p)
	if k.file == nil {
		return len(p), nil
	}
	return k.file.Write(p)
}

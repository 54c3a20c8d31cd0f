package lab

import (
	"encoding/binary"
	"io"
	"net/netip"
	"slices"

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
// a forged DNS answer, a plaintext fallback, an SRV target), whose refusals
// carry no frame of the refusing host.
func refusalNoun(defense string) string {
	switch defense {
	case DefenseChainValidation, DefenseHostnameCheck, DefenseValidityCheck, DefenseRevocation:
		return "certificate"
	case DefenseClientCertRequired, DefenseMinTLSVersion, DefenseForwardSecrecyOnly:
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
// TLS record that the refusing host sent: its alert, or the last flight
// of its handshake when it refused afterwards (a trusted server list). It
// does nothing without a capture, for a refusal of something else, or for
// a host that sent no TLS record.
func (e *Env) noteRefusal(r Refusal) {
	if refusalNoun(r.Defense) == "" {
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
	c.NoteLast(func(frame []byte) bool { return tlsRecordFrom(frame, addrs) }, refusalNote(r))
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
// one of addrs whose payload starts with a TLS record header (content
// type 20 to 23, major version 3).
func tlsRecordFrom(frame []byte, addrs []netip.Addr) bool {
	const eth = 14
	if len(frame) < eth+20+20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[eth+9] != 6 {
		return false
	}
	ip := frame[eth:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || total > len(ip) || total < ihl+20 {
		return false
	}
	off := ihl + int(ip[ihl+12]>>4)*4
	if total-off < 5 || !slices.Contains(addrs, netip.AddrFrom4([4]byte(ip[12:16]))) {
		return false
	}
	typ, major := ip[off], ip[off+1]
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

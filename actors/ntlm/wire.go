package ntlm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

// go-ntlmssp builds the client's NEGOTIATE and AUTHENTICATE messages but
// exports neither a CHALLENGE builder nor an AUTHENTICATE parser, which a
// server needs. This file holds those two, per MS-NLMP 2.2.1.2 and 2.2.1.3,
// and nothing else of the wire format.

// signature opens every NTLMSSP message.
var signature = []byte("NTLMSSP\x00")

// Message types (MS-NLMP 2.2.1).
const (
	typeNegotiate    = 1
	typeChallenge    = 2
	typeAuthenticate = 3
)

// Negotiate flags the server sets in its CHALLENGE (MS-NLMP 2.2.2.5).
const (
	flagUnicode        = 1 << 0
	flagRequestTarget  = 1 << 2
	flagNTLM           = 1 << 9
	flagAlwaysSign     = 1 << 15
	flagTargetDomain   = 1 << 16
	flagExtendedSecure = 1 << 19
	flagTargetInfo     = 1 << 23
	flagVersion        = 1 << 25
	flag128            = 1 << 29
	flag56             = 1 << 31

	challengeFlags = flagUnicode | flagRequestTarget | flagNTLM | flagAlwaysSign | flagTargetDomain |
		flagExtendedSecure | flagTargetInfo | flagVersion | flag128 | flag56
)

// AV_PAIR ids (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avTimestamp       = 7
)

// Target names the server in its CHALLENGE, as a domain member does.
// Empty names are left out of the target info.
type Target struct {
	NetBIOSDomain   string // e.g. "CONTOSO"; also the CHALLENGE's TargetName
	NetBIOSComputer string // e.g. "FE01"
	DNSDomain       string // e.g. "contoso.com"
	DNSComputer     string // e.g. "fe01.contoso.com"
}

// windowsEpochOffset is 1601-01-01 to 1970-01-01 in 100 ns intervals.
const windowsEpochOffset = 116444736000000000

// fileTime encodes t as a Windows FILETIME.
func fileTime(t time.Time) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(t.UnixNano()/100+windowsEpochOffset))
	return b
}

// buildChallenge returns a CHALLENGE message (MS-NLMP 2.2.1.2) carrying
// serverChallenge and target, with now as the MsvAvTimestamp the client
// copies into its NTLMv2 response. The version field says Windows 10.
func buildChallenge(serverChallenge [8]byte, target Target, now time.Time) []byte {
	var info bytes.Buffer
	pair := func(id uint16, value []byte) {
		_ = binary.Write(&info, binary.LittleEndian, [2]uint16{id, uint16(len(value))})
		info.Write(value)
	}
	for _, p := range []struct {
		id   uint16
		name string
	}{
		{avNbDomainName, target.NetBIOSDomain}, {avNbComputerName, target.NetBIOSComputer},
		{avDNSDomainName, target.DNSDomain}, {avDNSComputerName, target.DNSComputer},
	} {
		if p.name != "" {
			pair(p.id, utf16le(p.name))
		}
	}
	pair(avTimestamp, fileTime(now))
	pair(avEOL, nil)

	const headerLen = 56
	name := utf16le(target.NetBIOSDomain)
	var m bytes.Buffer
	m.Write(signature)
	le := func(v any) { _ = binary.Write(&m, binary.LittleEndian, v) }
	le(uint32(typeChallenge))
	le([2]uint16{uint16(len(name)), uint16(len(name))})
	le(uint32(headerLen))
	le(uint32(challengeFlags))
	m.Write(serverChallenge[:])
	m.Write(make([]byte, 8)) // Reserved
	le([2]uint16{uint16(info.Len()), uint16(info.Len())})
	le(uint32(headerLen + len(name)))
	m.Write([]byte{10, 0, 0x63, 0x45, 0, 0, 0, 15}) // 10.0 build 17763, NTLMSSP revision 15
	m.Write(name)
	m.Write(info.Bytes())
	return m.Bytes()
}

// Authenticate is a parsed AUTHENTICATE message (MS-NLMP 2.2.1.3).
type Authenticate struct {
	User, Domain, Workstation string
	LMResponse, NTResponse    []byte
	Flags                     uint32
}

// MalformedError says why bytes are not the NTLMSSP message expected.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "ntlm: malformed message: " + e.Reason }

// messageType returns the type of an NTLMSSP message, or an error if msg
// does not start with the signature.
func messageType(msg []byte) (uint32, error) {
	if len(msg) < 12 || !bytes.Equal(msg[:8], signature) {
		return 0, &MalformedError{"no NTLMSSP signature"}
	}
	return binary.LittleEndian.Uint32(msg[8:12]), nil
}

// ParseAuthenticate parses an AUTHENTICATE message. It checks every
// field's bounds and returns a *MalformedError for anything that is not
// one; it does not judge the responses.
func ParseAuthenticate(msg []byte) (Authenticate, error) {
	t, err := messageType(msg)
	if err != nil {
		return Authenticate{}, err
	}
	if t != typeAuthenticate {
		return Authenticate{}, &MalformedError{fmt.Sprintf("message type %d, want %d (AUTHENTICATE)", t, typeAuthenticate)}
	}
	if len(msg) < 64 {
		return Authenticate{}, &MalformedError{fmt.Sprintf("AUTHENTICATE of %d bytes, shorter than its 64-byte header", len(msg))}
	}
	field := func(off int) ([]byte, error) {
		n := int(binary.LittleEndian.Uint16(msg[off:]))
		start := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if n == 0 {
			return nil, nil
		}
		if start < 0 || start > len(msg) || n > len(msg)-start {
			return nil, &MalformedError{fmt.Sprintf("field at header offset %d runs past the message", off)}
		}
		return bytes.Clone(msg[start : start+n]), nil
	}
	var a Authenticate
	a.Flags = binary.LittleEndian.Uint32(msg[60:64])
	var raw [5][]byte
	for i, off := range []int{12, 20, 28, 36, 44} {
		if raw[i], err = field(off); err != nil {
			return Authenticate{}, err
		}
	}
	a.LMResponse, a.NTResponse = raw[0], raw[1]
	names := []*string{&a.Domain, &a.User, &a.Workstation}
	for i, b := range raw[2:] {
		if a.Flags&flagUnicode == 0 {
			*names[i] = string(b) // OEM: close enough to ASCII for lab names
			continue
		}
		if len(b)%2 != 0 {
			return Authenticate{}, &MalformedError{"odd-length UTF-16 name"}
		}
		u := make([]uint16, len(b)/2)
		for j := range u {
			u[j] = binary.LittleEndian.Uint16(b[2*j:])
		}
		*names[i] = string(utf16.Decode(u))
	}
	return a, nil
}

// ServerChallenge returns the server challenge a CHALLENGE message
// carries, for an eavesdropper who saw the exchange and pairs it with the
// AUTHENTICATE that followed (Capture). It fails with *MalformedError for
// anything but a CHALLENGE.
func ServerChallenge(challenge []byte) ([8]byte, error) {
	t, err := messageType(challenge)
	if err != nil {
		return [8]byte{}, err
	}
	if t != typeChallenge || len(challenge) < 32 {
		return [8]byte{}, &MalformedError{fmt.Sprintf("message type %d of %d bytes is not a CHALLENGE", t, len(challenge))}
	}
	return [8]byte(challenge[24:32]), nil
}

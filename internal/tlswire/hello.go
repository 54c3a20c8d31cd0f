package tlswire

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// Hello extensions this package reads (RFC 8446 section 4.2).
const (
	extServerName           = 0
	extExtendedMasterSecret = 23
	extSupportedVersions    = 43

	sniHostName = 0
)

// helloRetryRequestRandom is the ServerHello.random that marks a
// HelloRetryRequest (RFC 8446 section 4.1.3).
var helloRetryRequestRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// ClientHello is what the lab reads of a ClientHello. It shares nothing
// with the message it was parsed from.
type ClientHello struct {
	LegacyVersion uint16
	Random        []byte // 32 bytes; names the connection's secrets in a key log
	SessionID     []byte
	CipherSuites  []uint16 // in the client's order, GREASE included
	// ServerName is the first host_name of server_name (SNI); empty when
	// absent.
	ServerName string
	// SupportedVersions is the supported_versions extension as offered,
	// GREASE included; nil when absent.
	SupportedVersions []uint16
}

// Versions is what the client offers: supported_versions without GREASE
// values or, when that leaves nothing, the legacy version alone.
func (h ClientHello) Versions() []uint16 {
	var vs []uint16
	for _, v := range h.SupportedVersions {
		if !isGREASE(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		vs = []uint16{h.LegacyVersion}
	}
	return vs
}

// isGREASE reports whether v is a GREASE value (RFC 8701).
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a }

// ParseClientHello parses a ClientHello message body. Extensions are
// optional, as before TLS 1.2.
func ParseClientHello(msg []byte) (ClientHello, bool) {
	var h ClientHello
	s := cryptobyte.String(msg)
	var random, sid []byte
	var suites, comp cryptobyte.String
	if !s.ReadUint16(&h.LegacyVersion) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		return h, false
	}
	h.Random, h.SessionID = bytes.Clone(random), bytes.Clone(sid)
	for !suites.Empty() {
		var suite uint16
		if !suites.ReadUint16(&suite) {
			return h, false
		}
		h.CipherSuites = append(h.CipherSuites, suite)
	}
	ok := readExtensions(s, func(typ uint16, data cryptobyte.String) (ok bool) {
		switch typ {
		case extServerName:
			h.ServerName, ok = parseServerName(data)
		case extSupportedVersions:
			h.SupportedVersions, ok = parseVersionList(data)
		default:
			ok = true
		}
		return ok
	})
	return h, ok
}

// readExtensions calls fn for each extension in the optional extensions
// block that is all s holds, and reports whether the block and every fn
// call were well-formed.
func readExtensions(s cryptobyte.String, fn func(typ uint16, data cryptobyte.String) bool) bool {
	var exts cryptobyte.String
	if s.Empty() {
		return true
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return false
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) || !fn(typ, data) {
			return false
		}
	}
	return true
}

// parseServerName returns the first host_name of a server_name extension.
func parseServerName(data cryptobyte.String) (string, bool) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return "", false
	}
	name := ""
	for !list.Empty() {
		var kind uint8
		var n cryptobyte.String
		if !list.ReadUint8(&kind) || !list.ReadUint16LengthPrefixed(&n) {
			return "", false
		}
		if kind == sniHostName && name == "" {
			name = string(n)
		}
	}
	return name, true
}

// parseVersionList reads a ClientHello's supported_versions.
func parseVersionList(data cryptobyte.String) ([]uint16, bool) {
	var list cryptobyte.String
	if !data.ReadUint8LengthPrefixed(&list) {
		return nil, false
	}
	vs := []uint16{}
	for !list.Empty() {
		var v uint16
		if !list.ReadUint16(&v) {
			return nil, false
		}
		vs = append(vs, v)
	}
	return vs, true
}

// ServerHello is what the lab reads of a ServerHello (or a
// HelloRetryRequest, which has the same form). It shares nothing with the
// message it was parsed from.
type ServerHello struct {
	// Version is the negotiated version: supported_versions when present
	// (TLS 1.3), else the legacy version.
	Version     uint16
	Random      []byte
	SessionID   []byte
	CipherSuite uint16
	// ExtendedMasterSecret reports the extended_master_secret extension
	// (RFC 7627): the TLS 1.2 master secret hashes the handshake.
	ExtendedMasterSecret bool
}

// IsHelloRetryRequest reports whether h is a HelloRetryRequest.
func (h ServerHello) IsHelloRetryRequest() bool {
	return bytes.Equal(h.Random, helloRetryRequestRandom)
}

// ParseServerHello parses a ServerHello message body.
func ParseServerHello(msg []byte) (ServerHello, bool) {
	var h ServerHello
	s := cryptobyte.String(msg)
	var random, sid []byte
	var comp uint8
	if !s.ReadUint16(&h.Version) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) ||
		!s.ReadUint16(&h.CipherSuite) || !s.ReadUint8(&comp) {
		return h, false
	}
	h.Random, h.SessionID = bytes.Clone(random), bytes.Clone(sid)
	ok := readExtensions(s, func(typ uint16, data cryptobyte.String) bool {
		switch typ {
		case extExtendedMasterSecret:
			h.ExtendedMasterSecret = true
		case extSupportedVersions:
			return data.ReadUint16(&h.Version) && data.Empty()
		}
		return true
	})
	return h, ok
}

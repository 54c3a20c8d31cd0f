package eavesdrop

import "bytes"

// Handshake message types and extensions (RFC 8446 section 4).
const (
	handshakeClientHello = 1
	handshakeServerHello = 2

	extensionServerName        = 0
	extensionSupportedVersions = 43

	sniHostName = 0

	versionTLS13 = 0x0304
)

// helloRetryRequestRandom is the ServerHello.random that marks a
// HelloRetryRequest (RFC 8446 section 4.1.3).
var helloRetryRequestRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

type clientHello struct {
	sni string
}

type serverHello struct {
	version     uint16 // negotiated: supported_versions if present, else legacy_version
	cipherSuite uint16
	retry       bool // a HelloRetryRequest
}

// parseClientHello extracts the server_name from a ClientHello body.
func parseClientHello(msg []byte) (clientHello, bool) {
	r := reader{b: msg}
	r.skip(2 + 32) // legacy_version, random
	r.vec8()       // legacy_session_id
	r.vec16()      // cipher_suites
	r.vec8()       // legacy_compression_methods
	var ch clientHello
	if r.bad || r.empty() {
		return ch, !r.bad // extensions are optional before TLS 1.2
	}
	exts := reader{b: r.vec16()}
	for !exts.bad && !exts.empty() {
		typ, data := exts.u16(), exts.vec16()
		if typ == extensionServerName {
			ch.sni = parseServerName(data)
		}
	}
	return ch, !r.bad && !exts.bad
}

// parseServerName returns the first host_name of a server_name extension.
func parseServerName(data []byte) string {
	r := reader{b: data}
	list := reader{b: r.vec16()}
	for !list.bad && !list.empty() {
		typ, name := list.u8(), list.vec16()
		if typ == sniHostName && !list.bad {
			return string(name)
		}
	}
	return ""
}

// parseServerHello extracts the negotiated version and cipher suite.
func parseServerHello(msg []byte) (serverHello, bool) {
	r := reader{b: msg}
	sh := serverHello{version: r.u16()}
	random := r.bytes(32)
	sh.retry = bytes.Equal(random, helloRetryRequestRandom)
	r.vec8() // legacy_session_id_echo
	sh.cipherSuite = r.u16()
	r.skip(1) // legacy_compression_method
	if r.bad || r.empty() {
		return sh, !r.bad
	}
	exts := reader{b: r.vec16()}
	for !exts.bad && !exts.empty() {
		typ, data := exts.u16(), exts.vec16()
		if typ == extensionSupportedVersions && len(data) == 2 {
			sh.version = be16(data)
		}
	}
	return sh, !r.bad && !exts.bad
}

// reader reads big-endian fields; once a read overruns, bad is set and every
// further read returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) empty() bool { return len(r.b) == 0 }

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) skip(n int) { r.bytes(n) }

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return be16(b)
	}
	return 0
}

func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }

package tlswire

import (
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
)

// ServerHelloRecord returns a handshake record holding a ServerHello with
// no extensions, as a server that knows nothing newer than version writes
// it: version in the record header and the hello, then random (32 bytes),
// the echoed sessionID, suite, and no compression.
func ServerHelloRecord(version uint16, random, sessionID []byte, suite uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint8(ContentHandshake)
	b.AddUint16(version)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(HandshakeServerHello)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(version)
			b.AddBytes(random)
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sessionID) })
			b.AddUint16(suite)
			b.AddUint8(0) // no compression
		})
	})
	return b.BytesOrPanic()
}

// DowngradeSupportedVersions rewrites, in place, every supported_versions
// entry above max of the ClientHello record at the start of b to max, and
// reports whether it changed anything. Lengths stay as they were. b may be
// only the first part of the record (one TCP segment of it): the record
// and message lengths are not checked against it, but the extensions up
// to and including supported_versions must lie within b.
func DowngradeSupportedVersions(b []byte, max uint16) bool {
	if len(b) < HeaderLen+4 || b[0] != ContentHandshake || b[1] != 3 || b[HeaderLen] != HandshakeClientHello {
		return false
	}
	s := cryptobyte.String(b[HeaderLen+4:])
	var sid, suites, comp cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) || !s.Skip(2) { // the extensions' length
		return false
	}
	for {
		var typ uint16
		var data cryptobyte.String
		if !s.ReadUint16(&typ) || !s.ReadUint16LengthPrefixed(&data) {
			return false
		}
		if typ != extSupportedVersions {
			continue
		}
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) || !data.Empty() {
			return false
		}
		changed := false
		for ; len(list) >= 2; list = list[2:] {
			if binary.BigEndian.Uint16(list) > max {
				binary.BigEndian.PutUint16(list, max) // list aliases b
				changed = true
			}
		}
		return changed
	}
}

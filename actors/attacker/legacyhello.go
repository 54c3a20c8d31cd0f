package attacker

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// answerAsLegacyServer reads the victim's ClientHello from conn. When the
// client offers version, it returns a conn that replays the ClientHello,
// for crypto/tls to complete the handshake at that version. When it does
// not (its floor is higher), it answers as a server that speaks nothing
// newer than version does: a ServerHello selecting version and the
// client's first cipher suite. The client then refuses by its own
// version floor ("tls: server selected unsupported protocol version
// 301"), and answerAsLegacyServer returns the alert it sent as an error.
func answerAsLegacyServer(conn net.Conn, version uint16) (net.Conn, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, err
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, err
	}
	record := append(hdr[:], body...)
	hello, ok := parseLegacyClientHello(record)
	if !ok || slices.Contains(hello.versions, version) {
		return &replayConn{Conn: conn, prefix: record}, nil
	}
	if _, err := conn.Write(legacyServerHello(version, hello)); err != nil {
		return nil, err
	}
	var alert [7]byte
	if _, err := io.ReadFull(conn, alert[:]); err != nil {
		return nil, fmt.Errorf("attacker: answered %s; the client gave no alert: %w", tls.VersionName(version), err)
	}
	if alert[0] != recordAlert {
		return nil, fmt.Errorf("attacker: answered %s; the client sent record type %d, not an alert", tls.VersionName(version), alert[0])
	}
	return nil, fmt.Errorf("attacker: answered %s; the client refused it: alert %w", tls.VersionName(version), tls.AlertError(alert[6]))
}

// legacyClientHello is what the legacy answer needs of a ClientHello.
type legacyClientHello struct {
	versions  []uint16 // supported_versions, or the legacy version alone
	sessionID []byte
	suite     uint16 // the first cipher suite offered
}

// parseLegacyClientHello parses the ClientHello in a handshake record.
func parseLegacyClientHello(record []byte) (legacyClientHello, bool) {
	var h legacyClientHello
	s := cryptobyte.String(record[5:])
	var (
		typ     uint8
		msg     cryptobyte.String
		legacy  uint16
		suites  cryptobyte.String
		methods cryptobyte.String
		exts    cryptobyte.String
		sid     []byte
	)
	if record[0] != recordHandshake || !s.ReadUint8(&typ) || typ != hsClientHello || !s.ReadUint24LengthPrefixed(&msg) ||
		!msg.ReadUint16(&legacy) || !msg.Skip(32) || !msg.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) ||
		!msg.ReadUint16LengthPrefixed(&suites) || !suites.ReadUint16(&h.suite) || !msg.ReadUint8LengthPrefixed(&methods) {
		return h, false
	}
	h.sessionID = sid
	h.versions = []uint16{legacy}
	if msg.Empty() || !msg.ReadUint16LengthPrefixed(&exts) {
		return h, true
	}
	for !exts.Empty() {
		var (
			ext  uint16
			data cryptobyte.String
		)
		if !exts.ReadUint16(&ext) || !exts.ReadUint16LengthPrefixed(&data) {
			return h, false
		}
		if ext != extSupportedVersions {
			continue
		}
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) {
			return h, false
		}
		h.versions = h.versions[:0]
		for !list.Empty() {
			var v uint16
			if !list.ReadUint16(&v) {
				return h, false
			}
			h.versions = append(h.versions, v)
		}
	}
	return h, true
}

// legacyServerHello is a ServerHello record selecting version and the
// client's first suite, echoing its session ID, with no extensions.
func legacyServerHello(version uint16, h legacyClientHello) []byte {
	var random [32]byte
	_, _ = rand.Read(random[:])
	var b cryptobyte.Builder
	b.AddUint8(recordHandshake)
	b.AddUint16(version)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(hsServerHello)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(version)
			b.AddBytes(random[:])
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.sessionID) })
			b.AddUint16(h.suite)
			b.AddUint8(0) // no compression
		})
	})
	return b.BytesOrPanic()
}

// replayConn returns prefix before reading on from Conn.
type replayConn struct {
	net.Conn
	prefix []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

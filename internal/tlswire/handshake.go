package tlswire

import "golang.org/x/crypto/cryptobyte"

// Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4).
const (
	HandshakeClientHello       = 1
	HandshakeServerHello       = 2
	HandshakeCertificate       = 11
	HandshakeServerHelloDone   = 14
	HandshakeClientKeyExchange = 16
	HandshakeFinished          = 20
	HandshakeKeyUpdate         = 24
)

// MaxHandshakeLen is the longest handshake message SplitHandshake accepts
// (crypto/tls's own limit).
const MaxHandshakeLen = 1 << 16

// Message is one handshake message. Raw is its four-byte header and body,
// as hashed into the transcript; Body is the body alone. Both alias the
// bytes the message was split from.
type Message struct {
	Type uint8
	Body []byte
	Raw  []byte
}

// SplitHandshake splits the whole handshake messages at the start of b
// (the bodies of consecutive handshake records, joined). rest is the start
// of a message not yet complete. ok is false when a message announces more
// than MaxHandshakeLen bytes; rest then starts with it.
func SplitHandshake(b []byte) (msgs []Message, rest []byte, ok bool) {
	for {
		s := cryptobyte.String(b)
		var typ uint8
		var n uint32
		if !s.ReadUint8(&typ) || !s.ReadUint24(&n) {
			return msgs, b, true
		}
		if n > MaxHandshakeLen {
			return msgs, b, false
		}
		if len(s) < int(n) {
			return msgs, b, true
		}
		msgs = append(msgs, Message{Type: typ, Body: b[4 : 4+n], Raw: b[:4+n]})
		b = b[4+n:]
	}
}

// ParseRSAClientKeyExchange returns the encrypted premaster secret of a
// static RSA ClientKeyExchange message body (RFC 5246 section 7.4.7.1).
func ParseRSAClientKeyExchange(msg []byte) (encryptedPremaster []byte, ok bool) {
	s := cryptobyte.String(msg)
	var enc cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&enc) || !s.Empty() {
		return nil, false
	}
	return enc, true
}

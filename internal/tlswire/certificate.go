package tlswire

import (
	"bytes"
	"crypto/x509"
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// errMalformedCertificate is ParseCertificates' error for bytes that are
// not a Certificate message.
var errMalformedCertificate = errors.New("malformed Certificate message")

// ParseCertificates parses a Certificate message body: TLS 1.3's (RFC 8446
// section 4.4.2: a request context, and extensions after each certificate)
// when tls13, else TLS 1.0-1.2's. An empty list (a client without a
// certificate) is no error. The certificates share nothing with msg. The
// error is x509's for a certificate that does not parse.
func ParseCertificates(msg []byte, tls13 bool) ([]*x509.Certificate, error) {
	s := cryptobyte.String(msg)
	var context, list cryptobyte.String
	if tls13 && !s.ReadUint8LengthPrefixed(&context) {
		return nil, errMalformedCertificate
	}
	if !s.ReadUint24LengthPrefixed(&list) {
		return nil, errMalformedCertificate
	}
	var certs []*x509.Certificate
	for !list.Empty() {
		var der, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || tls13 && !list.ReadUint16LengthPrefixed(&exts) {
			return nil, errMalformedCertificate
		}
		c, err := x509.ParseCertificate(bytes.Clone(der))
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	return certs, nil
}

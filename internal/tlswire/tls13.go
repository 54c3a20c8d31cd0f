package tlswire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// NewTLS13Opener returns an Opener for the records a traffic secret (a key
// log's *_TRAFFIC_SECRET_*) protects under suite, one of the three TLS 1.3
// cipher suites; its key and IV come from the key schedule (RFC 8446
// section 7.3).
func NewTLS13Opener(suite uint16, trafficSecret []byte) (*Opener, error) {
	h, keyLen := sha256.New, 16
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
	case tls.TLS_AES_256_GCM_SHA384:
		h, keyLen = sha512.New384, 32
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		keyLen = chacha20poly1305.KeySize
	default:
		return nil, fmt.Errorf("tlswire: no TLS 1.3 cipher suite %#04x", suite)
	}
	key, err := expandLabel(h, trafficSecret, "key", keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(h, trafficSecret, "iv", 12)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD
	if suite == tls.TLS_CHACHA20_POLY1305_SHA256 {
		aead, err = chacha20poly1305.New(key)
	} else {
		aead, err = newGCM(key)
	}
	if err != nil {
		return nil, err
	}
	return &Opener{tls13: true, aead: aead, iv: iv}, nil
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446
// section 7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), n)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

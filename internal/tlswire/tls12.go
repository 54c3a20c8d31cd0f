package tlswire

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// cipherKind is how a TLS 1.2 suite protects records.
type cipherKind int

const (
	aesGCM cipherKind = iota
	chacha20Poly1305
	aesCBC
)

// suite12 describes a TLS 1.2 cipher suite the package decrypts.
type suite12 struct {
	kind          cipherKind
	keyLen, ivLen int
	mac           func() hash.Hash // record MAC (CBC suites)
	prf           func() hash.Hash // PRF and transcript hash
}

func (s suite12) macLen() int {
	if s.mac == nil {
		return 0
	}
	return s.mac().Size()
}

var (
	gcm128   = suite12{kind: aesGCM, keyLen: 16, ivLen: 4, prf: sha256.New}
	gcm256   = suite12{kind: aesGCM, keyLen: 32, ivLen: 4, prf: sha512.New384}
	chacha   = suite12{kind: chacha20Poly1305, keyLen: 32, ivLen: 12, prf: sha256.New}
	cbc128   = suite12{kind: aesCBC, keyLen: 16, ivLen: 16, mac: sha1.New, prf: sha256.New}
	cbc256   = suite12{kind: aesCBC, keyLen: 32, ivLen: 16, mac: sha1.New, prf: sha256.New}
	cbc128v2 = suite12{kind: aesCBC, keyLen: 16, ivLen: 16, mac: sha256.New, prf: sha256.New}
)

var suites12 = map[uint16]suite12{
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               gcm128,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               gcm256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  cbc128,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  cbc256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               cbc128v2,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       gcm128,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         gcm128,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       gcm256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         gcm256,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: chacha,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   chacha,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          cbc128,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            cbc128,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          cbc256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            cbc256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       cbc128v2,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         cbc128v2,
}

// CanDecryptTLS12 reports whether the package decrypts TLS 1.2 records
// protected under suite.
func CanDecryptTLS12(suite uint16) bool {
	_, ok := suites12[suite]
	return ok
}

func lookup12(suite uint16) (suite12, error) {
	s, ok := suites12[suite]
	if !ok {
		return s, fmt.Errorf("tlswire: no TLS 1.2 cipher suite %#04x", suite)
	}
	return s, nil
}

// prf12 is the TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret,
// label+seed), n bytes.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	out := make([]byte, 0, n)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}

// MasterSecret derives a TLS 1.2 master secret from the premaster secret
// (RFC 5246 section 8.1).
func MasterSecret(suite uint16, premaster, clientRandom, serverRandom []byte) ([]byte, error) {
	s, err := lookup12(suite)
	if err != nil {
		return nil, err
	}
	seed := append(append([]byte(nil), clientRandom...), serverRandom...)
	return prf12(s.prf, premaster, "master secret", seed, 48), nil
}

// ExtendedMasterSecret derives a TLS 1.2 master secret bound to the
// handshake (RFC 7627): transcript is every handshake message (Raw) from
// the ClientHello to the ClientKeyExchange, in the order sent.
func ExtendedMasterSecret(suite uint16, premaster []byte, transcript [][]byte) ([]byte, error) {
	s, err := lookup12(suite)
	if err != nil {
		return nil, err
	}
	h := s.prf()
	for _, m := range transcript {
		h.Write(m)
	}
	return prf12(s.prf, premaster, "extended master secret", h.Sum(nil), 48), nil
}

// NewTLS12Openers returns the Openers for the client's and the server's
// records from a TLS 1.2 master secret (a key log's CLIENT_RANDOM line, or
// MasterSecret), expanded into the key block (RFC 5246 section 6.3).
func NewTLS12Openers(suite uint16, master, clientRandom, serverRandom []byte) (client, server *Opener, err error) {
	s, err := lookup12(suite)
	if err != nil {
		return nil, nil, err
	}
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	kb := prf12(s.prf, master, "key expansion", seed, 2*(s.macLen()+s.keyLen+s.ivLen))
	take := func(n int) []byte { b := kb[:n:n]; kb = kb[n:]; return b }
	cMAC, sMAC := take(s.macLen()), take(s.macLen())
	cKey, sKey := take(s.keyLen), take(s.keyLen)
	cIV, sIV := take(s.ivLen), take(s.ivLen)
	if client, err = s.opener(cMAC, cKey, cIV); err != nil {
		return nil, nil, err
	}
	if server, err = s.opener(sMAC, sKey, sIV); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

func (s suite12) opener(macKey, key, iv []byte) (*Opener, error) {
	o := &Opener{iv: iv}
	var err error
	switch s.kind {
	case aesGCM:
		o.aead, err = newGCM(key)
		o.explicitNonce = true
	case chacha20Poly1305:
		o.aead, err = chacha20poly1305.New(key)
	case aesCBC:
		o.block, err = aes.NewCipher(key)
		o.mac, o.macKey = s.mac, macKey
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

package tlswire

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
)

// Opener decrypts and authenticates one direction's protected records,
// in the order they were sent: each Open or Skip consumes one record
// sequence number. Make one with NewTLS13Opener or NewTLS12Openers. Not
// safe for concurrent use.
type Opener struct {
	tls13 bool
	aead  cipher.AEAD
	// iv is the per-record nonce base (TLS 1.3, ChaCha20-Poly1305), or
	// the implicit salt of TLS 1.2 AES-GCM, whose records carry the rest.
	iv            []byte
	explicitNonce bool

	block  cipher.Block // TLS 1.2 AES-CBC
	mac    func() hash.Hash
	macKey []byte

	seq uint64
}

// Skip passes over one record without opening it.
func (o *Opener) Skip() { o.seq++ }

// Open decrypts and authenticates one record and returns its content
// type (for TLS 1.3, the inner type the record hides) and content.
func (o *Opener) Open(rec Record) (typ uint8, content []byte, err error) {
	seq := o.seq
	o.seq++
	switch {
	case o.tls13:
		return o.open13(seq, rec)
	case o.aead != nil:
		content, err = o.openAEAD12(seq, rec)
	default:
		content, err = o.openCBC12(seq, rec)
	}
	return rec.Type, content, err
}

// nonce is the record nonce: iv XOR the sequence number, right-aligned
// (RFC 8446 section 5.3, RFC 7905 section 2).
func (o *Opener) nonce(seq uint64) []byte {
	n := bytes.Clone(o.iv)
	for i := range 8 {
		n[len(n)-1-i] ^= byte(seq >> (8 * i))
	}
	return n
}

// open13 opens a TLS 1.3 record (RFC 8446 section 5.2): the AEAD covers
// the record header; the plaintext ends with the real content type,
// followed by zero padding.
func (o *Opener) open13(seq uint64, rec Record) (uint8, []byte, error) {
	inner, err := o.aead.Open(nil, o.nonce(seq), rec.Body, rec.header())
	if err != nil {
		return 0, nil, err
	}
	inner = bytes.TrimRight(inner, "\x00")
	if len(inner) == 0 {
		return 0, nil, errors.New("record without content type")
	}
	return inner[len(inner)-1], inner[:len(inner)-1], nil
}

// additionalData12 is the TLS 1.2 MAC and AEAD input before the content:
// sequence number, type, version and plaintext length (RFC 5246 6.2.3).
func additionalData12(seq uint64, rec Record, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, seq)
	ad = append(ad, rec.Type, byte(rec.Version>>8), byte(rec.Version))
	return binary.BigEndian.AppendUint16(ad, uint16(n))
}

func (o *Opener) openAEAD12(seq uint64, rec Record) ([]byte, error) {
	f := rec.Body
	var nonce []byte
	if o.explicitNonce {
		if len(f) < 8+o.aead.Overhead() {
			return nil, errors.New("record too short")
		}
		nonce = append(bytes.Clone(o.iv), f[:8]...)
		f = f[8:]
	} else {
		if len(f) < o.aead.Overhead() {
			return nil, errors.New("record too short")
		}
		nonce = o.nonce(seq)
	}
	return o.aead.Open(nil, nonce, f, additionalData12(seq, rec, len(f)-o.aead.Overhead()))
}

func (o *Opener) openCBC12(seq uint64, rec Record) ([]byte, error) {
	f := rec.Body
	bs := o.block.BlockSize()
	if len(f) < 2*bs || len(f)%bs != 0 {
		return nil, errors.New("record is not whole CBC blocks")
	}
	pt := make([]byte, len(f)-bs)
	cipher.NewCBCDecrypter(o.block, f[:bs]).CryptBlocks(pt, f[bs:])
	macLen := o.mac().Size()
	pad := int(pt[len(pt)-1])
	if pad+1+macLen > len(pt) {
		return nil, errors.New("bad CBC padding")
	}
	for _, b := range pt[len(pt)-pad-1:] {
		if int(b) != pad {
			return nil, errors.New("bad CBC padding")
		}
	}
	pt = pt[:len(pt)-pad-1]
	content, mac := pt[:len(pt)-macLen], pt[len(pt)-macLen:]
	m := hmac.New(o.mac, o.macKey)
	m.Write(additionalData12(seq, rec, len(content)))
	m.Write(content)
	if subtle.ConstantTimeCompare(m.Sum(nil), mac) != 1 {
		return nil, errors.New("bad record MAC")
	}
	return content, nil
}

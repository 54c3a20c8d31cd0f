package attacker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// TLS wire constants (RFC 5246).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23

	hsClientHello       = 1
	hsServerHello       = 2
	hsServerHelloDone   = 14
	hsClientKeyExchange = 16

	extExtendedMasterSecret = 0x0017
	extSupportedVersions    = 0x002b

	versionTLS12 = 0x0303
	versionTLS13 = 0x0304
)

// tlsRecord is one record of a captured stream.
type tlsRecord struct {
	typ      uint8
	version  uint16
	fragment []byte
}

// parseRecords splits a stream into records; a truncated last record (the
// capture stopped mid-record) is left out.
func parseRecords(data []byte) ([]tlsRecord, error) {
	var out []tlsRecord
	for len(data) >= 5 {
		typ := data[0]
		if typ < recordChangeCipherSpec || typ > recordApplicationData || data[1] != 3 {
			return out, fmt.Errorf("stream is not TLS: record header % x", data[:5])
		}
		n := int(binary.BigEndian.Uint16(data[3:5]))
		if len(data) < 5+n {
			break
		}
		out = append(out, tlsRecord{typ: typ, version: binary.BigEndian.Uint16(data[1:3]), fragment: data[5 : 5+n]})
		data = data[5+n:]
	}
	return out, nil
}

// hsMessage is a plaintext handshake message: raw is its 4-byte header and
// body, as hashed into the transcript.
type hsMessage struct {
	typ  uint8
	raw  []byte
	body []byte
}

// direction is one side's records split at its ChangeCipherSpec: the
// plaintext handshake messages before it, the encrypted records after.
type direction struct {
	handshake []hsMessage
	ccs       bool
	encrypted []tlsRecord
}

func splitDirection(recs []tlsRecord) direction {
	var d direction
	var buf []byte
	for _, r := range recs {
		if d.ccs {
			d.encrypted = append(d.encrypted, r)
			continue
		}
		switch r.typ {
		case recordChangeCipherSpec:
			d.ccs = true
		case recordHandshake:
			buf = append(buf, r.fragment...)
			for len(buf) >= 4 {
				n := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
				if len(buf) < 4+n {
					break
				}
				d.handshake = append(d.handshake, hsMessage{typ: buf[0], raw: buf[:4+n], body: buf[4 : 4+n]})
				buf = buf[4+n:]
			}
		}
	}
	return d
}

func (d direction) find(typ uint8) (hsMessage, bool) {
	for _, m := range d.handshake {
		if m.typ == typ {
			return m, true
		}
	}
	return hsMessage{}, false
}

// serverHello is what decryption needs from a ServerHello.
type serverHello struct {
	version uint16
	random  []byte
	suite   uint16
	ems     bool
}

func parseServerHello(b []byte) (serverHello, error) {
	bad := errors.New("malformed ServerHello")
	var sh serverHello
	if len(b) < 38 {
		return sh, bad
	}
	sh.version, sh.random = binary.BigEndian.Uint16(b[0:2]), b[2:34]
	sid := int(b[34])
	b = b[35:]
	if len(b) < sid+3 {
		return sh, bad
	}
	sh.suite = binary.BigEndian.Uint16(b[sid : sid+2])
	b = b[sid+3:]
	if len(b) < 2 {
		return sh, nil // no extensions
	}
	ext := b[2:]
	for len(ext) >= 4 {
		typ, n := binary.BigEndian.Uint16(ext[0:2]), int(binary.BigEndian.Uint16(ext[2:4]))
		if len(ext) < 4+n {
			return sh, bad
		}
		switch typ {
		case extExtendedMasterSecret:
			sh.ems = true
		case extSupportedVersions:
			if n == 2 {
				sh.version = binary.BigEndian.Uint16(ext[4:6])
			}
		}
		ext = ext[4+n:]
	}
	return sh, nil
}

// suiteParams describes a static-RSA cipher suite the decrypter handles.
type suiteParams struct {
	keyLen, ivLen, macLen int
	aead                  bool
	mac                   func() hash.Hash // record MAC (CBC suites)
	prf                   func() hash.Hash // TLS 1.2 PRF and transcript hash
}

var rsaSuites = map[uint16]suiteParams{
	0x009c: {keyLen: 16, ivLen: 4, aead: true, prf: sha256.New},                   // TLS_RSA_WITH_AES_128_GCM_SHA256
	0x009d: {keyLen: 32, ivLen: 4, aead: true, prf: sha512.New384},                // TLS_RSA_WITH_AES_256_GCM_SHA384
	0x002f: {keyLen: 16, ivLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},   // TLS_RSA_WITH_AES_128_CBC_SHA
	0x0035: {keyLen: 32, ivLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},   // TLS_RSA_WITH_AES_256_CBC_SHA
	0x003c: {keyLen: 16, ivLen: 16, macLen: 32, mac: sha256.New, prf: sha256.New}, // TLS_RSA_WITH_AES_128_CBC_SHA256
}

// prf12 is the TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label+seed).
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

// recordKeys decrypts one direction's records.
type recordKeys struct {
	p      suiteParams
	macKey []byte
	aead   cipher.AEAD
	block  cipher.Block
	iv     []byte // GCM: the implicit nonce part
	seq    uint64
}

func newRecordKeys(p suiteParams, macKey, key, iv []byte) (*recordKeys, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	k := &recordKeys{p: p, macKey: macKey, block: block, iv: iv}
	if p.aead {
		if k.aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// open decrypts and authenticates one record.
func (k *recordKeys) open(r tlsRecord) ([]byte, error) {
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], k.seq)
	k.seq++
	hdr := func(n int) []byte {
		h := append(seq[:], r.typ, byte(r.version>>8), byte(r.version))
		return binary.BigEndian.AppendUint16(h, uint16(n))
	}
	f := r.fragment
	if k.p.aead {
		if len(f) < 8+k.aead.Overhead() {
			return nil, errors.New("record too short")
		}
		nonce := append(append([]byte(nil), k.iv...), f[:8]...)
		ct := f[8:]
		return k.aead.Open(nil, nonce, ct, hdr(len(ct)-k.aead.Overhead()))
	}
	bs := k.block.BlockSize()
	if len(f) < 2*bs || len(f)%bs != 0 {
		return nil, errors.New("record is not whole CBC blocks")
	}
	pt := make([]byte, len(f)-bs)
	cipher.NewCBCDecrypter(k.block, f[:bs]).CryptBlocks(pt, f[bs:])
	pad := int(pt[len(pt)-1])
	if pad+1+k.p.macLen > len(pt) {
		return nil, errors.New("bad CBC padding")
	}
	for _, b := range pt[len(pt)-pad-1:] {
		if int(b) != pad {
			return nil, errors.New("bad CBC padding")
		}
	}
	pt = pt[:len(pt)-pad-1]
	content, mac := pt[:len(pt)-k.p.macLen], pt[len(pt)-k.p.macLen:]
	m := hmac.New(k.p.mac, k.macKey)
	m.Write(hdr(len(content)))
	m.Write(content)
	if subtle.ConstantTimeCompare(m.Sum(nil), mac) != 1 {
		return nil, errors.New("bad record MAC")
	}
	return content, nil
}

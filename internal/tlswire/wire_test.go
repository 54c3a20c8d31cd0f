package tlswire_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/cryptobyte"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// record is a record of type typ around body.
func record(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestSplitRecords(t *testing.T) {
	hello, data := record(22, make([]byte, 40)), record(23, make([]byte, 30))
	tests := []struct {
		name  string
		data  []byte
		whole int
		rest  int
		valid bool
	}{
		{"two records", slices.Concat(hello, data), 2, 0, true},
		{"cut off", slices.Concat(hello, data[:10]), 1, 10, true},
		{"partial header", slices.Concat(hello, data[:3]), 1, 3, true},
		{"not a record", slices.Concat(hello, []byte("GET / HTTP/1.1\r\n")), 1, 16, false},
		{"too long", record(23, make([]byte, tlswire.MaxRecordLen+1)), 0, tlswire.MaxRecordLen + 6, false},
	}
	for _, tt := range tests {
		recs, rest, valid := tlswire.SplitRecords(tt.data)
		if len(recs) != tt.whole || len(rest) != tt.rest || valid != tt.valid {
			t.Errorf("%s: %d records, %d bytes left, valid %v; want %d, %d, %v", tt.name, len(recs), len(rest), valid, tt.whole, tt.rest, tt.valid)
		}
	}
	if !tlswire.StartsWithHandshake(hello) || tlswire.StartsWithHandshake(data) || tlswire.StartsWithHandshake(hello[:4]) {
		t.Error("StartsWithHandshake")
	}
	for p, want := range map[string]bool{"\x16": true, "\x16\x03\x01": true, "\x17\x03\x05": false, "\x18\x03\x03": false, "GET": false, "": false} {
		if tlswire.MayStartRecord([]byte(p)) != want {
			t.Errorf("MayStartRecord(%q) = %v", p, !want)
		}
	}
	raw, err := tlswire.ReadRecord(bytes.NewReader(slices.Concat(hello, data)))
	if err != nil || !bytes.Equal(raw, hello) {
		t.Errorf("ReadRecord = %x, %v", raw, err)
	}
}

func TestSplitHandshake(t *testing.T) {
	msg := func(typ byte, n int) []byte { return append([]byte{typ, 0, byte(n >> 8), byte(n)}, make([]byte, n)...) }
	b := slices.Concat(msg(1, 10), msg(2, 300), msg(11, 20)[:7])
	msgs, rest, ok := tlswire.SplitHandshake(b)
	if !ok || len(msgs) != 2 || msgs[1].Type != 2 || len(msgs[1].Body) != 300 || len(msgs[1].Raw) != 304 || len(rest) != 7 {
		t.Errorf("SplitHandshake: %d messages, %d left, ok %v", len(msgs), len(rest), ok)
	}
	if _, _, ok := tlswire.SplitHandshake([]byte{11, 1, 0, 1}); ok {
		t.Error("a message longer than MaxHandshakeLen is accepted")
	}
}

// TestTLS13KeySchedule checks the key schedule against RFC 8448 section 3
// (the server's handshake traffic secret, TLS_AES_128_GCM_SHA256): a record
// sealed with the RFC's key and IV opens.
func TestTLS13KeySchedule(t *testing.T) {
	secret, _ := hex.DecodeString("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
	key, _ := hex.DecodeString("3fce516009c21727d0f2e4e86ee403bc")
	iv, _ := hex.DecodeString("5d313eb2671276ee13000b30")
	o, err := tlswire.NewTLS13Opener(tls.TLS_AES_128_GCM_SHA256, secret)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := newAESGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	inner := []byte{tlswire.AlertFatal, 42, tlswire.ContentAlert, 0, 0} // padded
	n := len(inner) + aead.Overhead()
	header := []byte{tlswire.ContentApplicationData, 3, 3, 0, byte(n)}
	body := aead.Seal(nil, iv, inner, header) // sequence number 0
	typ, content, err := o.Open(tlswire.Record{Type: tlswire.ContentApplicationData, Version: tls.VersionTLS12, Body: body})
	if err != nil || typ != tlswire.ContentAlert || !bytes.Equal(content, []byte{tlswire.AlertFatal, 42}) {
		t.Errorf("Open = %d %x %v", typ, content, err)
	}
	// The next record uses sequence number 1: the same bytes no longer open.
	if _, _, err := o.Open(tlswire.Record{Type: tlswire.ContentApplicationData, Version: tls.VersionTLS12, Body: body}); err == nil {
		t.Error("a record opened under the wrong sequence number")
	}
	if _, err := tlswire.NewTLS13Opener(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, secret); err == nil {
		t.Error("a TLS 1.2 suite makes a TLS 1.3 opener")
	}
}

func TestParseKeyLogLine(t *testing.T) {
	random := strings.Repeat("ab", 32)
	e, ok := tlswire.ParseKeyLogLine([]byte("CLIENT_TRAFFIC_SECRET_0 " + random + " 0102\n"))
	if !ok || e.Label != tlswire.KeyLogClientTraffic || len(e.ClientRandom) != 32 || !bytes.Equal(e.Secret, []byte{1, 2}) {
		t.Errorf("ParseKeyLogLine = %+v %v", e, ok)
	}
	for _, bad := range []string{"", "# comment", "CLIENT_RANDOM abcd 0102", "CLIENT_RANDOM " + random + " xyz"} {
		if _, ok := tlswire.ParseKeyLogLine([]byte(bad)); ok {
			t.Errorf("%q parses", bad)
		}
	}
}

func TestParseAlert(t *testing.T) {
	if l, d, ok := tlswire.ParseAlert([]byte{2, 42}); !ok || l != tlswire.AlertFatal || d != 42 {
		t.Errorf("ParseAlert = %d %d %v", l, d, ok)
	}
	if _, _, ok := tlswire.ParseAlert(make([]byte, 19)); ok {
		t.Error("a protected alert parses")
	}
}

// TestPlaintextAlerts reads the alerts of a client's stream: a TLS 1.2
// refusal after the ClientHello, and OpenSSL's TLS 1.3 refusal sent in
// plaintext after ChangeCipherSpec, but neither a protected TLS 1.2 alert
// nor anything past a record cut off.
func TestPlaintextAlerts(t *testing.T) {
	hello := record(22, make([]byte, 40))
	tests := []struct {
		name   string
		stream []byte
		want   []tlswire.Alert
	}{
		{"TLS 1.2 refusal", slices.Concat(hello, record(21, []byte{2, 48})), []tlswire.Alert{{tlswire.AlertFatal, 48}}},
		{"TLS 1.3 refusal in plaintext", slices.Concat(hello, record(20, []byte{1}), record(21, []byte{2, 42})), []tlswire.Alert{{tlswire.AlertFatal, 42}}},
		{"warning then fatal", slices.Concat(hello, record(21, []byte{1, 0}), record(21, []byte{2, 40})), []tlswire.Alert{{tlswire.AlertWarning, 0}, {tlswire.AlertFatal, 40}}},
		{"protected alert", slices.Concat(hello, record(20, []byte{1}), record(21, make([]byte, 26))), nil},
		{"cut off", slices.Concat(hello, record(21, []byte{2, 48})[:6]), nil},
		{"not records", []byte("GET / HTTP/1.1\r\n\r\n"), nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		if got := tlswire.PlaintextAlerts(tt.stream); !slices.Equal(got, tt.want) {
			t.Errorf("%s: PlaintextAlerts = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAlertName(t *testing.T) {
	for d, want := range map[uint8]string{0: "close_notify", 40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
		44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown", 48: "unknown_ca", 51: "decrypt_error",
		70: "protocol_version", 116: "certificate_required", 41: "no_certificate", 200: "alert(200)"} {
		if got := tlswire.AlertName(d); got != want {
			t.Errorf("AlertName(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestMalformedHellos(t *testing.T) {
	for n := range 40 {
		b := make([]byte, n)
		if _, ok := tlswire.ParseClientHello(b); ok && n < 38 {
			t.Errorf("a %d-byte ClientHello parses", n)
		}
		if _, ok := tlswire.ParseServerHello(b); ok && n < 38 {
			t.Errorf("a %d-byte ServerHello parses", n)
		}
		if _, err := tlswire.ParseCertificates(b, n%2 == 0); err == nil && n < 3 {
			t.Errorf("a %d-byte Certificate parses", n)
		}
	}
}

// TestTLS13Suites seals a record for each TLS 1.3 suite with a key and IV
// derived here, independently, by HKDF-Expand-Label (RFC 8446 section
// 7.1), and opens it.
func TestTLS13Suites(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5a}, 48)
	for _, tc := range []struct {
		suite  uint16
		hash   func() hash.Hash
		keyLen int
		aead   func([]byte) (cipher.AEAD, error)
	}{
		{tls.TLS_AES_128_GCM_SHA256, sha256.New, 16, newAESGCM},
		{tls.TLS_AES_256_GCM_SHA384, sha512.New384, 32, newAESGCM},
		{tls.TLS_CHACHA20_POLY1305_SHA256, sha256.New, 32, chacha20poly1305.New},
	} {
		secret := secret[:tc.hash().Size()]
		key := expandLabel(t, tc.hash, secret, "key", tc.keyLen)
		iv := expandLabel(t, tc.hash, secret, "iv", 12)
		aead, err := tc.aead(key)
		if err != nil {
			t.Fatal(err)
		}
		o, err := tlswire.NewTLS13Opener(tc.suite, secret)
		if err != nil {
			t.Fatal(err)
		}
		o.Skip() // the record below is the second under this key
		nonce := bytes.Clone(iv)
		nonce[11] ^= 1
		n := 3 + aead.Overhead()
		header := []byte{tlswire.ContentApplicationData, 3, 3, 0, byte(n)}
		body := aead.Seal(nil, nonce, []byte{tlswire.AlertFatal, 42, tlswire.ContentAlert}, header)
		typ, content, err := o.Open(tlswire.Record{Type: tlswire.ContentApplicationData, Version: tls.VersionTLS12, Body: body})
		if err != nil || typ != tlswire.ContentAlert || !bytes.Equal(content, []byte{tlswire.AlertFatal, 42}) {
			t.Errorf("%s: Open = %d %x %v", tls.CipherSuiteName(tc.suite), typ, content, err)
		}
	}
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func expandLabel(t *testing.T, h func() hash.Hash, secret []byte, label string, n int) []byte {
	t.Helper()
	var info cryptobyte.Builder
	info.AddUint16(uint16(n))
	info.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("tls13 " + label)) })
	info.AddUint8(0) // empty context
	out, err := hkdf.Expand(h, secret, string(info.BytesOrPanic()), n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

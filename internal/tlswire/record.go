package tlswire

import "io"

// Record content types (RFC 8446 section 5.1).
const (
	ContentChangeCipherSpec = 20
	ContentAlert            = 21
	ContentHandshake        = 22
	ContentApplicationData  = 23
	ContentHeartbeat        = 24
)

// HeaderLen is the length of a record header.
const HeaderLen = 5

// MaxRecordLen is the largest record body any TLS version allows (TLS 1.2
// ciphertext: 2^14 + 2048).
const MaxRecordLen = 1<<14 + 2048

// Header is a record header.
type Header struct {
	Type    uint8
	Version uint16 // the record-layer version, not what was negotiated
	Length  int    // of the body that follows
}

// ParseHeader reads the record header at the start of b. ok is false when
// b is shorter than a header or does not start with a plausible one.
func ParseHeader(b []byte) (h Header, ok bool) {
	if len(b) < HeaderLen {
		return h, false
	}
	h = Header{Type: b[0], Version: uint16(b[1])<<8 | uint16(b[2]), Length: int(b[3])<<8 | int(b[4])}
	return h, h.Type >= ContentChangeCipherSpec && h.Type <= ContentHeartbeat && h.Version>>8 == 3 && h.Length <= MaxRecordLen
}

// Record is one whole TLS record; Body aliases the bytes it was split from.
type Record struct {
	Type    uint8
	Version uint16
	Body    []byte
}

// header returns the record's header bytes, as authenticated by AEADs.
func (r Record) header() []byte {
	n := len(r.Body)
	return []byte{r.Type, byte(r.Version >> 8), byte(r.Version), byte(n >> 8), byte(n)}
}

// SplitRecords splits the whole records at the start of data. rest is what
// follows them: empty, the start of a record not yet complete (valid), or
// bytes that are not a record header (valid false; rest then holds at
// least a header's length).
func SplitRecords(data []byte) (recs []Record, rest []byte, valid bool) {
	for len(data) >= HeaderLen {
		h, ok := ParseHeader(data)
		if !ok {
			return recs, data, false
		}
		if len(data) < HeaderLen+h.Length {
			break
		}
		recs = append(recs, Record{Type: h.Type, Version: h.Version, Body: data[HeaderLen : HeaderLen+h.Length]})
		data = data[HeaderLen+h.Length:]
	}
	return recs, data, true
}

// StartsWithHandshake reports whether data begins with the header of a
// handshake record, as every TLS connection's first bytes do.
func StartsWithHandshake(data []byte) bool {
	h, ok := ParseHeader(data)
	return ok && h.Type == ContentHandshake
}

// MayStartRecord reports whether the first bytes of a stream, however
// few, could begin a TLS record: a content type from change_cipher_spec
// to application_data and, when the version is there, 3.0 to 3.4.
func MayStartRecord(p []byte) bool {
	if len(p) < 1 || p[0] < ContentChangeCipherSpec || p[0] > ContentApplicationData {
		return false
	}
	return len(p) < 3 || (p[1] == 3 && p[2] <= 4)
}

// ReadRecord reads one record from r: its header and the body the header
// announces, returned together. It checks nothing but the framing.
func ReadRecord(r io.Reader) ([]byte, error) {
	raw := make([]byte, HeaderLen)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, err
	}
	raw = append(raw, make([]byte, int(raw[3])<<8|int(raw[4]))...)
	if _, err := io.ReadFull(r, raw[HeaderLen:]); err != nil {
		return nil, err
	}
	return raw, nil
}

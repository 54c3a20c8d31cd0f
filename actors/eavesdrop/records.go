package eavesdrop

// TLS record content types (RFC 8446 section 5.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
	recordHeartbeat        = 24

	recordHeaderLen = 5
	// maxRecordLen is the largest record body any TLS version allows
	// (TLS 1.2 ciphertext: 2^14 + 2048).
	maxRecordLen = 1<<14 + 2048
)

// record is one TLS record. body is nil for a record cut off at the end of
// the captured data.
type record struct {
	typ   uint8
	vers  uint16
	body  []byte
	whole bool
}

// splitRecords parses TLS records from the start of data and stops at the
// first thing that is not a record header. isTLS reports whether data begins
// with a handshake record, which is how every TLS connection starts.
func splitRecords(data []byte) (recs []record, isTLS bool) {
	for len(data) >= recordHeaderLen {
		typ, vers, n := data[0], be16(data[1:]), int(be16(data[3:]))
		if typ < recordChangeCipherSpec || typ > recordHeartbeat || vers>>8 != 3 || n > maxRecordLen {
			break
		}
		if len(data) < recordHeaderLen+n {
			recs = append(recs, record{typ: typ, vers: vers})
			break
		}
		recs = append(recs, record{typ: typ, vers: vers, body: data[recordHeaderLen : recordHeaderLen+n], whole: true})
		data = data[recordHeaderLen+n:]
	}
	return recs, len(recs) > 0 && recs[0].typ == recordHandshake
}

// allRecords reports whether data is entirely TLS records: a sequence of
// valid record headers, each followed by its body, the last of which may
// be cut off where data ends.
func allRecords(data []byte) bool {
	for len(data) > 0 {
		if len(data) < recordHeaderLen {
			return false
		}
		typ, vers, n := data[0], be16(data[1:]), int(be16(data[3:]))
		if typ < recordChangeCipherSpec || typ > recordHeartbeat || vers>>8 != 3 || n > maxRecordLen {
			return false
		}
		if len(data) < recordHeaderLen+n {
			return true // cut off where the capture ends
		}
		data = data[recordHeaderLen+n:]
	}
	return true
}

// dirTLS is what one direction of a connection revealed.
type dirTLS struct {
	versions     []uint16 // record-layer versions, as they appear
	clientHellos []clientHello
	serverHellos []serverHello // a HelloRetryRequest, then the ServerHello
	alerts       []uint8       // plaintext alert descriptions
}

// analyzeDir reads the plaintext handshake from one direction's records.
// Handshake records after a ChangeCipherSpec are encrypted in TLS 1.2 and
// earlier but still plaintext in TLS 1.3 (whose encrypted records are all
// application_data), so the caller says which applies.
func analyzeDir(recs []record, tls13 bool) dirTLS {
	var d dirTLS
	var hs []byte
	afterCCS := false
	for _, r := range recs {
		d.versions = append(d.versions, r.vers)
		if !r.whole {
			continue
		}
		switch r.typ {
		case recordChangeCipherSpec:
			afterCCS = true
		case recordAlert:
			if len(r.body) == 2 { // longer alerts are encrypted
				d.alerts = append(d.alerts, r.body[1])
			}
		case recordHandshake:
			if !afterCCS || tls13 {
				hs = append(hs, r.body...)
			}
		}
	}
	for len(hs) >= 4 {
		typ, n := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
		if len(hs) < 4+n {
			break
		}
		msg := hs[4 : 4+n]
		hs = hs[4+n:]
		switch typ {
		case handshakeClientHello:
			if ch, ok := parseClientHello(msg); ok {
				d.clientHellos = append(d.clientHellos, ch)
			}
		case handshakeServerHello:
			if sh, ok := parseServerHello(msg); ok {
				d.serverHellos = append(d.serverHellos, sh)
			}
		}
	}
	return d
}

// negotiatesTLS13 reports whether a ServerHello or HelloRetryRequest in d
// selects TLS 1.3.
func (d *dirTLS) negotiatesTLS13() bool {
	for _, sh := range d.serverHellos {
		if sh.version == versionTLS13 {
			return true
		}
	}
	return false
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

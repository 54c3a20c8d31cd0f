package eavesdrop

import (
	"crypto/tls"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// allRecords reports whether data is entirely TLS records: a sequence of
// valid record headers, each followed by its body, the last of which may
// be cut off where data ends (after its header).
func allRecords(data []byte) bool {
	_, rest, valid := tlswire.SplitRecords(data)
	return valid && (len(rest) == 0 || len(rest) >= tlswire.HeaderLen)
}

// dirTLS is what one direction of a connection revealed.
type dirTLS struct {
	versions     []uint16 // record-layer versions, as they appear
	clientHellos []tlswire.ClientHello
	serverHellos []tlswire.ServerHello // a HelloRetryRequest, then the ServerHello
	alerts       []uint8               // plaintext alert descriptions
}

// analyzeDir reads the plaintext handshake from one direction's captured
// bytes. Handshake records after a ChangeCipherSpec are encrypted in TLS
// 1.2 and earlier but still plaintext in TLS 1.3 (whose encrypted records
// are all application_data), so the caller says which applies.
func analyzeDir(data []byte, tls13 bool) dirTLS {
	var d dirTLS
	var hs []byte
	afterCCS := false
	recs, rest, _ := tlswire.SplitRecords(data)
	for _, r := range recs {
		d.versions = append(d.versions, r.Version)
		switch r.Type {
		case tlswire.ContentChangeCipherSpec:
			afterCCS = true
		case tlswire.ContentAlert:
			if _, desc, ok := tlswire.ParseAlert(r.Body); ok { // longer alerts are encrypted
				d.alerts = append(d.alerts, desc)
			}
		case tlswire.ContentHandshake:
			if !afterCCS || tls13 {
				hs = append(hs, r.Body...)
			}
		}
	}
	if h, ok := tlswire.ParseHeader(rest); ok { // a record cut off where the capture ends
		d.versions = append(d.versions, h.Version)
	}
	msgs, _, _ := tlswire.SplitHandshake(hs)
	for _, m := range msgs {
		switch m.Type {
		case tlswire.HandshakeClientHello:
			if ch, ok := tlswire.ParseClientHello(m.Body); ok {
				d.clientHellos = append(d.clientHellos, ch)
			}
		case tlswire.HandshakeServerHello:
			if sh, ok := tlswire.ParseServerHello(m.Body); ok {
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
		if sh.Version == tls.VersionTLS13 {
			return true
		}
	}
	return false
}

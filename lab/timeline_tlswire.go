package lab

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// TLS record content types and handshake message types (RFC 8446, 5246).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23

	msgClientHello = 1
	msgServerHello = 2
	msgCertificate = 11
	msgFinished    = 20
	msgKeyUpdate   = 24

	extServerName        = 0
	extSupportedVersions = 43

	alertWarning = 1
	alertFatal   = 2

	maxRecordLen    = 16384 + 2048
	maxHandshakeLen = 1 << 16
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest.
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

var handshakeNames = map[uint8]string{
	0: "HelloRequest", 4: "NewSessionTicket", 8: "EncryptedExtensions", 12: "ServerKeyExchange",
	13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange",
	20: "Finished",
}

// tlsConnState is what a connection's handshake settled, as seen on the wire.
type tlsConnState struct {
	random  []byte // the ClientHello's client random, which names the key log's secrets
	sni     string // the ClientHello's server name
	version uint16 // from the ServerHello; 0 before
	suite   uint16 // from the ServerHello
}

// tlsDirState is one direction's TLS parsing state.
type tlsDirState struct {
	hs        []byte // handshake bytes not yet parsed (a message split across records)
	protected bool   // a TLS 1.0-1.2 ChangeCipherSpec was sent: what follows is encrypted
	sealed    bool   // the first encrypted record was reported (TLS 1.0-1.2)
	v13       tls13Dir
}

// helloSeen is a ClientHello on the wire, which certificate checks are
// attributed to.
type helloSeen struct {
	at      time.Time
	random  []byte
	sni     string
	conn    *tcpConn
	claimed [2]bool // by a check in that role
}

// records parses the complete TLS records in the direction's buffer.
func (w wireCtx) records() {
	d := w.c.dirs[w.dir]
	for len(d.buf) >= 5 {
		typ, n := d.buf[0], int(d.buf[3])<<8|int(d.buf[4])
		if typ < recordChangeCipherSpec || typ > 24 || d.buf[1] != 3 || n > maxRecordLen {
			d.mode, d.buf = streamDone, nil
			return
		}
		if len(d.buf) < 5+n {
			return
		}
		header, body := d.buf[:5], d.buf[5:5+n]
		d.buf = d.buf[5+n:]
		w.record(d, typ, header, body)
		if d.mode == streamDone {
			return
		}
	}
}

func (w wireCtx) record(d *tcpDir, typ uint8, header, body []byte) {
	to := w.to
	switch typ {
	case recordChangeCipherSpec:
		// TLS 1.3 sends it only for middlebox compatibility; its
		// handshake records are application_data records anyway.
		if w.c.tls.version != tls.VersionTLS13 {
			d.tls.protected = true
			// The sender goes on with the handshake: it took the
			// certificate it was shown, if any.
			w.r.continued(w.c, w.dir)
		}
	case recordAlert:
		if d.tls.protected || len(body) != 2 {
			w.emit(TimelineTLS, func(n *namer) string { return "TLS encrypted alert -> " + n.addrPort(to) })
			return
		}
		w.alert(body[0], body[1], false)
	case recordHandshake:
		if d.tls.protected {
			return
		}
		d.tls.hs = append(d.tls.hs, body...)
		if !splitHandshake(&d.tls.hs, func(mt uint8, msg []byte) { w.handshake(mt, msg, false) }) {
			d.mode, d.buf, d.tls.hs = streamDone, nil, nil
			return
		}
		d.tls.hs = append([]byte(nil), d.tls.hs...)
	case recordApplicationData:
		if w.c.tls.version == tls.VersionTLS13 && w.c.tls.suite != 0 {
			w.seal(header, body)
			return
		}
		if d.tls.sealed {
			return
		}
		d.tls.sealed = true
		w.emit(TimelineTLS, func(n *namer) string { return "TLS encrypted records begin -> " + n.addrPort(to) })
	}
}

// splitHandshake calls fn for each complete handshake message at the start
// of *buf and leaves the rest there. It reports false for a message too
// long to be one.
func splitHandshake(buf *[]byte, fn func(mt uint8, msg []byte)) bool {
	for b := *buf; len(b) >= 4; b = *buf {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > maxHandshakeLen {
			return false
		}
		if len(b) < 4+n {
			break
		}
		*buf = b[4+n:]
		fn(b[0], b[4:4+n])
	}
	return true
}

// alert reports an alert the direction's sender sent; a fatal one refuses
// the certificate its peer presented on the connection, if it had not
// gone on with the handshake already.
func (w wireCtx) alert(level, desc uint8, decrypted bool) {
	to := w.to
	how := alertLevel(level)
	if decrypted {
		how += ", decrypted"
	}
	w.emit(TimelineTLS, func(n *namer) string {
		return fmt.Sprintf("TLS alert %s (%s) -> %s", alertName(desc), how, n.addrPort(to))
	})
	if level != alertFatal {
		return
	}
	for _, p := range w.r.presented {
		if p.conn == w.c && p.dir != w.dir && !p.continued && p.alert == 0 {
			p.alert = desc
		}
	}
}

// continued notes that the sender of dir went on with the handshake past
// the certificates its peer presented on c.
func (r *timelineRecorder) continued(c *tcpConn, dir int) {
	for _, p := range r.presented {
		if p.conn == c && p.dir != dir && p.alert == 0 {
			p.continued = true
		}
	}
}

func (w wireCtx) handshake(mt uint8, msg []byte, decrypted bool) {
	to := w.to
	qual := ""
	if decrypted {
		qual = " (decrypted)"
	}
	switch mt {
	case msgClientHello:
		h, ok := parseClientHello(msg)
		if !ok {
			w.emit(TimelineTLS, func(n *namer) string { return "TLS ClientHello (unparseable) -> " + n.addrPort(to) })
			return
		}
		w.r.hellos = append(w.r.hellos, &helloSeen{at: w.at, random: h.random, sni: h.sni, conn: w.c})
		if w.dir == 0 && !bytes.Equal(w.c.tls.random, h.random) {
			w.c.tls.random, w.c.tls.sni = h.random, h.sni
			w.r.byRandom[string(h.random)] = append(w.r.byRandom[string(h.random)], w.c)
		}
		w.emit(TimelineTLS, func(n *namer) string {
			sni := "no SNI"
			if h.sni != "" {
				sni = "SNI " + h.sni
			}
			return fmt.Sprintf("TLS ClientHello -> %s %s versions %s", n.addrPort(to), sni, versionList(h.versions))
		})
	case msgServerHello:
		h, ok := parseServerHello(msg)
		if !ok {
			w.emit(TimelineTLS, func(n *namer) string { return "TLS ServerHello (unparseable) -> " + n.addrPort(to) })
			return
		}
		w.c.tls.version = h.version
		name := "ServerHello"
		if bytes.Equal(h.random, helloRetryRandom) {
			name = "HelloRetryRequest"
		} else if h.version == tls.VersionTLS13 && w.c.tls.suite == 0 {
			// What follows is protected: the key log's secrets open it.
			w.c.tls.suite = h.suite
			w.r.tls13 = append(w.r.tls13, w.c)
		}
		w.emit(TimelineTLS, func(n *namer) string {
			return fmt.Sprintf("TLS %s -> %s %s %s", name, n.addrPort(to), versionName(h.version), tls.CipherSuiteName(h.suite))
		})
	case msgCertificate:
		certs, err := parseCertificateMsg(msg, decrypted)
		w.emit(TimelineTLS, func(n *namer) string {
			switch {
			case err != nil:
				return fmt.Sprintf("TLS Certificate%s -> %s: %v", qual, n.addrPort(to), err)
			case len(certs) == 0:
				return fmt.Sprintf("TLS Certificate%s -> %s: no certificate", qual, n.addrPort(to))
			}
			return fmt.Sprintf("TLS Certificate%s -> %s", qual, n.addrPort(to))
		})
		if len(certs) > 0 {
			w.presented(certs)
		}
	default:
		if mt == msgFinished && decrypted {
			w.r.continued(w.c, w.dir)
		}
		name, ok := handshakeNames[mt]
		if !ok {
			name = fmt.Sprintf("handshake message %d", mt)
		}
		w.emit(TimelineTLS, func(n *namer) string { return fmt.Sprintf("TLS %s%s -> %s", name, qual, n.addrPort(to)) })
	}
}

type clientHello struct {
	random   []byte
	sni      string
	versions []uint16
}

func parseClientHello(b []byte) (clientHello, bool) {
	var h clientHello
	s := cryptobyte.String(b)
	var legacy uint16
	var sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint16(&legacy) || !s.ReadBytes(&h.random, 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		return h, false
	}
	h.random = bytes.Clone(h.random)
	if !s.Empty() && !s.ReadUint16LengthPrefixed(&exts) {
		return h, false
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return h, false
		}
		switch typ {
		case extServerName:
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return h, false
			}
			for !list.Empty() {
				var kind uint8
				var name cryptobyte.String
				if !list.ReadUint8(&kind) || !list.ReadUint16LengthPrefixed(&name) {
					return h, false
				}
				if kind == 0 {
					h.sni = string(name)
				}
			}
		case extSupportedVersions:
			var vs cryptobyte.String
			if !data.ReadUint8LengthPrefixed(&vs) {
				return h, false
			}
			for !vs.Empty() {
				var v uint16
				if !vs.ReadUint16(&v) {
					return h, false
				}
				if v&0x0f0f != 0x0a0a { // not GREASE
					h.versions = append(h.versions, v)
				}
			}
		}
	}
	if len(h.versions) == 0 {
		h.versions = []uint16{legacy}
	}
	return h, true
}

type serverHello struct {
	random  []byte
	version uint16
	suite   uint16
}

func parseServerHello(b []byte) (serverHello, bool) {
	var h serverHello
	s := cryptobyte.String(b)
	var sid, exts cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&h.version) || !s.ReadBytes(&h.random, 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16(&h.suite) || !s.ReadUint8(&comp) {
		return h, false
	}
	h.random = bytes.Clone(h.random)
	if !s.Empty() && !s.ReadUint16LengthPrefixed(&exts) {
		return h, false
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return h, false
		}
		if typ == extSupportedVersions && !data.ReadUint16(&h.version) {
			return h, false
		}
	}
	return h, true
}

// parseCertificateMsg parses a Certificate message: TLS 1.3's (RFC 8446
// §4.4.2: a request context, and extensions after each certificate) when
// v13, else TLS 1.0-1.2's. An empty list (a client without a certificate)
// is no error.
func parseCertificateMsg(b []byte, v13 bool) ([]*x509.Certificate, error) {
	errMalformed := errors.New("malformed Certificate message")
	s := cryptobyte.String(b)
	var context, list cryptobyte.String
	if v13 && !s.ReadUint8LengthPrefixed(&context) {
		return nil, errMalformed
	}
	if !s.ReadUint24LengthPrefixed(&list) {
		return nil, errMalformed
	}
	var certs []*x509.Certificate
	for !list.Empty() {
		var der, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || v13 && !list.ReadUint16LengthPrefixed(&exts) {
			return nil, errMalformed
		}
		c, err := x509.ParseCertificate(bytes.Clone(der))
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// describeChain is "subject CN=a issuer CN=b valid <from>→<to>" for the
// leaf, and how many certificates came with it.
func describeChain(certs []*x509.Certificate) string {
	leaf := certs[0]
	s := fmt.Sprintf("subject %s issuer %s valid %s→%s", leaf.Subject, leaf.Issuer,
		leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	if len(certs) > 1 {
		s += fmt.Sprintf(" (+%d more in the chain)", len(certs)-1)
	}
	return s
}

// versionName is "TLS1.3", "TLS1.2", ... as in ClientHello lines.
func versionName(v uint16) string { return strings.ReplaceAll(tls.VersionName(v), " ", "") }

func versionList(vs []uint16) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = versionName(v)
	}
	return strings.Join(names, ",")
}

func alertLevel(l uint8) string {
	switch l {
	case alertWarning:
		return "warning"
	case alertFatal:
		return "fatal"
	}
	return fmt.Sprintf("level %d", l)
}

// alertName is crypto/tls's text for an alert: "bad certificate".
func alertName(d uint8) string { return strings.TrimPrefix(tls.AlertError(d).Error(), "tls: ") }

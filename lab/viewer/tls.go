package viewer

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/tlslab/tlslab/internal/tcpstream"
	"github.com/tlslab/tlslab/internal/tlswire"
)

// keyLog holds a run's secrets: client random (hex) -> label -> secret.
type keyLog map[string]map[string][]byte

// readKeyLog reads an NSS key log; "" or a missing file is an empty log.
func readKeyLog(path string) (keyLog, error) {
	keys := make(keyLog)
	if path == "" {
		return keys, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return keys, nil
	}
	if err != nil {
		return nil, fmt.Errorf("viewer: reading the key log: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		e, ok := tlswire.ParseKeyLogLine(sc.Bytes())
		if !ok {
			continue
		}
		cr := hex.EncodeToString(e.ClientRandom)
		if keys[cr] == nil {
			keys[cr] = make(map[string][]byte)
		}
		keys[cr][e.Label] = e.Secret
	}
	return keys, nil
}

// maxShown bounds the bytes of one stream chunk or application record a
// page shows.
const maxShown = 2048

// tlsTracker follows the TCP streams of a capture, splits them into TLS
// records and opens protected records with the key log.
type tlsTracker struct {
	keys  keyLog
	conns map[string]*tlsConn // by segment and connection
}

type tlsConn struct {
	clientRandom []byte
	serverRandom []byte
	suite        uint16
	tls13        bool
	dirs         [2]*tlsDir
}

type tlsDir struct {
	stream *tcpstream.Stream
	buf    []byte
	plain  bool // the stream is not TLS: its bytes are shown as they are
	client bool // this direction sent the ClientHello
	opener *tlswire.Opener
	key    string // what opener opens with, for people
	done   bool   // a record did not open: nothing more is tried
}

func newTLSTracker(keys keyLog) *tlsTracker {
	return &tlsTracker{keys: keys, conns: make(map[string]*tlsConn)}
}

// add feeds one TCP segment seen on seg and returns the units it completed.
func (t *tlsTracker) add(seg string, from, to netip.AddrPort, seq uint32, syn bool, payload []byte) []Unit {
	k, dir := tcpstream.KeyOf(from, to)
	id := fmt.Sprintf("%s|%v|%v", seg, k.Lo, k.Hi)
	c := t.conns[id]
	if c == nil || (syn && c.dirs[dir] != nil && c.dirs[dir].stream.Started()) {
		c = &tlsConn{}
		t.conns[id] = c
	}
	d := c.dirs[dir]
	if d == nil {
		d = &tlsDir{stream: tcpstream.NewHoldingStream(1 << 20)}
		c.dirs[dir] = d
	}
	fresh, _ := d.stream.Add(seq, syn, payload)
	if len(fresh) == 0 {
		return nil
	}
	if d.plain {
		return []Unit{plainUnit(fresh)}
	}
	d.buf = append(d.buf, fresh...)
	if !tlswire.MayStartRecord(d.buf) && len(d.buf) > 0 && !c.started() {
		d.plain = true
		u := plainUnit(d.buf)
		d.buf = nil
		return []Unit{u}
	}
	recs, rest, valid := tlswire.SplitRecords(d.buf)
	var units []Unit
	for _, r := range recs {
		units = append(units, t.record(c, dir, r)...)
	}
	d.buf = append([]byte(nil), rest...)
	if !valid {
		d.plain = true
		d.buf = nil
	}
	return units
}

func (c *tlsConn) started() bool { return c.clientRandom != nil }

// plainTitle is the title of a plainUnit.
const plainTitle = "plaintext stream data (not TLS)"

// plainUnit shows stream bytes that are not TLS (plain SIP, HTTP).
func plainUnit(b []byte) Unit {
	b = bytes.Clone(b[:min(len(b), maxShown)])
	line, _, _ := bytes.Cut(b, []byte("\n"))
	u := Unit{Title: plainTitle, Bytes: b}
	u.add(0, len(line), "first line", strings.TrimSpace(string(line)))
	u.add(len(line), len(b)-len(line), "rest", "readable by anyone on the path")
	return u
}

var contentNames = map[uint8]string{20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}

// record annotates one record and, when it is protected and the key log
// holds its secret, what it hides.
func (t *tlsTracker) record(c *tlsConn, dir int, r tlswire.Record) []Unit {
	d := c.dirs[dir]
	raw := make([]byte, 0, tlswire.HeaderLen+len(r.Body))
	raw = append(raw, r.Type, byte(r.Version>>8), byte(r.Version), byte(len(r.Body)>>8), byte(len(r.Body)))
	raw = append(raw, r.Body...)
	u := Unit{Title: "TLS record: " + contentNames[r.Type], Bytes: raw}
	u.add(0, 1, "record type", fmt.Sprintf("%d (%s)", r.Type, contentNames[r.Type]))
	u.add(1, 2, "record version", fmt.Sprintf("0x%04x (%s; the legacy field, not the negotiated version)", r.Version, versionName(r.Version)))
	u.add(3, 2, "record length", fmt.Sprintf("%d bytes", len(r.Body)))
	switch {
	case r.Type == tlswire.ContentHandshake && d.opener == nil:
		t.handshake(c, dir, &u, tlswire.HeaderLen, r.Body)
		return []Unit{u}
	case r.Type == tlswire.ContentChangeCipherSpec:
		u.add(5, len(r.Body), "change cipher spec", "the sender protects its next records")
		if !c.tls13 && d.opener == nil {
			t.tls12Keys(c, dir)
		}
		return []Unit{u}
	case r.Type == tlswire.ContentAlert && d.opener == nil:
		if level, desc, ok := tlswire.ParseAlert(r.Body); ok {
			u.Title = "TLS alert: " + tlswire.AlertName(desc)
			u.add(5, 1, "alert level", alertLevel(level))
			u.add(6, 1, "alert description", fmt.Sprintf("%d (%s)", desc, tlswire.AlertName(desc)))
		}
		return []Unit{u}
	}
	if d.opener == nil || d.done {
		u.add(5, len(r.Body), "encrypted content", "no secret for it in the key log")
		return []Unit{u}
	}
	u.add(5, len(r.Body), "encrypted content and tag", "opened with "+d.key)
	typ, content, err := d.opener.Open(r)
	if err != nil {
		d.done = true
		u.Fields[len(u.Fields)-1].Value = "did not open with " + d.key + ": " + err.Error()
		return []Unit{u}
	}
	p := Unit{Title: "decrypted: " + contentNames[typ], Note: "decrypted with " + d.key, Bytes: bytes.Clone(content)}
	switch typ {
	case tlswire.ContentHandshake:
		t.handshake(c, dir, &p, 0, p.Bytes)
	case tlswire.ContentAlert:
		if level, desc, ok := tlswire.ParseAlert(content); ok {
			p.Title = "decrypted alert: " + tlswire.AlertName(desc)
			p.add(0, 1, "alert level", alertLevel(level))
			p.add(1, 1, "alert description", fmt.Sprintf("%d (%s)", desc, tlswire.AlertName(desc)))
		}
	case tlswire.ContentApplicationData:
		p.Bytes = p.Bytes[:min(len(p.Bytes), maxShown)]
		line, _, _ := bytes.Cut(p.Bytes, []byte("\n"))
		p.Title = "decrypted application data"
		p.add(0, len(line), "first line", strings.TrimSpace(string(line)))
		p.add(len(line), len(p.Bytes)-len(line), "rest of the message", fmt.Sprintf("%d bytes in all", len(content)))
	}
	return []Unit{u, p}
}

var handshakeNames = map[uint8]string{
	1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions", 11: "Certificate",
	12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
	16: "ClientKeyExchange", 20: "Finished", 24: "KeyUpdate",
}

// handshake annotates the handshake messages in b, which starts at off in
// u's bytes, and follows the key schedule they imply.
func (t *tlsTracker) handshake(c *tlsConn, dir int, u *Unit, off int, b []byte) {
	msgs, _, _ := tlswire.SplitHandshake(b)
	d := c.dirs[dir]
	var titles []string
	for _, m := range msgs {
		name := handshakeNames[m.Type]
		if name == "" {
			name = fmt.Sprintf("handshake type %d", m.Type)
		}
		titles = append(titles, name)
		u.add(off, 1, "handshake type", fmt.Sprintf("%d (%s)", m.Type, name))
		u.add(off+1, 3, "handshake length", fmt.Sprintf("%d bytes", len(m.Body)))
		body := off + 4
		switch m.Type {
		case tlswire.HandshakeClientHello:
			t.clientHello(c, dir, u, body, m.Body)
		case tlswire.HandshakeServerHello:
			t.serverHello(c, dir, u, body, m.Body)
		case tlswire.HandshakeCertificate:
			u.add(body, len(m.Body), "certificate chain", certChain(m.Body, c.tls13))
		case tlswire.HandshakeFinished:
			u.add(body, len(m.Body), "verify data", "proves the sender saw this same handshake")
			if c.tls13 {
				t.tls13Keys(c, dir, tlswire.KeyLogClientTraffic, tlswire.KeyLogServerTraffic)
			}
		case tlswire.HandshakeKeyUpdate:
			d.done = true
		default:
			u.add(body, len(m.Body), name+" body", "")
		}
		off += len(m.Raw)
	}
	if len(titles) > 0 {
		u.Title += ": " + strings.Join(titles, ", ")
	}
}

func (t *tlsTracker) clientHello(c *tlsConn, dir int, u *Unit, off int, body []byte) {
	h, ok := tlswire.ParseClientHello(body)
	if !ok {
		return
	}
	c.clientRandom = h.Random
	c.dirs[dir].client = true
	u.add(off, 2, "legacy version", versionName(h.LegacyVersion))
	u.add(off+2, 32, "client random", "names this connection's secrets in the key log")
	p := off + 34
	u.add(p, 1+len(h.SessionID), "session ID", fmt.Sprintf("%d bytes", len(h.SessionID)))
	p += 1 + len(h.SessionID)
	var suites []string
	for _, s := range h.CipherSuites {
		suites = append(suites, tls.CipherSuiteName(s))
	}
	u.add(p, 2+2*len(h.CipherSuites), "cipher suites", strings.Join(suites, ", "))
	p += 2 + 2*len(h.CipherSuites)
	if p < off+len(body) {
		comp := int(body[p-off])
		u.add(p, 1+comp, "compression methods", "null")
		p += 1 + comp
	}
	var vs []string
	for _, v := range h.SupportedVersions {
		vs = append(vs, versionName(v))
	}
	u.add(p, off+len(body)-p, "extensions", fmt.Sprintf("SNI %q; supported versions %s", h.ServerName, strings.Join(vs, ", ")))
}

func (t *tlsTracker) serverHello(c *tlsConn, dir int, u *Unit, off int, body []byte) {
	h, ok := tlswire.ParseServerHello(body)
	if !ok {
		return
	}
	c.serverRandom, c.suite, c.tls13 = h.Random, h.CipherSuite, h.Version == tls.VersionTLS13
	u.add(off, 2, "legacy version", "TLS 1.2 (fixed; the version is in the extensions)")
	u.add(off+2, 32, "server random", "")
	p := off + 34
	u.add(p, 1+len(h.SessionID), "session ID echo", fmt.Sprintf("%d bytes", len(h.SessionID)))
	p += 1 + len(h.SessionID)
	u.add(p, 2, "cipher suite", tls.CipherSuiteName(h.CipherSuite))
	u.add(p+3, off+len(body)-p-3, "extensions", "negotiated version "+versionName(h.Version))
	if c.tls13 && !h.IsHelloRetryRequest() {
		t.tls13Keys(c, -1, tlswire.KeyLogClientHandshake, tlswire.KeyLogServerHandshake)
	}
}

// tls13Keys sets the openers of both directions, or of direction only
// when it is 0 or 1, to the TLS 1.3 secrets named by the labels.
func (t *tlsTracker) tls13Keys(c *tlsConn, only int, clientLabel, serverLabel string) {
	for i, d := range c.dirs {
		if d == nil || (only >= 0 && i != only) {
			continue
		}
		label := serverLabel
		if d.client {
			label = clientLabel
		}
		t.setOpener(c, d, label, func(secret []byte) (*tlswire.Opener, error) { return tlswire.NewTLS13Opener(c.suite, secret) })
	}
}

// tls12Keys sets dir's opener from the master secret after its
// ChangeCipherSpec.
func (t *tlsTracker) tls12Keys(c *tlsConn, dir int) {
	d := c.dirs[dir]
	t.setOpener(c, d, tlswire.KeyLogClientRandom, func(master []byte) (*tlswire.Opener, error) {
		cl, sv, err := tlswire.NewTLS12Openers(c.suite, master, c.clientRandom, c.serverRandom)
		if d.client {
			return cl, err
		}
		return sv, err
	})
}

func (t *tlsTracker) setOpener(c *tlsConn, d *tlsDir, label string, open func([]byte) (*tlswire.Opener, error)) {
	d.opener, d.key = nil, ""
	secret := t.keys[hex.EncodeToString(c.clientRandom)][label]
	if secret == nil {
		d.key = label + ": not in the key log"
		return
	}
	o, err := open(secret)
	if err != nil {
		d.done = true
		return
	}
	d.opener, d.key = o, fmt.Sprintf("%s (client random %x…)", label, c.clientRandom[:4])
}

func certChain(body []byte, tls13 bool) string {
	certs, err := tlswire.ParseCertificates(body, tls13)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	if len(certs) == 0 {
		return "empty (no certificate)"
	}
	var parts []string
	for i, c := range certs {
		parts = append(parts, fmt.Sprintf("[%d] %s", i, certLine(c)))
	}
	return strings.Join(parts, "; ")
}

func certLine(c *x509.Certificate) string {
	s := fmt.Sprintf("subject %s, issuer %s, valid %s to %s", c.Subject, c.Issuer,
		c.NotBefore.UTC().Format("2006-01-02T15:04Z"), c.NotAfter.UTC().Format("2006-01-02T15:04Z"))
	if len(c.DNSNames) > 0 {
		s += ", names " + strings.Join(c.DNSNames, " ")
	}
	return s
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func alertLevel(l uint8) string {
	if l == tlswire.AlertFatal {
		return "2 (fatal)"
	}
	return fmt.Sprintf("%d (warning)", l)
}

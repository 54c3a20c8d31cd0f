package timeline

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlslab/tlslab/internal/tlswire"
)

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
	// serverRandom is the ServerHello's random, which TLS 1.2 key
	// derivation needs.
	serverRandom []byte
}

// tlsDirState is one direction's TLS parsing state.
type tlsDirState struct {
	hs        []byte // handshake bytes not yet parsed (a message split across records)
	protected bool   // a TLS 1.0-1.2 ChangeCipherSpec was sent: what follows is encrypted
	opened    bool   // ... and the key log may open it (a suite tlswire decrypts)
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
	claimed [2]bool // by a client's check ([0]) or a server's ([1]); see side
}

// records parses the complete TLS records in the direction's buffer.
func (w wireCtx) records() {
	d := w.c.dirs[w.dir]
	recs, rest, valid := tlswire.SplitRecords(d.buf)
	for _, rec := range recs {
		w.record(d, rec)
		if d.mode == streamDone {
			return
		}
	}
	if !valid {
		d.mode, d.buf = streamDone, nil
		return
	}
	d.buf = rest
}

func (w wireCtx) record(d *tcpDir, rec tlswire.Record) {
	to := w.to
	switch rec.Type {
	case tlswire.ContentChangeCipherSpec:
		// TLS 1.3 sends it only for middlebox compatibility; its
		// handshake records are application_data records anyway.
		if w.c.tls.version != tls.VersionTLS13 {
			d.tls.protected = true
			if w.c.tls.version == tls.VersionTLS12 && tlswire.CanDecryptTLS12(w.c.tls.suite) && !d.tls.opened {
				d.tls.opened = true
				d.tls.v13.phase = phaseApplication
				if !slices.Contains(w.r.sealedConns, w.c) {
					w.r.sealedConns = append(w.r.sealedConns, w.c)
				}
			}
			// The sender goes on with the handshake: it took the
			// certificate it was shown, if any.
			w.r.continued(w.c, w.dir)
		}
	case tlswire.ContentAlert:
		if d.tls.opened {
			w.seal(rec)
			return
		}
		level, desc, ok := tlswire.ParseAlert(rec.Body)
		if d.tls.protected || !ok {
			w.emit(TLS, func(n *namer) string { return "TLS encrypted alert -> " + n.addrPort(to) })
			return
		}
		w.alert(level, desc, false)
	case tlswire.ContentHandshake:
		if d.tls.opened {
			w.seal(rec)
			return
		}
		if d.tls.protected {
			return
		}
		d.tls.hs = append(d.tls.hs, rec.Body...)
		msgs, rest, ok := tlswire.SplitHandshake(d.tls.hs)
		for _, m := range msgs {
			w.handshake(m.Type, m.Body, false)
		}
		if !ok {
			d.mode, d.buf, d.tls.hs = streamDone, nil, nil
			return
		}
		d.tls.hs = append([]byte(nil), rest...)
	case tlswire.ContentApplicationData:
		if w.c.tls.version == tls.VersionTLS13 && w.c.tls.suite != 0 || d.tls.opened {
			w.seal(rec)
			return
		}
		if d.tls.sealed {
			return
		}
		d.tls.sealed = true
		w.emit(TLS, func(n *namer) string { return "TLS encrypted records begin -> " + n.addrPort(to) })
	}
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
	w.emit(TLS, func(n *namer) string {
		return fmt.Sprintf("TLS alert %s (%s) -> %s", alertName(desc), how, n.addrPort(to))
	})
	if level != tlswire.AlertFatal {
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
func (r *recorder) continued(c *tcpConn, dir int) {
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
	case tlswire.HandshakeClientHello:
		h, ok := tlswire.ParseClientHello(msg)
		if !ok {
			w.emit(TLS, func(n *namer) string { return "TLS ClientHello (unparseable) -> " + n.addrPort(to) })
			return
		}
		w.r.hellos = append(w.r.hellos, &helloSeen{at: w.at, random: h.Random, sni: h.ServerName, conn: w.c})
		if w.dir == 0 && !bytes.Equal(w.c.tls.random, h.Random) {
			w.c.tls.random, w.c.tls.sni = h.Random, h.ServerName
			w.r.byRandom[string(h.Random)] = append(w.r.byRandom[string(h.Random)], w.c)
		}
		w.emit(TLS, func(n *namer) string {
			sni := "no SNI"
			if h.ServerName != "" {
				sni = "SNI " + h.ServerName
			}
			return fmt.Sprintf("TLS ClientHello -> %s %s versions %s", n.addrPort(to), sni, versionList(h.Versions()))
		})
	case tlswire.HandshakeServerHello:
		h, ok := tlswire.ParseServerHello(msg)
		if !ok {
			w.emit(TLS, func(n *namer) string { return "TLS ServerHello (unparseable) -> " + n.addrPort(to) })
			return
		}
		w.c.tls.version = h.Version
		name := "ServerHello"
		if h.IsHelloRetryRequest() {
			name = "HelloRetryRequest"
		} else if h.Version == tls.VersionTLS13 && w.c.tls.suite == 0 {
			// What follows is protected: the key log's secrets open it.
			w.c.tls.suite = h.CipherSuite
			w.r.sealedConns = append(w.r.sealedConns, w.c)
		} else if h.Version != tls.VersionTLS13 {
			// Protected from ChangeCipherSpec on, with keys from the
			// master secret and both randoms.
			w.c.tls.suite, w.c.tls.serverRandom = h.CipherSuite, h.Random
		}
		w.emit(TLS, func(n *namer) string {
			return fmt.Sprintf("TLS %s -> %s %s %s", name, n.addrPort(to), versionName(h.Version), tls.CipherSuiteName(h.CipherSuite))
		})
	case tlswire.HandshakeCertificate:
		certs, err := tlswire.ParseCertificates(msg, decrypted)
		w.emit(TLS, func(n *namer) string {
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
		if mt == tlswire.HandshakeFinished && decrypted {
			w.r.continued(w.c, w.dir)
		}
		name, ok := handshakeNames[mt]
		if !ok {
			name = fmt.Sprintf("handshake message %d", mt)
		}
		w.emit(TLS, func(n *namer) string { return fmt.Sprintf("TLS %s%s -> %s", name, qual, n.addrPort(to)) })
	}
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
	case tlswire.AlertWarning:
		return "warning"
	case tlswire.AlertFatal:
		return "fatal"
	}
	return fmt.Sprintf("level %d", l)
}

// alertName is crypto/tls's text for an alert: "bad certificate".
func alertName(d uint8) string { return strings.TrimPrefix(tls.AlertError(d).Error(), "tls: ") }

package timeline

import (
	"bytes"
	"crypto/tls"
	"net"
	"time"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// alertRecordLen is the length of a TLS 1.3 protected record holding one
// unpadded alert: two bytes, the content type, and the AEAD's 16-byte tag
// (the same for the three TLS 1.3 AEADs).
const alertRecordLen = 2 + 1 + 16

// keyPhase says which traffic secret protects a direction's next record.
type keyPhase int

const (
	// phaseHandshake: the sender's handshake traffic secret; every record
	// is opened.
	phaseHandshake keyPhase = iota
	// phaseApplication: the sender's application traffic secret 0, after
	// its Finished (TLS 1.3), or the key block of the master secret after
	// ChangeCipherSpec (TLS 1.2). Application data is opened and read as
	// SIP (see applicationData); of alerts, only a fatal one is reported.
	phaseApplication
	// phaseDone: after a KeyUpdate or a record that did not open; nothing
	// more is opened.
	phaseDone
)

// secretLabel is the key log label of the secret protecting dir's records
// (0: the client's, 1: the server's) in phase p.
func secretLabel(dir int, p keyPhase) string {
	switch {
	case dir == 0 && p == phaseHandshake:
		return tlswire.KeyLogClientHandshake
	case dir == 1 && p == phaseHandshake:
		return tlswire.KeyLogServerHandshake
	case dir == 0:
		return tlswire.KeyLogClientTraffic
	}
	return tlswire.KeyLogServerTraffic
}

// sealedRecord is a protected TLS 1.3 record waiting to be opened, with
// where and when it was seen.
type sealedRecord struct {
	at    time.Time
	order int
	src   net.HardwareAddr
	rec   tlswire.Record // a private copy
}

// tls13Dir is one direction's record protection, as the timeline follows
// it with the secrets from the run's key log: TLS 1.3 from the
// ServerHello on, TLS 1.2 from ChangeCipherSpec on (for the suites
// tlswire.CanDecryptTLS12 names).
type tls13Dir struct {
	pending  []sealedRecord // in order; the first waits for its secret
	held     int            // bytes in pending
	phase    keyPhase
	opener   *tlswire.Opener // nil until the phase's secret is known
	hs       []byte          // decrypted handshake bytes not yet parsed
	dataSeen bool            // application data was reported (as encrypted, or decoded)
	app      *appStream      // decrypted application data being read; nil before any

}

// keyLog takes lines the run's TLS stacks wrote to the key log and opens
// the records of the connections whose secrets they are. Called from the
// TLS stacks' goroutines.
func (r *recorder) keyLog(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for line := range bytes.Lines(p) {
		e, ok := tlswire.ParseKeyLogLine(line)
		if !ok {
			continue
		}
		random := string(e.ClientRandom)
		m := r.secrets[random]
		if m == nil {
			m = make(map[string][]byte)
			r.secrets[random] = m
		}
		m[e.Label] = e.Secret
		for _, c := range r.byRandom[random] {
			r.unseal(c)
		}
	}
}

// seal queues a protected record (TLS 1.3, or TLS 1.2 after
// ChangeCipherSpec) and opens what the known secrets allow.
func (w wireCtx) seal(rec tlswire.Record) {
	s := &w.c.dirs[w.dir].tls.v13
	if s.phase == phaseDone {
		return
	}
	s.held += len(rec.Body)
	rec.Body = bytes.Clone(rec.Body)
	s.pending = append(s.pending, sealedRecord{at: w.at, order: w.order, src: w.src, rec: rec})
	w.r.unseal(w.c)
	if s.held > maxStreamBuffer {
		// Records whose secret never came: stop holding them.
		if s.phase == phaseHandshake {
			w.r.sealedEvent(w.c, w.dir, s.pending[0])
		} else if !s.dataSeen {
			s.dataSeen = true
			w.r.dataBegins(w.c, w.dir, s.pending[0], "")
		}
		s.phase, s.pending, s.held = phaseDone, nil, 0
		s.closeApp()
	}
}

// unseal opens the pending records of a connection in the order they
// were seen, both directions together (a verdict depends on what came
// first), as far as the key log's secrets go: a record waiting for its
// secret holds back those after it. Called with r.mu held.
func (r *recorder) unseal(c *tcpConn) {
	for {
		dir := -1
		for i, d := range c.dirs {
			if d != nil && len(d.tls.v13.pending) > 0 &&
				(dir < 0 || d.tls.v13.pending[0].order < c.dirs[dir].tls.v13.pending[0].order) {
				dir = i
			}
		}
		if dir < 0 || !r.unsealNext(c, dir) {
			return
		}
	}
}

// unsealNext opens the first pending record of one direction and reports
// what it holds. It reports false when the record waits for its secret.
func (r *recorder) unsealNext(c *tcpConn, dir int) bool {
	s := &c.dirs[dir].tls.v13
	defer func() {
		if s.phase == phaseDone {
			s.pending, s.held = nil, 0
			s.closeApp()
		}
	}()
	rec := s.pending[0]
	w := r.ctxOf(c, dir, rec)
	if s.opener == nil {
		o, ok := r.openerFor(c, dir, s.phase)
		if !ok {
			return false // wait for the key log
		}
		if o == nil {
			r.undecryptable(c, dir, rec)
			s.phase = phaseDone
			return true
		}
		s.opener = o
	}
	s.pop()
	typ, content, err := s.opener.Open(rec.rec)
	if err != nil {
		r.undecryptable(c, dir, rec)
		s.phase = phaseDone
		return true
	}
	switch typ {
	case tlswire.ContentHandshake:
		if c.tls.version != tls.VersionTLS13 {
			// TLS 1.2: the Finished that follows ChangeCipherSpec (or a
			// renegotiation, which is not followed).
			msgs, _, _ := tlswire.SplitHandshake(content)
			for _, m := range msgs {
				w.handshake(m.Type, m.Body, true)
			}
			break
		}
		if s.phase != phaseHandshake {
			// A NewSessionTicket, or a KeyUpdate: the next records are
			// under a key the key log does not hold.
			if len(content) > 0 && content[0] == tlswire.HandshakeKeyUpdate {
				s.phase = phaseDone
			}
			break
		}
		s.hs = append(s.hs, content...)
		next := phaseHandshake
		msgs, rest, ok := tlswire.SplitHandshake(s.hs)
		s.hs = rest
		for _, m := range msgs {
			w.handshake(m.Type, m.Body, true)
			switch m.Type {
			case tlswire.HandshakeFinished:
				next = phaseApplication
			case tlswire.HandshakeKeyUpdate:
				next = phaseDone
			}
		}
		if !ok {
			next = phaseDone
		}
		if next != phaseHandshake {
			// A key change ends its record (RFC 8446 §5.1); the new
			// key's sequence numbers start at 0.
			s.phase, s.opener, s.hs = next, nil, nil
		}
	case tlswire.ContentAlert:
		// After a TLS 1.3 handshake, only a fatal alert (a late refusal)
		// is news; a close_notify is not. TLS 1.2 alerts were reported
		// before they could be decrypted (as "TLS encrypted alert") and
		// still are, each.
		if level, desc, ok := tlswire.ParseAlert(content); ok &&
			(s.phase == phaseHandshake || level == tlswire.AlertFatal || c.tls.version != tls.VersionTLS13) {
			w.alert(level, desc, true)
		}
	case tlswire.ContentApplicationData:
		if s.phase == phaseApplication {
			w.applicationData(content)
		}
	}
	return true
}

// openerFor returns the Opener of a direction's records in phase p from
// the key log: the phase's TLS 1.3 traffic secret, or for TLS 1.2 the
// master secret of the connection's CLIENT_RANDOM line with both hello
// randoms. ok is false while the key log lacks the secret; a nil Opener
// with ok true means the secret cannot open these records.
func (r *recorder) openerFor(c *tcpConn, dir int, p keyPhase) (o *tlswire.Opener, ok bool) {
	secrets := r.secrets[string(c.tls.random)]
	if c.tls.version == tls.VersionTLS13 {
		secret := secrets[secretLabel(dir, p)]
		if secret == nil {
			return nil, false
		}
		o, err := tlswire.NewTLS13Opener(c.tls.suite, secret)
		if err != nil {
			return nil, true
		}
		return o, true
	}
	master := secrets[tlswire.KeyLogClientRandom]
	if master == nil {
		return nil, false
	}
	client, server, err := tlswire.NewTLS12Openers(c.tls.suite, master, c.tls.random, c.tls.serverRandom)
	if err != nil {
		return nil, true
	}
	if dir == 0 {
		return client, true
	}
	return server, true
}

// undecryptable says that a direction's records stay encrypted from rec
// on: no secret opens them.
func (r *recorder) undecryptable(c *tcpConn, dir int, rec sealedRecord) {
	s := &c.dirs[dir].tls.v13
	switch {
	case s.phase == phaseHandshake:
		r.sealedEvent(c, dir, rec)
	case !s.dataSeen:
		s.dataSeen = true
		r.dataBegins(c, dir, rec, " (not decrypted: no secret in the key log opens them)")
	}
}

// dataBegins reports where a direction's encrypted application data
// begins, with a note on why it stays encrypted.
func (r *recorder) dataBegins(c *tcpConn, dir int, rec sealedRecord, note string) {
	w := r.ctxOf(c, dir, rec)
	to := w.to
	if c.tls.version != tls.VersionTLS13 {
		w.emit(TLS, func(n *namer) string { return "TLS encrypted records begin -> " + n.addrPort(to) + note })
		return
	}
	w.emit(TLS, func(n *namer) string { return "TLS encrypted application data begins -> " + n.addrPort(to) + note })
}

func (s *tls13Dir) pop() {
	s.held -= len(s.pending[0].rec.Body)
	s.pending[0] = sealedRecord{}
	s.pending = s.pending[1:]
}

// ctxOf is the wire context of a record seen earlier.
func (r *recorder) ctxOf(c *tcpConn, dir int, rec sealedRecord) wireCtx {
	from, to := c.client, c.server
	if dir == 1 {
		from, to = to, from
	}
	return wireCtx{r: r, at: rec.at, order: rec.order, src: rec.src, c: c, dir: dir, from: from, to: to}
}

// sealedEvent says that a direction's records stay encrypted from rec on:
// the key log has no secret for them, or it does not open them.
func (r *recorder) sealedEvent(c *tcpConn, dir int, rec sealedRecord) {
	w := r.ctxOf(c, dir, rec)
	to := w.to
	w.emit(TLS, func(n *namer) string {
		return "TLS encrypted records begin -> " + n.addrPort(to) + " (not decrypted: no secret in the key log opens them)"
	})
}

// flushSealed reports the directions whose records still wait for a secret
// the key log never got. Called with r.mu held, once the run is over.
func (r *recorder) flushSealed() {
	for _, c := range r.sealedConns {
		for dir, d := range c.dirs {
			if d == nil {
				continue
			}
			s := &d.tls.v13
			if len(s.pending) > 0 {
				if s.phase == phaseHandshake {
					r.sealedEvent(c, dir, s.pending[0])
				} else if !s.dataSeen {
					s.dataSeen = true
					r.dataBegins(c, dir, s.pending[0], "")
				}
			}
			s.pending, s.held = nil, 0
			s.closeApp()
		}
	}
}

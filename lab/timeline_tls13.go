package lab

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The NSS key log labels of the TLS 1.3 traffic secrets the timeline uses
// to open protected handshake records (RFC 8446 §7.1).
const (
	labelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	labelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
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
	// its Finished. Application data is never opened: only records the
	// size of an alert are, and only a fatal alert in them is reported.
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
		return labelClientHandshake
	case dir == 1 && p == phaseHandshake:
		return labelServerHandshake
	case dir == 0:
		return labelClientTraffic
	}
	return labelServerTraffic
}

// sealedRecord is a protected TLS 1.3 record waiting to be opened, with
// where and when it was seen.
type sealedRecord struct {
	at     time.Time
	order  int
	src    net.HardwareAddr
	header []byte // the record header, the AEAD's additional data
	body   []byte
}

// tls13Dir is one direction's TLS 1.3 record protection, as the timeline
// follows it with the secrets from the run's key log.
type tls13Dir struct {
	pending  []sealedRecord // in order; the first waits for its secret
	held     int            // bytes in pending
	phase    keyPhase
	aead     cipher.AEAD // nil until the phase's secret is known
	iv       []byte
	seq      uint64 // records opened or skipped under the current key
	hs       []byte // decrypted handshake bytes not yet parsed
	dataSeen bool   // application data was reported
}

// keyLog takes lines the run's TLS stacks wrote to the key log and opens
// the records of the connections whose secrets they are. Called from the
// TLS stacks' goroutines.
func (r *timelineRecorder) keyLog(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for line := range bytes.Lines(p) {
		f := bytes.Fields(line)
		if len(f) != 3 {
			continue
		}
		random, err := hex.DecodeString(string(f[1]))
		if err != nil || len(random) != 32 {
			continue
		}
		secret, err := hex.DecodeString(string(f[2]))
		if err != nil {
			continue
		}
		m := r.secrets[string(random)]
		if m == nil {
			m = make(map[string][]byte)
			r.secrets[string(random)] = m
		}
		m[string(f[0])] = secret
		for _, c := range r.byRandom[string(random)] {
			r.unseal(c)
		}
	}
}

// seal queues a protected record of a TLS 1.3 connection and opens what
// the known secrets allow.
func (w wireCtx) seal(header, body []byte) {
	s := &w.c.dirs[w.dir].tls.v13
	if s.phase == phaseDone {
		return
	}
	s.held += len(body)
	s.pending = append(s.pending, sealedRecord{at: w.at, order: w.order, src: w.src,
		header: bytes.Clone(header), body: bytes.Clone(body)})
	w.r.unseal(w.c)
	if s.held > maxStreamBuffer {
		// Records whose secret never came: stop holding them.
		if s.phase == phaseHandshake {
			w.r.sealedEvent(w.c, w.dir, s.pending[0])
		}
		s.phase, s.pending, s.held = phaseDone, nil, 0
	}
}

// unseal opens the pending records of a connection in the order they
// were seen, both directions together (a verdict depends on what came
// first), as far as the key log's secrets go: a record waiting for its
// secret holds back those after it. Called with r.mu held.
func (r *timelineRecorder) unseal(c *tcpConn) {
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
func (r *timelineRecorder) unsealNext(c *tcpConn, dir int) bool {
	s := &c.dirs[dir].tls.v13
	defer func() {
		if s.phase == phaseDone {
			s.pending, s.held = nil, 0
		}
	}()
	rec := s.pending[0]
	w := r.ctxOf(c, dir, rec)
	if s.phase == phaseApplication && len(rec.body) != alertRecordLen {
		s.pop()
		s.seq++
		if !s.dataSeen {
			s.dataSeen = true
			to := w.to
			w.emit(TimelineTLS, func(n *namer) string { return "TLS encrypted application data begins -> " + n.addrPort(to) })
		}
		return true
	}
	if s.aead == nil {
		secret := r.secrets[string(c.tls.random)][secretLabel(dir, s.phase)]
		if secret == nil {
			return false // wait for the key log
		}
		aead, iv, err := trafficKeys(c.tls.suite, secret)
		if err != nil {
			s.phase = phaseDone
			return true
		}
		s.aead, s.iv = aead, iv
	}
	s.pop()
	typ, content, err := s.open(rec)
	if err != nil {
		if s.phase == phaseHandshake {
			r.sealedEvent(c, dir, rec)
		}
		s.phase = phaseDone
		return true
	}
	switch typ {
	case recordHandshake:
		if s.phase != phaseHandshake {
			break // a NewSessionTicket or KeyUpdate the size of an alert
		}
		s.hs = append(s.hs, content...)
		next := phaseHandshake
		ok := splitHandshake(&s.hs, func(mt uint8, msg []byte) {
			w.handshake(mt, msg, true)
			switch mt {
			case msgFinished:
				next = phaseApplication
			case msgKeyUpdate:
				next = phaseDone
			}
		})
		if !ok {
			next = phaseDone
		}
		if next != phaseHandshake {
			// A key change ends its record (RFC 8446 §5.1); the new
			// key's sequence numbers start at 0.
			s.phase, s.aead, s.iv, s.seq, s.hs = next, nil, nil, 0, nil
		}
	case recordAlert:
		// After the handshake, only a fatal alert (a late refusal) is
		// news; a close_notify is not.
		if len(content) == 2 && (s.phase == phaseHandshake || content[0] == alertFatal) {
			w.alert(content[0], content[1], true)
		}
	}
	return true
}

func (s *tls13Dir) pop() {
	s.held -= len(s.pending[0].body)
	s.pending[0] = sealedRecord{}
	s.pending = s.pending[1:]
}

// open decrypts one record with the current key (RFC 8446 §5.2) and
// returns its real content type and content.
func (s *tls13Dir) open(rec sealedRecord) (uint8, []byte, error) {
	nonce := bytes.Clone(s.iv)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(s.seq >> (8 * i))
	}
	s.seq++
	inner, err := s.aead.Open(nil, nonce, rec.body, rec.header)
	if err != nil {
		return 0, nil, err
	}
	inner = bytes.TrimRight(inner, "\x00")
	if len(inner) == 0 {
		return 0, nil, errors.New("record without content type")
	}
	return inner[len(inner)-1], inner[:len(inner)-1], nil
}

// ctxOf is the wire context of a record seen earlier.
func (r *timelineRecorder) ctxOf(c *tcpConn, dir int, rec sealedRecord) wireCtx {
	from, to := c.client, c.server
	if dir == 1 {
		from, to = to, from
	}
	return wireCtx{r: r, at: rec.at, order: rec.order, src: rec.src, c: c, dir: dir, from: from, to: to}
}

// sealedEvent says that a direction's records stay encrypted from rec on:
// the key log has no secret for them, or it does not open them.
func (r *timelineRecorder) sealedEvent(c *tcpConn, dir int, rec sealedRecord) {
	w := r.ctxOf(c, dir, rec)
	to := w.to
	w.emit(TimelineTLS, func(n *namer) string {
		return "TLS encrypted records begin -> " + n.addrPort(to) + " (not decrypted: no secret in the key log opens them)"
	})
}

// flushSealed reports the directions whose records still wait for a secret
// the key log never got. Called with r.mu held, once the run is over.
func (r *timelineRecorder) flushSealed() {
	for _, c := range r.tls13 {
		for dir, d := range c.dirs {
			if d == nil || len(d.tls.v13.pending) == 0 {
				continue
			}
			s := &d.tls.v13
			if s.phase == phaseHandshake {
				r.sealedEvent(c, dir, s.pending[0])
			} else if !s.dataSeen {
				s.dataSeen = true
				w := r.ctxOf(c, dir, s.pending[0])
				to := w.to
				w.emit(TimelineTLS, func(n *namer) string { return "TLS encrypted application data begins -> " + n.addrPort(to) })
			}
			s.pending, s.held = nil, 0
		}
	}
}

// trafficKeys derives a traffic secret's record key and IV (RFC 8446
// §7.3) for a TLS 1.3 cipher suite.
func trafficKeys(suite uint16, secret []byte) (cipher.AEAD, []byte, error) {
	h, keyLen := sha256.New, 16
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
	case tls.TLS_AES_256_GCM_SHA384:
		h, keyLen = sha512.New384, 32
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		keyLen = chacha20poly1305.KeySize
	default:
		return nil, nil, fmt.Errorf("lab: no TLS 1.3 cipher suite %#04x", suite)
	}
	key, err := expandLabel(h, secret, "key", keyLen)
	if err != nil {
		return nil, nil, err
	}
	iv, err := expandLabel(h, secret, "iv", 12)
	if err != nil {
		return nil, nil, err
	}
	var aead cipher.AEAD
	if suite == tls.TLS_CHACHA20_POLY1305_SHA256 {
		aead, err = chacha20poly1305.New(key)
	} else {
		var block cipher.Block
		if block, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCM(block)
		}
	}
	return aead, iv, err
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), n)
}

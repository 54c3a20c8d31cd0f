package attacker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// TLSAlert is a TLS alert a peer sent: on the victim's side, the alert
// with which the victim refused the attacker's handshake.
type TLSAlert struct {
	// Level is 1 (warning) or 2 (fatal). An alert crypto/tls decrypted
	// is fatal: it reports only those (TLS 1.3 has no other).
	Level uint8
	// Description is the alert's code (RFC 8446 section 6, RFC 5246
	// section 7.2), e.g. 48.
	Description uint8
	// Name is the code's name in the RFCs, e.g. "unknown_ca",
	// "bad_certificate", "certificate_expired".
	Name string
	// Plaintext reports whether the alert was read from a plaintext alert
	// record among the peer's raw bytes: a TLS 1.2 refusal (sent before
	// the peer's ChangeCipherSpec), or a TLS 1.3 one sent unprotected
	// after the ServerHello, as OpenSSL 3.0 does (crypto/tls then fails
	// to decrypt it and reports "local error: tls: bad record MAC").
	// False when crypto/tls decrypted it ("remote error: tls: ...").
	Plaintext bool
}

// String returns e.g. "fatal alert unknown_ca (48) in plaintext".
func (a TLSAlert) String() string {
	level := "fatal"
	if a.Level == tlswire.AlertWarning {
		level = "warning"
	} else if a.Level != tlswire.AlertFatal {
		level = fmt.Sprintf("level-%d", a.Level)
	}
	s := fmt.Sprintf("%s alert %s (%d)", level, a.Name, a.Description)
	if a.Plaintext {
		s += " in plaintext"
	}
	return s
}

func newAlert(level, desc uint8, plaintext bool) *TLSAlert {
	return &TLSAlert{Level: level, Description: desc, Name: tlswire.AlertName(desc), Plaintext: plaintext}
}

// maxHandshakeRecord bounds the bytes VictimTLS keeps of what the victim
// sent during the handshake, where it looks for the victim's alert. A
// ClientHello, even with post-quantum key shares, is a few KiB.
const maxHandshakeRecord = 16 << 10

// peerAlert returns the alert that ended a failed handshake: the first
// fatal plaintext alert among raw, the peer's bytes from the first
// (bounded); else the alert crypto/tls reported in err ("remote error:
// tls: bad certificate"); else the first plaintext warning alert; else
// nil (the peer sent none: it closed, reset or timed out, or the
// attacker's side failed first).
func peerAlert(raw []byte, err error) *TLSAlert {
	alerts := tlswire.PlaintextAlerts(raw)
	for _, a := range alerts {
		if a.Level == tlswire.AlertFatal {
			return newAlert(a.Level, a.Description, true)
		}
	}
	if desc, ok := remoteAlert(err); ok {
		return newAlert(tlswire.AlertFatal, desc, false)
	}
	if len(alerts) > 0 {
		return newAlert(alerts[0].Level, alerts[0].Description, true)
	}
	return nil
}

// remoteAlert returns the description of the alert crypto/tls received,
// which it reports as a *net.OpError with Op "remote error" around its
// alert, whose text is tls.AlertError's.
func remoteAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	text := op.Err.Error()
	for d := range 256 {
		if tls.AlertError(d).Error() == text {
			return uint8(d), true
		}
	}
	return 0, false
}

// recordingConn keeps the first max bytes read through it, until stop.
type recordingConn struct {
	net.Conn
	max int

	mu      sync.Mutex
	buf     []byte
	stopped bool
}

func newRecordingConn(c net.Conn, max int) *recordingConn {
	return &recordingConn{Conn: c, max: max}
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.stopped {
			if room := c.max - len(c.buf); room > 0 {
				c.buf = append(c.buf, p[:min(n, room)]...)
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// bytes returns what was recorded; the caller must not modify it.
func (c *recordingConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf
}

// stop ends the recording and drops what it kept.
func (c *recordingConn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped, c.buf = true, nil
}

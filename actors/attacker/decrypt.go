package attacker

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// DecryptedSession is a TLS 1.2 connection decrypted with a stolen key.
type DecryptedSession struct {
	Client, Server netip.AddrPort
	// Version and CipherSuite as crypto/tls names them ("TLS 1.2",
	// "TLS_RSA_WITH_AES_128_GCM_SHA256").
	Version, CipherSuite string
	// ExtendedMasterSecret reports whether the master secret was bound to
	// the handshake transcript (RFC 7627), as Go negotiates by default. It
	// does not stop the decryption: the capture holds the transcript.
	ExtendedMasterSecret bool
	// ClientPlaintext and ServerPlaintext are the application data each
	// side sent, in order.
	ClientPlaintext, ServerPlaintext []byte
}

// DecryptStaticRSA decrypts a captured TLS 1.2 connection that used
// static RSA key exchange, given the server's private key: the
// ClientKeyExchange carries the premaster secret encrypted to the key; the
// TLS 1.2 PRF turns it into the master secret (extended or not) and the key
// block; the records then decrypt and authenticate. Handled suites:
// TLS_RSA_WITH_AES_{128,256}_GCM_SHA{256,384} and
// TLS_RSA_WITH_AES_{128,256}_CBC_SHA(256).
//
// Errors are *DecryptError values whose cause is ErrEphemeralKeyExchange
// (ECDHE suites), ErrTLS13, ErrResumed, ErrNotRSAKey, ErrWrongKey,
// ErrIncomplete, or a description of what else is in the way.
func DecryptStaticRSA(key crypto.PrivateKey, conn CapturedConn) (*DecryptedSession, error) {
	ds, err := decryptStaticRSA(key, conn)
	if err != nil {
		return nil, &DecryptError{Client: conn.Client, Server: conn.Server, Err: err}
	}
	return ds, nil
}

func decryptStaticRSA(key crypto.PrivateKey, conn CapturedConn) (*DecryptedSession, error) {
	client, err := splitDirection(conn.ClientData)
	if err != nil {
		return nil, err
	}
	server, err := splitDirection(conn.ServerData)
	if err != nil {
		return nil, err
	}
	chMsg, ok := client.find(tlswire.HandshakeClientHello)
	ch, chOK := tlswire.ParseClientHello(chMsg.Body)
	if !ok || !chOK {
		return nil, fmt.Errorf("%w: no ClientHello", ErrIncomplete)
	}
	shMsg, ok := server.find(tlswire.HandshakeServerHello)
	if !ok {
		return nil, fmt.Errorf("%w: no ServerHello", ErrIncomplete)
	}
	sh, ok := tlswire.ParseServerHello(shMsg.Body)
	if !ok {
		return nil, errors.New("malformed ServerHello")
	}
	suite := sh.CipherSuite
	ds := &DecryptedSession{Client: conn.Client, Server: conn.Server, Version: tls.VersionName(sh.Version), CipherSuite: tls.CipherSuiteName(suite), ExtendedMasterSecret: sh.ExtendedMasterSecret}
	switch {
	case sh.Version == tls.VersionTLS13:
		return nil, ErrTLS13
	case strings.Contains(ds.CipherSuite, "DHE_"):
		return nil, ErrEphemeralKeyExchange
	case sh.Version != tls.VersionTLS12:
		return nil, fmt.Errorf("session used %s: only TLS 1.2 is decrypted", ds.Version)
	case !tlswire.CanDecryptTLS12(suite): // what is left are static RSA suites
		return nil, fmt.Errorf("cipher suite %s is not one the decrypter handles", ds.CipherSuite)
	}
	cke, ok := client.find(tlswire.HandshakeClientKeyExchange)
	if !ok {
		if _, full := server.find(tlswire.HandshakeServerHelloDone); !full && server.ccs {
			return nil, ErrResumed
		}
		return nil, fmt.Errorf("%w: no ClientKeyExchange", ErrIncomplete)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, ErrNotRSAKey
	}
	encrypted, ok := tlswire.ParseRSAClientKeyExchange(cke.Body)
	if !ok {
		return nil, errors.New("malformed ClientKeyExchange")
	}
	premaster, err := rsaKey.Decrypt(nil, encrypted, &rsa.PKCS1v15DecryptOptions{})
	if err != nil || len(premaster) != 48 {
		return nil, fmt.Errorf("%w: the premaster secret does not decrypt", ErrWrongKey)
	}

	var master []byte
	if sh.ExtendedMasterSecret {
		master, err = tlswire.ExtendedMasterSecret(suite, premaster, sessionTranscript(chMsg, client, server))
	} else {
		master, err = tlswire.MasterSecret(suite, premaster, ch.Random, sh.Random)
	}
	if err != nil {
		return nil, err
	}
	cOpen, sOpen, err := tlswire.NewTLS12Openers(suite, master, ch.Random, sh.Random)
	if err != nil {
		return nil, err
	}
	if ds.ClientPlaintext, err = openAll(cOpen, client.encrypted); err != nil {
		return nil, err
	}
	if ds.ServerPlaintext, err = openAll(sOpen, server.encrypted); err != nil {
		return nil, err
	}
	return ds, nil
}

// sessionTranscript is the extended master secret's session_hash input:
// every handshake message up to the ClientKeyExchange, in the order sent.
func sessionTranscript(ch tlswire.Message, client, server direction) [][]byte {
	out := [][]byte{ch.Raw}
	for _, m := range server.handshake {
		out = append(out, m.Raw)
		if m.Type == tlswire.HandshakeServerHelloDone {
			break
		}
	}
	for _, m := range client.handshake[1:] {
		out = append(out, m.Raw)
		if m.Type == tlswire.HandshakeClientKeyExchange {
			break
		}
	}
	return out
}

// direction is one side's records split at its ChangeCipherSpec: the
// plaintext handshake messages before it, the encrypted records after.
type direction struct {
	handshake []tlswire.Message
	ccs       bool
	encrypted []tlswire.Record
}

// splitDirection reads one side's captured bytes; a record cut off where
// the capture stopped is left out.
func splitDirection(data []byte) (direction, error) {
	var d direction
	recs, rest, valid := tlswire.SplitRecords(data)
	if !valid {
		return d, fmt.Errorf("stream is not TLS: record header % x", rest[:tlswire.HeaderLen])
	}
	var hs []byte
	for _, r := range recs {
		if d.ccs {
			d.encrypted = append(d.encrypted, r)
			continue
		}
		switch r.Type {
		case tlswire.ContentChangeCipherSpec:
			d.ccs = true
		case tlswire.ContentHandshake:
			hs = append(hs, r.Body...)
		}
	}
	d.handshake, _, _ = tlswire.SplitHandshake(hs)
	return d, nil
}

func (d direction) find(typ uint8) (tlswire.Message, bool) {
	for _, m := range d.handshake {
		if m.Type == typ {
			return m, true
		}
	}
	return tlswire.Message{}, false
}

// openAll decrypts records in order and returns the application data.
func openAll(o *tlswire.Opener, recs []tlswire.Record) ([]byte, error) {
	var out []byte
	for i, r := range recs {
		typ, pt, err := o.Open(r)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrWrongKey, i, err)
		}
		if typ == tlswire.ContentApplicationData {
			out = append(out, pt...)
		}
	}
	return out, nil
}

// KeyEavesdropper is a passive attacker holding a stolen server private
// key: it captures TCP streams like an eavesdropper on a mirror port (it
// is a netsim.Tap) and, at Report time, decrypts every TLS connection it
// can. Safe for concurrent use.
type KeyEavesdropper struct {
	key     crypto.PrivateKey
	capture *StreamCapture
}

// NewKeyEavesdropper returns a tap that decrypts with key (the server's
// private key, e.g. pki.Credential.Key). maxBytes bounds each captured
// direction; zero means DefaultMaxCapture.
func NewKeyEavesdropper(key crypto.PrivateKey, maxBytes int) *KeyEavesdropper {
	return &KeyEavesdropper{key: key, capture: NewStreamCapture(maxBytes)}
}

// ObserveFrame implements netsim.Tap.
func (k *KeyEavesdropper) ObserveFrame(ts time.Time, frame []byte) { k.capture.ObserveFrame(ts, frame) }

// KeyReport is what a KeyEavesdropper learned.
type KeyReport struct {
	// Conns has one entry per captured connection that carried TLS.
	Conns []DecryptResult
	// Found lists the canaries found in any decrypted plaintext, in the
	// order asked for.
	Found []string
}

// DecryptResult is the outcome for one connection.
type DecryptResult struct {
	Client, Server netip.AddrPort
	// Decrypted reports success; Session is then set.
	Decrypted bool
	Session   *DecryptedSession
	// Err is the exact reason it failed, e.g. "session used ECDHE key
	// exchange: the server key cannot recover the premaster secret"; the
	// full error is in Error.
	Err   string
	Error error
	// Found lists the canaries in this connection's plaintext.
	Found []string
}

// Report decrypts what was captured so far and searches it for canaries.
// Connections whose client bytes do not start with a TLS record are left
// out.
func (k *KeyEavesdropper) Report(canaries []string) KeyReport {
	var r KeyReport
	var all [][]byte
	for _, c := range k.capture.Conns() {
		if !tlswire.StartsWithHandshake(c.ClientData) {
			continue
		}
		res := DecryptResult{Client: c.Client, Server: c.Server}
		ds, err := DecryptStaticRSA(k.key, c)
		if err != nil {
			res.Error = err
			res.Err = errors.Unwrap(err).Error()
		} else {
			res.Decrypted, res.Session = true, ds
			res.Found = found(canaries, ds.ClientPlaintext, ds.ServerPlaintext)
			all = append(all, ds.ClientPlaintext, ds.ServerPlaintext)
		}
		r.Conns = append(r.Conns, res)
	}
	r.Found = found(canaries, all...)
	return r
}

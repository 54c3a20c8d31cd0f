package attacker

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
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
	cRecs, err := parseRecords(conn.ClientData)
	if err != nil {
		return nil, err
	}
	sRecs, err := parseRecords(conn.ServerData)
	if err != nil {
		return nil, err
	}
	client, server := splitDirection(cRecs), splitDirection(sRecs)
	ch, ok := client.find(hsClientHello)
	if !ok || len(ch.body) < 34 {
		return nil, fmt.Errorf("%w: no ClientHello", ErrIncomplete)
	}
	shMsg, ok := server.find(hsServerHello)
	if !ok {
		return nil, fmt.Errorf("%w: no ServerHello", ErrIncomplete)
	}
	sh, err := parseServerHello(shMsg.body)
	if err != nil {
		return nil, err
	}
	ds := &DecryptedSession{Client: conn.Client, Server: conn.Server, Version: tls.VersionName(sh.version), CipherSuite: tls.CipherSuiteName(sh.suite), ExtendedMasterSecret: sh.ems}
	switch {
	case sh.version == versionTLS13:
		return nil, ErrTLS13
	case strings.Contains(ds.CipherSuite, "DHE_"):
		return nil, ErrEphemeralKeyExchange
	case sh.version != versionTLS12:
		return nil, fmt.Errorf("session used %s: only TLS 1.2 is decrypted", ds.Version)
	}
	params, ok := rsaSuites[sh.suite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s is not one the decrypter handles", ds.CipherSuite)
	}
	cke, ok := client.find(hsClientKeyExchange)
	if !ok {
		if _, full := server.find(hsServerHelloDone); !full && server.ccs {
			return nil, ErrResumed
		}
		return nil, fmt.Errorf("%w: no ClientKeyExchange", ErrIncomplete)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, ErrNotRSAKey
	}
	if len(cke.body) < 2 || int(binary.BigEndian.Uint16(cke.body)) != len(cke.body)-2 {
		return nil, errors.New("malformed ClientKeyExchange")
	}
	premaster, err := rsaKey.Decrypt(nil, cke.body[2:], &rsa.PKCS1v15DecryptOptions{})
	if err != nil || len(premaster) != 48 {
		return nil, fmt.Errorf("%w: the premaster secret does not decrypt", ErrWrongKey)
	}

	var master []byte
	if sh.ems {
		// session_hash: every handshake message up to the
		// ClientKeyExchange, in the order sent.
		th := params.prf()
		th.Write(ch.raw)
		for _, m := range server.handshake {
			th.Write(m.raw)
			if m.typ == hsServerHelloDone {
				break
			}
		}
		for _, m := range client.handshake[1:] {
			th.Write(m.raw)
			if m.typ == hsClientKeyExchange {
				break
			}
		}
		master = prf12(params.prf, premaster, "extended master secret", th.Sum(nil), 48)
	} else {
		master = prf12(params.prf, premaster, "master secret", append(append([]byte(nil), ch.body[2:34]...), sh.random...), 48)
	}
	n := 2*params.macLen + 2*params.keyLen + 2*params.ivLen
	kb := prf12(params.prf, master, "key expansion", append(append([]byte(nil), sh.random...), ch.body[2:34]...), n)
	take := func(k int) []byte { b := kb[:k]; kb = kb[k:]; return b }
	cMAC, sMAC := take(params.macLen), take(params.macLen)
	cKey, sKey := take(params.keyLen), take(params.keyLen)
	cIV, sIV := take(params.ivLen), take(params.ivLen)
	ck, err := newRecordKeys(params, cMAC, cKey, cIV)
	if err != nil {
		return nil, err
	}
	sk, err := newRecordKeys(params, sMAC, sKey, sIV)
	if err != nil {
		return nil, err
	}
	if ds.ClientPlaintext, err = openAll(ck, client.encrypted); err != nil {
		return nil, err
	}
	if ds.ServerPlaintext, err = openAll(sk, server.encrypted); err != nil {
		return nil, err
	}
	return ds, nil
}

// openAll decrypts records in order and returns the application data.
func openAll(k *recordKeys, recs []tlsRecord) ([]byte, error) {
	var out []byte
	for i, r := range recs {
		pt, err := k.open(r)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrWrongKey, i, err)
		}
		if r.typ == recordApplicationData {
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
		if len(c.ClientData) < 5 || c.ClientData[0] != recordHandshake || c.ClientData[1] != 3 {
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

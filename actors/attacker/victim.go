package attacker

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
)

// VictimSide plays the server to the victim of an intercepted connection.
// VictimTLS, VictimPlain and VictimRefuse are the lab's; any type may
// implement it.
type VictimSide interface {
	// Accept takes over conn, the intercepted connection (its LocalAddr is
	// the address the victim dialled), runs whatever handshake this side
	// plays, records it in hs, and returns the connection carrying the
	// victim's application data. conn's deadline bounds the handshake; on
	// error the proxy closes conn.
	Accept(ctx context.Context, conn net.Conn, hs *Handshake) (net.Conn, error)
}

// VictimTLS terminates the victim's TLS with a certificate from Certs: the
// man in the middle proper. The victim completes the handshake only if it
// accepts that certificate for the name it dialled; otherwise hs.Err is
// crypto/tls's error, e.g. "remote error: tls: bad certificate", and
// hs.Alert the alert the victim refused with, read from its raw bytes
// (the first 16 KiB it sent) when it came in plaintext, as a TLS 1.2
// refusal and OpenSSL 3.0's TLS 1.3 one do, or from crypto/tls's remote
// error. lab.ClassifyAlert names the defense an alert shows, where it
// shows one.
//
// MaxVersion below the victim's MinVersion is the downgrade attack. With
// Legacy (Downgrade), a victim that insists on TLS 1.2 is answered with a
// TLS 1.0 ServerHello and refuses it itself (victim: "tls: server selected
// unsupported protocol version 301"; attacker: "attacker: answered TLS
// 1.0; the client refused it: alert tls: protocol version not
// supported"), while one that still allows TLS 1.0 is talked down to it.
// Without Legacy, crypto/tls aborts as the server ("tls: client offered
// only unsupported versions: [304 303]").
type VictimTLS struct {
	// Certs chooses the certificate. Required.
	Certs CertSource
	// MinVersion and MaxVersion bound the versions offered; zero means
	// crypto/tls's defaults (TLS 1.2 to 1.3). MinVersion below TLS 1.2
	// must be set explicitly for a TLS 1.0 or 1.1 downgrade.
	MinVersion, MaxVersion uint16
	// CipherSuites restricts TLS 1.0-1.2 suites; nil means the defaults.
	CipherSuites []uint16
	// KeyLogWriter, when set, receives the victim-side session secrets
	// in NSS key log format, so Wireshark can decrypt the capture.
	KeyLogWriter io.Writer
	// Legacy makes the side answer a client that does not offer
	// MaxVersion as a server that speaks nothing newer does: with a
	// ServerHello selecting MaxVersion, which the client then refuses by
	// its own version floor (crypto/tls, as a server, would instead abort
	// the handshake itself). Likewise a client that offers none of
	// CipherSuites (below TLS 1.3) gets a ServerHello selecting the first,
	// and refuses it ("tls: server chose an unconfigured cipher suite").
	// A client that offers MaxVersion (and one of the suites) gets the
	// full handshake. Downgrade sets it.
	Legacy bool
}

// Offer says what the side offers, for reports: "offering only TLS 1.0",
// "offering TLS 1.0 to TLS 1.2 with TLS_RSA_WITH_AES_128_CBC_SHA", or ""
// for crypto/tls's defaults.
func (v VictimTLS) Offer() string {
	var b strings.Builder
	switch {
	case v.MaxVersion != 0 && (v.MinVersion == v.MaxVersion || v.MinVersion == 0 && v.Legacy):
		b.WriteString("offering only " + tls.VersionName(v.MaxVersion))
	case v.MinVersion != 0 && v.MaxVersion != 0:
		b.WriteString("offering " + tls.VersionName(v.MinVersion) + " to " + tls.VersionName(v.MaxVersion))
	case v.MinVersion != 0:
		b.WriteString("offering " + tls.VersionName(v.MinVersion) + " and later")
	case v.MaxVersion != 0:
		b.WriteString("offering up to " + tls.VersionName(v.MaxVersion))
	}
	if len(v.CipherSuites) > 0 {
		names := make([]string, len(v.CipherSuites))
		for i, s := range v.CipherSuites {
			names[i] = tls.CipherSuiteName(s)
		}
		if b.Len() == 0 {
			b.WriteString("offering")
		}
		b.WriteString(" with " + strings.Join(names, ", "))
	}
	return b.String()
}

// Downgrade returns a VictimTLS that offers only version (e.g.
// tls.VersionTLS10) with certificates from certs.
func Downgrade(certs CertSource, version uint16) VictimTLS {
	return VictimTLS{Certs: certs, MinVersion: version, MaxVersion: version, Legacy: true}
}

// Accept implements VictimSide.
func (v VictimTLS) Accept(ctx context.Context, conn net.Conn, hs *Handshake) (net.Conn, error) {
	hs.TLS = true
	if v.Certs == nil {
		err := errors.New("attacker: VictimTLS has no CertSource")
		hs.Err = err.Error()
		return nil, err
	}
	rec := newRecordingConn(conn, maxHandshakeRecord)
	conn = rec
	if v.Legacy && v.MaxVersion != 0 {
		replayed, err := answerAsLegacyServer(conn, v.MaxVersion, v.CipherSuites)
		if err != nil {
			hs.Err = err.Error()
			hs.Alert = peerAlert(rec.bytes(), err)
			return nil, err
		}
		conn = replayed
	}
	var presented *tls.Certificate
	cfg := &tls.Config{
		MinVersion:   v.MinVersion,
		MaxVersion:   v.MaxVersion,
		CipherSuites: v.CipherSuites,
		KeyLogWriter: v.KeyLogWriter,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			hs.ServerName = hello.ServerName
			c, err := v.Certs.Certificate(hello)
			presented = c
			return c, err
		},
	}
	tc := tls.Server(conn, cfg)
	err := tc.HandshakeContext(ctx)
	hs.Certificate = certInfo(leafOf(presented), v.Certs.String())
	if err != nil {
		hs.Err = err.Error()
		hs.Alert = peerAlert(rec.bytes(), err)
		return nil, err
	}
	rec.stop()
	hs.Completed = true
	hs.fillTLS(tc.ConnectionState())
	return tc, nil
}

// VictimPlain takes the victim's bytes as they come, with no handshake:
// plaintext from a victim that talks plaintext (TLS stripping of a client
// that fell back to port 5060), or the victim's TLS records untouched when
// paired with UpstreamPlain (a passthrough relay that sees only
// ciphertext).
type VictimPlain struct{}

// Accept implements VictimSide.
func (VictimPlain) Accept(_ context.Context, conn net.Conn, hs *Handshake) (net.Conn, error) {
	hs.Completed = true
	return conn, nil
}

// ErrRefused is the error VictimRefuse records.
var ErrRefused = errors.New("attacker: connection refused by the attacker")

// VictimRefuse closes every intercepted connection at once (with a reset
// once the victim's first bytes have arrived): the attacker blocks the
// victim's TLS port so that a client allowed to fall back to plaintext
// does so.
type VictimRefuse struct{}

// Accept implements VictimSide.
func (VictimRefuse) Accept(_ context.Context, conn net.Conn, hs *Handshake) (net.Conn, error) {
	hs.Err = ErrRefused.Error()
	return nil, ErrRefused
}

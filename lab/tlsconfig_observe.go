package lab

import (
	"bytes"
	"crypto/tls"
	"io"
	"sync"

	"github.com/tlslab/tlslab/internal/tlswire"
)

// configKeyLog is the key log of one observed config: it remembers the
// client random of the last secret it logged, which in TLS 1.3 is the
// handshake whose certificate the config checks next (the handshake
// secrets are logged before the peer's Certificate is read).
type configKeyLog struct {
	w io.Writer

	mu     sync.Mutex
	random []byte
}

func (k *configKeyLog) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		if e, ok := tlswire.ParseKeyLogLine(line); ok {
			k.mu.Lock()
			k.random = e.ClientRandom
			k.mu.Unlock()
		}
	}
	if k.w == nil { // a policy without a key log logs nothing
		return len(p), nil
	}
	return k.w.Write(p)
}

func (k *configKeyLog) lastRandom() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.random
}

// observe gives the config, when the policy has an Observer, a key log
// that remembers the client random it logged last, for report. Every line
// still goes to the policy's key log.
func (v *verifier) observe(cfg *tls.Config) {
	if v.p.Observer == nil {
		return
	}
	v.keys = &configKeyLog{w: v.p.KeyLog}
	cfg.KeyLogWriter = v.keys
}

// report tells the policy's Observer, if any, what the config decided
// about the certificates of cs.
func (v *verifier) report(cs tls.ConnectionState, err error) {
	obs := v.p.Observer
	if obs == nil || len(cs.PeerCertificates) == 0 {
		return
	}
	// An MTLS config serves both roles; the accepting end is most likely
	// the one whose own certificate names the handshake's server name.
	r := clientRole
	if v.mtls && v.own != nil && cs.ServerName != "" && v.own.VerifyHostname(cs.ServerName) == nil {
		r = serverRole
	}
	var random []byte
	if v.keys != nil {
		random = v.keys.lastRandom()
	}
	obs.CertificateChecked(CertificateCheck{
		At: v.p.now(), ByServer: r == serverRole, ServerName: cs.ServerName, Chain: cs.PeerCertificates, Err: err, ClientRandom: random,
	})
}

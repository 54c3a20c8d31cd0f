package attacker

import (
	"errors"
	"fmt"
	"net/netip"
)

// ConfigError reports an attacker configuration that cannot work: which
// field and what would be right.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "attacker: " + e.Field + ": " + e.Problem }

// UnresolvedError reports that the attacker never learnt the MAC of some
// addresses it must spoof or reach: its ARP requests went unanswered (a
// host that is down, a link that drops everything) until ctx ended. The
// attacker never got on the path.
type UnresolvedError struct {
	Addrs []netip.Addr // still unresolved
	Err   error        // why the wait ended: ctx's cause
}

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("attacker: resolving %v by ARP: %v", e.Addrs, e.Err)
}

func (e *UnresolvedError) Unwrap() error { return e.Err }

// Reasons a captured TLS session cannot be decrypted with a stolen server
// key. They are the causes inside a *DecryptError; test them with errors.Is.
var (
	// ErrEphemeralKeyExchange: the session agreed its premaster secret with
	// ECDHE (or DHE); the server's certificate key only signed it.
	ErrEphemeralKeyExchange = errors.New("session used ECDHE key exchange: the server key cannot recover the premaster secret")
	// ErrTLS13: every TLS 1.3 key exchange is ephemeral.
	ErrTLS13 = errors.New("session used TLS 1.3, whose key exchange is always ephemeral: the server key cannot recover the traffic secrets")
	// ErrResumed: an abbreviated handshake reuses a master secret agreed
	// on an earlier connection, which was not captured.
	ErrResumed = errors.New("session was resumed: its master secret was agreed on an earlier connection")
	// ErrNotRSAKey: the stolen key is not an RSA key, so it never
	// decrypted a premaster secret.
	ErrNotRSAKey = errors.New("the server key is not an RSA key: it signs handshakes, it never decrypts a premaster secret")
	// ErrWrongKey: the premaster secret does not decrypt with the key, or
	// the records do not authenticate with the keys derived from it.
	ErrWrongKey = errors.New("the captured session does not decrypt with this key: it is not the server's key")
	// ErrIncomplete: the capture lacks the handshake messages decryption
	// needs (the tap came up late, or the handshake never finished).
	ErrIncomplete = errors.New("the capture does not hold the whole handshake")
)

// DecryptError reports why one captured TLS connection could not be
// decrypted. Err is one of the sentinel reasons above, possibly wrapped
// with detail, or a parse error.
type DecryptError struct {
	Client, Server netip.AddrPort
	Err            error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("attacker: decrypting %s -> %s: %v", e.Client, e.Server, e.Err)
}

func (e *DecryptError) Unwrap() error { return e.Err }

// ErrNoSession is returned by Proxy.Inject when the session named does not
// exist, has no upstream connection, or has ended.
var ErrNoSession = errors.New("attacker: no live upstream session to inject into")

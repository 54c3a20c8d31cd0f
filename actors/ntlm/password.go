package ntlm

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"unicode/utf16"
)

// passwordAlphabet has no look-alike characters, so a password read off a
// report cannot be mistyped.
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// passwordLength gives 20*log2(57) ≈ 116 bits: a password no candidate list
// holds by chance, so finding it is evidence, never luck.
const passwordLength = 20

// Redacted is what a Password prints as, whatever the verb.
const Redacted = "[redacted]"

// Password is a user's lab password: a secret planted per run that acts as
// a credential canary. It never prints itself: String, GoString, Format,
// LogValue and MarshalText all give Redacted, and a Password held in an
// unexported struct field prints as a pointer, so no %v of a config leaks
// it. Reveal is the one way to read it. The zero value is the empty
// password (IsZero true). Copies share the secret; it is immutable.
type Password struct{ s *secret }

type secret struct{ value string }

// NewPassword draws a fresh random password from r (the run's randomness,
// e.g. a reader seeded from the World's seed). It reads until it has
// enough unbiased characters; an error from r is returned wrapped.
func NewPassword(r io.Reader) (Password, error) {
	// Rejection sampling: bytes >= 228 (4*57) would bias the alphabet.
	const limit = 4 * len(passwordAlphabet)
	out := make([]byte, 0, passwordLength)
	buf := make([]byte, passwordLength)
	for len(out) < passwordLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return Password{}, fmt.Errorf("ntlm: drawing a password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < passwordLength {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return PasswordOf(string(out)), nil
}

// PasswordOf wraps a known password, e.g. a test vector's or a password a
// scenario file names.
func PasswordOf(s string) Password { return Password{&secret{s}} }

// Reveal returns the cleartext. Call it only where the secret is used
// (hashing, comparing), never to print.
func (p Password) Reveal() string {
	if p.s == nil {
		return ""
	}
	return p.s.value
}

// IsZero reports whether p is the empty password.
func (p Password) IsZero() bool { return p.Reveal() == "" }

// Equal reports whether p and q hold the same secret.
func (p Password) Equal(q Password) bool { return p.Reveal() == q.Reveal() }

// String returns Redacted.
func (p Password) String() string { return Redacted }

// GoString returns Redacted, for %#v.
func (p Password) GoString() string { return Redacted }

// Format prints Redacted for every verb, so %x or %q cannot leak it either.
func (p Password) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// LogValue keeps the password out of slog records.
func (p Password) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText keeps the password out of JSON and YAML reports.
func (p Password) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Credential is one user's lab account: the names a client sends and the
// server's directory holds, and the password. Domain is the NetBIOS or DNS
// domain name the user logs on to (e.g. "CONTOSO"); empty for a local
// account.
type Credential struct {
	User     string
	Domain   string
	Password Password
}

// String names the account (DOMAIN\user), never the password.
func (c Credential) String() string { return c.logonName() }

// logonName is the down-level logon name go-ntlmssp splits into the
// AUTHENTICATE message's DomainName and UserName.
func (c Credential) logonName() string {
	if c.Domain == "" {
		return c.User
	}
	return c.Domain + `\` + c.User
}

// Cleartext says how a password appeared in captured bytes.
type Cleartext string

// The encodings FindCleartext looks for.
const (
	// CleartextUTF8 is the password as typed: a form post, a SIP body.
	CleartextUTF8 Cleartext = "utf-8"
	// CleartextUTF16 is the password in UTF-16LE, as Windows protocols carry
	// strings (NTLMSSP, SMB, LDAP simple bind from Windows clients).
	CleartextUTF16 Cleartext = "utf-16le"
	// CleartextBasic is an HTTP Basic credential (base64 of user:password).
	CleartextBasic Cleartext = "http-basic"
)

// FindCleartext is the eavesdropper's check: does data (bytes an attacker
// captured or decrypted) hold c's password in clear? It looks for the
// password in UTF-8 and UTF-16LE and for an HTTP Basic credential for c
// (user:password and DOMAIN\user:password, base64). It returns how it was
// found, or "" and false. The empty password is never found.
func (c Credential) FindCleartext(data []byte) (Cleartext, bool) {
	pw := c.Password.Reveal()
	if pw == "" {
		return "", false
	}
	if bytes.Contains(data, []byte(pw)) {
		return CleartextUTF8, true
	}
	if bytes.Contains(data, utf16le(pw)) {
		return CleartextUTF16, true
	}
	for _, name := range []string{c.User, c.logonName()} {
		token := base64.StdEncoding.EncodeToString([]byte(name + ":" + pw))
		if bytes.Contains(data, []byte(token)) {
			return CleartextBasic, true
		}
	}
	return "", false
}

// utf16le encodes s as NTLMSSP strings are: UTF-16, little-endian.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return b
}

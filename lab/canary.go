package lab

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
)

// Canary is a unique, unguessable secret a scenario plants in a victim's
// application traffic (an IM body, a password). If the attacker's captured or
// decrypted bytes contain Token, confidentiality was broken.
type Canary struct {
	Owner string // whose secret it is, e.g. "alice"
	Token string // "CANARY-" followed by 16 lowercase hex digits
}

// String returns the token, so a canary can be formatted straight into a
// message body with %s.
func (c Canary) String() string { return c.Token }

const canaryPrefix = "CANARY-"

// newCanaryToken reads 8 bytes from r and returns "CANARY-<16 hex>".
func newCanaryToken(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("lab: canary randomness: %w", err)
	}
	return canaryPrefix + hex.EncodeToString(b[:]), nil
}

// FindCanaries returns the canaries whose token occurs in data, in the order
// given. It is what an eavesdropper scenario calls on the bytes the attacker
// captured before reporting with [Evidence.CanariesObtained].
func FindCanaries(data []byte, canaries []Canary) []Canary {
	var found []Canary
	for _, c := range canaries {
		if c.Token != "" && bytes.Contains(data, []byte(c.Token)) {
			found = append(found, c)
		}
	}
	return found
}

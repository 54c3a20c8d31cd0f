package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/md4" //nolint:staticcheck // MD4 is what NTOWFv1 is.
)

// This file is the NTLMv2 check of MS-NLMP 3.3.2, written here because
// go-ntlmssp computes responses but exports no verification. Its tests pin
// it to the MS-NLMP 4.2.4 test vectors and to go-ntlmssp's own output.

// ntowfv1 is MD4(UNICODE(password)), the NT hash (MS-NLMP 3.3.1).
func ntowfv1(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

// ntowfv2 is HMAC_MD5(NT hash, UNICODE(Uppercase(user) + domain))
// (MS-NLMP 3.3.2). user and domain are the AUTHENTICATE message's names,
// exactly as sent: the domain's case matters, the user's does not.
func ntowfv2(password, user, domain string) []byte {
	return hmacMD5(ntowfv1(password), utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// Captured is one NTLMv2 response as an attacker holding the exchange has
// it: the server challenge it saw (or chose, as a rogue server) and the
// AUTHENTICATE message that answered it. It is everything needed to test a
// password offline; it holds no password.
type Captured struct {
	User, Domain, Workstation string
	ServerChallenge           [8]byte
	// NTProofStr is the first 16 bytes of the NTLMv2 response: the HMAC
	// that proves knowledge of the password.
	NTProofStr []byte
	// Blob is the rest of the NTLMv2 response (the client's NTLMv2_CLIENT_
	// CHALLENGE: timestamp, client challenge, target info).
	Blob []byte
}

// minNTLMv2Response is NTProofStr (16) plus the fixed part of the blob (28).
const minNTLMv2Response = 16 + 28

// NotNTLMv2Error says a response is not NTLMv2 (e.g. a 24-byte NTLMv1 or
// anonymous response), which this package neither accepts nor captures.
type NotNTLMv2Error struct{ Len int }

func (e *NotNTLMv2Error) Error() string {
	return fmt.Sprintf("ntlm: NT response of %d bytes is not NTLMv2 (needs at least %d)", e.Len, minNTLMv2Response)
}

// Capture turns an AUTHENTICATE message answering serverChallenge into a
// Captured. It fails with *MalformedError for a message that does not
// parse and *NotNTLMv2Error for a response that is not NTLMv2.
func Capture(authenticate []byte, serverChallenge [8]byte) (Captured, error) {
	a, err := ParseAuthenticate(authenticate)
	if err != nil {
		return Captured{}, err
	}
	return capturedFrom(a, serverChallenge)
}

func capturedFrom(a Authenticate, serverChallenge [8]byte) (Captured, error) {
	if len(a.NTResponse) < minNTLMv2Response {
		return Captured{}, &NotNTLMv2Error{Len: len(a.NTResponse)}
	}
	return Captured{
		User: a.User, Domain: a.Domain, Workstation: a.Workstation,
		ServerChallenge: serverChallenge,
		NTProofStr:      a.NTResponse[:16],
		Blob:            a.NTResponse[16:],
	}, nil
}

// Verify reports whether c was computed with password: the NTProofStr
// recomputed from the password, c's names, server challenge and blob
// equals the one captured (MS-NLMP 3.3.2). This is both the server's
// check and the lab's proof that an attacker obtained a credential: a true
// Verify with the user's planted password means the capture is usable for
// offline cracking or relay. It does not check the blob's timestamp.
func Verify(c Captured, password Password) bool { return verify(c, password.Reveal()) }

func verify(c Captured, password string) bool {
	if len(c.NTProofStr) != 16 {
		return false
	}
	want := hmacMD5(ntowfv2(password, c.User, c.Domain), c.ServerChallenge[:], c.Blob)
	return hmac.Equal(want, c.NTProofStr)
}

// Crack tries candidates in order and returns the first that verifies, as
// an attacker with a wordlist would. The lab's planted passwords are
// random, so Crack is for showing weak passwords falling, not for deciding
// whether a credential was obtained: that is Verify with the real one.
func Crack(c Captured, candidates []string) (string, bool) {
	for _, p := range candidates {
		if verify(c, p) {
			return p, true
		}
	}
	return "", false
}

// Hashcat formats c as a NetNTLMv2 line (hashcat mode 5600, John's
// netntlmv2): USER::DOMAIN:serverchallenge:ntproofstr:blob.
func (c Captured) Hashcat() string {
	return fmt.Sprintf("%s::%s:%s:%s:%s", c.User, c.Domain,
		hex.EncodeToString(c.ServerChallenge[:]), hex.EncodeToString(c.NTProofStr), hex.EncodeToString(c.Blob))
}

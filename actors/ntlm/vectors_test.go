package ntlm

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// MS-NLMP 4.2.4 (NTLMv2 authentication) test vectors: user "User" in
// "Domain" with password "Password", server "Server", time zero.
var (
	vecServerChallenge = [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	vecClientChallenge = unhex("aaaaaaaaaaaaaaaa")
	// 4.2.4.1.3: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL.
	vecAVPairs = unhex("02000c0044006f006d00610069006e00" + "01000c00530065007200760065007200" + "00000000")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// vecBlob is temp of MS-NLMP 3.3.2 for the vectors: Responserversion,
// HiResponserversion, Z(6), Time, ClientChallenge, Z(4), ServerName, Z(4).
func vecBlob() []byte {
	var b bytes.Buffer
	b.Write(unhex("0101000000000000"))
	b.Write(make([]byte, 8)) // Time: zero
	b.Write(vecClientChallenge)
	b.Write(make([]byte, 4))
	b.Write(vecAVPairs)
	b.Write(make([]byte, 4))
	return b.Bytes()
}

func TestMSNLMPVectors(t *testing.T) {
	if got, want := hex.EncodeToString(ntowfv1("Password")), "a4f49c406510bdcab6824ee7c30fd852"; got != want {
		t.Errorf("NTOWFv1 (4.2.2.1.2) = %s, want %s", got, want)
	}
	v2 := ntowfv2("Password", "User", "Domain")
	if got, want := hex.EncodeToString(v2), "0c868a403bfd7a93a3001ef22ef02e3f"; got != want {
		t.Errorf("NTOWFv2 (4.2.4.1.1) = %s, want %s", got, want)
	}
	lm := hmacMD5(v2, vecServerChallenge[:], vecClientChallenge)
	if got, want := hex.EncodeToString(lm), "86c35097ac9cec102554764a57cccc19"; got != want {
		t.Errorf("LMv2 response (4.2.4.2.1) = %s, want %s", got, want)
	}
	proof := hmacMD5(v2, vecServerChallenge[:], vecBlob())
	if got, want := hex.EncodeToString(proof), "68cd0ab851e51c96aabc927bebef6a1c"; got != want {
		t.Errorf("NTProofStr (4.2.4.2.2) = %s, want %s", got, want)
	}

	c := Captured{User: "User", Domain: "Domain", ServerChallenge: vecServerChallenge,
		NTProofStr: unhex("68cd0ab851e51c96aabc927bebef6a1c"), Blob: vecBlob()}
	for _, tc := range []struct {
		name string
		c    func(Captured) Captured
		pw   string
		want bool
	}{
		{"the vector verifies", func(c Captured) Captured { return c }, "Password", true},
		{"user name case does not matter", func(c Captured) Captured { c.User = "USER"; return c }, "Password", true},
		{"wrong password", func(c Captured) Captured { return c }, "password", false},
		{"domain case matters", func(c Captured) Captured { c.Domain = "DOMAIN"; return c }, "Password", false},
		{"other server challenge", func(c Captured) Captured { c.ServerChallenge[0] ^= 1; return c }, "Password", false},
		{"tampered blob", func(c Captured) Captured { c.Blob = bytes.Clone(c.Blob); c.Blob[20] ^= 1; return c }, "Password", false},
		{"short proof", func(c Captured) Captured { c.NTProofStr = c.NTProofStr[:15]; return c }, "Password", false},
	} {
		if got := Verify(tc.c(c), PasswordOf(tc.pw)); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got, ok := Crack(c, []string{"123456", "password", "Password", "letmein"}); !ok || got != "Password" {
		t.Errorf("Crack = %q, %v; want \"Password\", true", got, ok)
	}
	if _, ok := Crack(c, []string{"123456", "password"}); ok {
		t.Error("Crack found a password the list does not hold")
	}
	want := "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:" + hex.EncodeToString(vecBlob())
	if got := c.Hashcat(); got != want {
		t.Errorf("Hashcat =\n%s\nwant\n%s", got, want)
	}
}

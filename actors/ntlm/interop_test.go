package ntlm

import (
	"errors"
	"testing"
	"time"

	"github.com/Azure/go-ntlmssp"
)

var contosoTarget = Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "FE01",
	DNSDomain: "contoso.com", DNSComputer: "fe01.contoso.com"}

// TestLibraryResponseVerifies has go-ntlmssp answer this package's
// CHALLENGE and checks that the AUTHENTICATE parses to the names sent and
// verifies with the password used, and with no other.
func TestLibraryResponseVerifies(t *testing.T) {
	sc := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	challenge := buildChallenge(sc, contosoTarget, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		logon              string
		wantUser, wantDom  string
		password, otherPwd string
	}{
		{`CONTOSO\alice`, "alice", "CONTOSO", "Summer2026!", "summer2026!"},
		{"alice@contoso.com", "alice@contoso.com", "", "hunter2", "hunter3"},
		{"bob", "bob", "", "pässwörd", "passwörd"},
	} {
		msg, err := ntlmssp.NewAuthenticateMessage(challenge, tc.logon, tc.password,
			&ntlmssp.AuthenticateMessageOptions{WorkstationName: "ALICE-PC"})
		if err != nil {
			t.Fatalf("%s: go-ntlmssp: %v", tc.logon, err)
		}
		seen, err := ServerChallenge(challenge)
		if err != nil || seen != sc {
			t.Fatalf("ServerChallenge = %x, %v; want %x", seen, err, sc)
		}
		c, err := Capture(msg, seen)
		if err != nil {
			t.Fatalf("%s: Capture: %v", tc.logon, err)
		}
		if c.User != tc.wantUser || c.Domain != tc.wantDom || c.Workstation != "ALICE-PC" {
			t.Errorf("%s: captured %q %q %q, want %q %q ALICE-PC", tc.logon, c.User, c.Domain, c.Workstation, tc.wantUser, tc.wantDom)
		}
		if !Verify(c, PasswordOf(tc.password)) {
			t.Errorf("%s: response does not verify with the password used", tc.logon)
		}
		if Verify(c, PasswordOf(tc.otherPwd)) {
			t.Errorf("%s: response verifies with %q too", tc.logon, tc.otherPwd)
		}
	}
}

func TestParseAuthenticateRejects(t *testing.T) {
	sc := [8]byte{}
	good, err := ntlmssp.NewAuthenticateMessage(buildChallenge(sc, contosoTarget, time.Unix(0, 0)), `CONTOSO\alice`, "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	negotiate, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		t.Fatal(err)
	}
	overflow := append([]byte(nil), good...)
	overflow[20+4] = 0xff // NtChallengeResponse offset far past the end
	v1 := append([]byte(nil), good...)
	v1[20], v1[21] = 24, 0 // an NTLMv1-sized NT response
	if _, err := ServerChallenge(good); !errors.As(err, new(*MalformedError)) {
		t.Errorf("ServerChallenge of an AUTHENTICATE: err = %v, want *MalformedError", err)
	}
	for _, tc := range []struct {
		name    string
		msg     []byte
		wantErr any
	}{
		{"empty", nil, new(*MalformedError)},
		{"no signature", []byte("NTLMSSQ\x00\x03\x00\x00\x00"), new(*MalformedError)},
		{"a NEGOTIATE", negotiate, new(*MalformedError)},
		{"truncated header", good[:40], new(*MalformedError)},
		{"field out of bounds", overflow, new(*MalformedError)},
		{"NTLMv1 response", v1, new(*NotNTLMv2Error)},
	} {
		_, err := Capture(tc.msg, sc)
		if err == nil || !errors.As(err, tc.wantErr) {
			t.Errorf("%s: Capture error = %v, want %T", tc.name, err, tc.wantErr)
		}
	}
}

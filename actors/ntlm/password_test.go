package ntlm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// seeded is a run's randomness: the same seed draws the same passwords.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func TestNewPasswordIsRandomPerRun(t *testing.T) {
	a1, err := ntlm.NewPassword(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := ntlm.NewPassword(seeded(1))
	b, _ := ntlm.NewPassword(seeded(2))
	if !a1.Equal(a2) {
		t.Error("the same seed drew different passwords")
	}
	if a1.Equal(b) {
		t.Error("different seeds drew the same password")
	}
	if n := len(a1.Reveal()); n != 20 {
		t.Errorf("password has %d characters, want 20", n)
	}
	if _, err := ntlm.NewPassword(bytes.NewReader([]byte{1, 2, 3})); err == nil || !strings.HasPrefix(err.Error(), "ntlm: drawing a password: ") {
		t.Errorf("short reader: err = %v, want a wrapped read error", err)
	}
}

func TestPasswordNeverPrints(t *testing.T) {
	pw := ntlm.PasswordOf("Canary-Secret-42")
	cred := ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: pw}
	type hidden struct{ pw ntlm.Password } // unexported: fmt cannot call its methods
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("login", "password", pw, "cred", cred)
	js, err := json.Marshal(cred)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", pw), "%s": fmt.Sprintf("%s", pw), "%q": fmt.Sprintf("%q", pw),
		"%x": fmt.Sprintf("%x", pw), "%#v": fmt.Sprintf("%#v", pw), "%+v cred": fmt.Sprintf("%+v", cred),
		"%#v cred": fmt.Sprintf("%#v", cred), "%+v hidden": fmt.Sprintf("%+v", hidden{pw}),
		"slog": logged.String(), "json": string(js), "String cred": cred.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, "Canary") || strings.Contains(out, fmt.Sprintf("%x", "Canary")) {
			t.Errorf("%s prints the password: %s", how, out)
		}
	}
	if got := fmt.Sprint(pw); got != ntlm.Redacted {
		t.Errorf("Sprint = %q, want %q", got, ntlm.Redacted)
	}
	if got := cred.String(); got != `CONTOSO\alice` {
		t.Errorf("Credential.String = %q, want CONTOSO\\alice", got)
	}
}

func TestFindCleartext(t *testing.T) {
	cred := ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("Canary-Secret-42")}
	utf16 := []byte{}
	for _, r := range "Canary-Secret-42" {
		utf16 = append(utf16, byte(r), 0)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want ntlm.Cleartext
	}{
		{"form post", []byte("user=alice&password=Canary-Secret-42"), ntlm.CleartextUTF8},
		{"UTF-16LE", append([]byte{0xff, 0}, utf16...), ntlm.CleartextUTF16},
		{"HTTP Basic", []byte("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:Canary-Secret-42"))), ntlm.CleartextBasic},
		{"HTTP Basic with domain", []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(`CONTOSO\alice:Canary-Secret-42`))), ntlm.CleartextBasic},
		{"other password", []byte("password=Canary-Secret-43"), ""},
		{"nothing", nil, ""},
	} {
		got, ok := cred.FindCleartext(tc.data)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: FindCleartext = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := (ntlm.Credential{User: "alice"}).FindCleartext([]byte("anything")); ok {
		t.Error("the empty password was found")
	}
}

package ntlm_test

import (
	"fmt"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// A planted password prints redacted, and an eavesdropper finds it in
// bytes only where it travelled in clear.
func Example_canary() {
	pw, err := ntlm.NewPassword(seeded(42))
	if err != nil {
		panic(err)
	}
	alice := ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: pw}
	fmt.Println(alice, pw)
	fmt.Printf("%+v\n", struct {
		User     string
		Password ntlm.Password
	}{alice.User, pw})

	form := []byte("POST /login\r\n\r\nuser=alice&password=" + pw.Reveal())
	how, found := alice.FindCleartext(form)
	fmt.Println(how, found)
	_, found = alice.FindCleartext([]byte("POST /login\r\n\r\nuser=alice&password=guess"))
	fmt.Println(found)
	// Output:
	// CONTOSO\alice [redacted]
	// {User:alice Password:[redacted]}
	// utf-8 true
	// false
}

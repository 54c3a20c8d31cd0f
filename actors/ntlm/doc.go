// Package ntlm authenticates the lab's HTTP services (and, later, SIP)
// with NTLM, and gives attackers and eavesdroppers the means to prove
// that they obtained a user's credential.
//
// Windows clients answer an NTLM demand from any server or proxy that
// makes one: the server sends a random 8-byte challenge, the client
// answers with an HMAC keyed by a hash of the user's password (NTLMv2,
// MS-NLMP 3.3.2). Whoever receives that answer, a rogue server or a WPAD
// proxy, can test passwords against it offline. In the lab, every user's
// password is a canary drawn fresh per run: an attacker's capture that
// verifies with it is evidence that the credential was obtained.
//
// # Passwords and credentials
//
// A Password never prints itself (String, Format, slog and JSON give
// Redacted); Reveal reads it. Draw one from the run's randomness:
//
//	pw, err := ntlm.NewPassword(runRand)
//	alice := ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: pw}
//
// An eavesdropper checks captured or decrypted bytes for the password in
// clear (UTF-8, UTF-16LE, HTTP Basic) with Credential.FindCleartext.
//
// # Client
//
// Transport is an http.RoundTripper that answers 401 (WWW-Authenticate)
// and 407 (Proxy-Authenticate) demands for NTLM, or for Negotiate answered
// with raw NTLMSSP, with the Credential. github.com/Azure/go-ntlmssp
// builds the NEGOTIATE and AUTHENTICATE messages. NTLM authenticates a
// connection, so Base must reuse kept-alive connections (an
// *http.Transport does). Allow is the client's policy hook: refusing an
// offer sends nothing and returns a *RefusedError.
//
//	client := &http.Client{Transport: &ntlm.Transport{
//		Base:       &http.Transport{DialContext: aliceDial, Proxy: wpadProxy},
//		Credential: alice,
//	}}
//
// HTTPS (or SIP over TLS) through a proxy goes through a CONNECT tunnel,
// whose 407 net/http cannot answer with NTLM; TunnelDialer opens the
// tunnel and answers the proxy on the tunnel's own connection. Use its
// DialContext as the dialer under http.Transport or crypto/tls.
//
// # Server
//
// Server.Wrap puts NTLM in front of an http.Handler: it challenges with
// a server challenge read from ServerConfig.Rand and a timestamp from
// ServerConfig.Now (the World's clock), verifies each AUTHENTICATE against
// ServerConfig.Users, and passes verified requests on with their Identity
// (IdentityFrom). With Proxy set it speaks 407 and Proxy-Authenticate.
// Every outcome goes to OnResult with a typed reason (ErrWrongPassword,
// ErrUnknownUser, ErrNoChallenge, *MalformedError, *NotNTLMv2Error).
//
// # Without HTTP
//
// Protocols that carry NTLMSSP their own way (SIP, MS-SIPAE) use the
// messages directly: NegotiateMessage and Credential.AnswerChallenge on
// the client, Server.Challenge and Server.Authenticate on the server, the
// caller keeping the server challenge between the two. Authenticate
// reports to OnCapture and OnResult as Wrap does.
//
// # The attacker's view
//
// A Server with no Users is capture-only: it hands every AUTHENTICATE to
// OnCapture as a Captured and lets the request through, as a rogue server
// or proxy does. From bytes seen elsewhere, Capture builds the same from
// an AUTHENTICATE message and the server challenge that preceded it.
//
//	obtained := ntlm.Verify(captured, alice.Password) // the canary check
//	word, ok := ntlm.Crack(captured, wordlist)        // what an attacker would do
//	line := captured.Hashcat()                        // NetNTLMv2, hashcat mode 5600
//
// Verify is the evidence: the captured NTProofStr recomputed from the
// user's planted password. Crack only shows weak passwords falling; a
// random canary is not in any list.
//
// # What is hand-written
//
// go-ntlmssp exports the client's messages but no server side, so this
// package holds the CHALLENGE builder and AUTHENTICATE parser (wire.go)
// and the NTLMv2 verification (verify.go), pinned by tests to the MS-NLMP
// 4.2.4 test vectors and to go-ntlmssp's own responses. Not supported:
// NTLMv1 and LM responses (refused as *NotNTLMv2Error), session keys,
// signing and sealing, MIC and channel bindings, timestamp skew checks.
package ntlm

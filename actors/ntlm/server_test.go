package ntlm_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// TestServerRefusesOutOfOrder sends hand-made Authorization headers over
// netsim: each is refused with 401 and the challenge offer again, and the
// server reports why.
func TestServerRefusesOutOfOrder(t *testing.T) {
	// An AUTHENTICATE with no CHALLENGE before it on the connection: the
	// header and fields are well formed, the responses empty.
	authenticate := make([]byte, 64)
	copy(authenticate, "NTLMSSP\x00\x03")
	authenticate[60] = 1 // Unicode
	for _, tc := range []struct {
		name    string
		header  string
		wantErr any
	}{
		{"AUTHENTICATE without CHALLENGE", "NTLM " + base64.StdEncoding.EncodeToString(authenticate), &ntlm.ErrNoChallenge},
		{"not base64", "NTLM !!!", new(*ntlm.MalformedError)},
		{"not NTLMSSP", "NTLM " + base64.StdEncoding.EncodeToString([]byte("hello, world")), new(*ntlm.MalformedError)},
		{"a CHALLENGE from the client", "Negotiate " + base64.StdEncoding.EncodeToString([]byte("NTLMSSP\x00\x02\x00\x00\x00")), new(*ntlm.MalformedError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN(t)
			res := newResults()
			auth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Rand: seeded(7), Now: l.w.Now, OnResult: res.onResult})
			serve(t, l.web, auth.Wrap(whoami), auth)
			tr := &http.Transport{DialContext: l.dialer(l.alice)}
			t.Cleanup(tr.CloseIdleConnections)
			req, err := http.NewRequestWithContext(t.Context(), "GET", "http://fe01.contoso.com/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", tc.header)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(got) != 2 || got[0] != "NTLM" || got[1] != "Negotiate" {
				t.Errorf("got %d %q, want 401 offering NTLM and Negotiate", resp.StatusCode, got)
			}
			got := res.all()
			if len(got) != 1 {
				t.Fatalf("results %+v, want one", got)
			}
			if sentinel, ok := tc.wantErr.(*error); ok {
				if !errors.Is(got[0].Err, *sentinel) {
					t.Errorf("result error %v, want %v", got[0].Err, *sentinel)
				}
			} else if !errors.As(got[0].Err, tc.wantErr) {
				t.Errorf("result error %v, want %T", got[0].Err, tc.wantErr)
			}
		})
	}
	if _, err := ntlm.NewServer(ntlm.ServerConfig{Schemes: []ntlm.Scheme{"Basic"}}); err == nil || err.Error() != `ntlm: scheme "Basic": want "NTLM" or "Negotiate"` {
		t.Errorf("NewServer with Basic: err = %v", err)
	}
}

// TestExchangeWithoutHTTP drives the three messages by hand, as SIP will:
// the server's CHALLENGE answered by each credential is judged with the
// server challenge the caller kept.
func TestExchangeWithoutHTTP(t *testing.T) {
	res := newResults()
	s := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Rand: seeded(5), Target: fe01,
		OnResult: res.onResult, OnCapture: res.onCapture})
	if _, err := ntlm.NegotiateMessage(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cred    ntlm.Credential
		wantErr error
	}{
		{alice, nil},
		{ntlm.Credential{User: "ALICE", Domain: "CONTOSO", Password: alicePassword}, nil},
		{ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("guess")}, ntlm.ErrWrongPassword},
		{ntlm.Credential{User: "alice", Domain: "FABRIKAM", Password: alicePassword}, ntlm.ErrUnknownUser},
	} {
		challenge, sc, err := s.Challenge()
		if err != nil {
			t.Fatal(err)
		}
		auth, err := tc.cred.AnswerChallenge(challenge, "ALICE-PC")
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.Authenticate(auth, sc)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v, want %v", tc.cred, err, tc.wantErr)
		}
		if err == nil && (id != ntlm.Identity{User: tc.cred.User, Domain: "CONTOSO", Workstation: "ALICE-PC"}) {
			t.Errorf("%s: identity %+v", tc.cred, id)
		}
		if got := res.all(); len(got) != 1 || !errors.Is(got[0].Err, tc.wantErr) {
			t.Errorf("%s: results %+v", tc.cred, got)
		}
		if c := <-res.captured; c.ServerChallenge != sc || !ntlm.Verify(c, tc.cred.Password) {
			t.Errorf("%s: the capture does not verify with the password used", tc.cred)
		}
		if _, err := s.Authenticate(auth, [8]byte{}); tc.wantErr == nil && !errors.Is(err, ntlm.ErrWrongPassword) {
			t.Errorf("%s: replayed against another challenge: err = %v, want ErrWrongPassword", tc.cred, err)
		}
		res.all()
		<-res.captured
	}
}

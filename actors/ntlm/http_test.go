package ntlm_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
)

var (
	alicePassword = ntlm.PasswordOf("Xq7-canary-alice")
	alice         = ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: alicePassword}
	fe01          = ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "FE01", DNSDomain: "contoso.com", DNSComputer: "fe01.contoso.com"}
)

// whoami answers with the identity the middleware put in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := ntlm.IdentityFrom(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, `%s\%s from %s body=%q`, id.Domain, id.User, id.Workstation, body)
})

// get sends method url with body through c and returns status and body.
func get(t *testing.T, c *http.Client, method, url, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), nil
}

func newServer(t *testing.T, cfg ntlm.ServerConfig) *ntlm.Server {
	t.Helper()
	s, err := ntlm.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClientAuthenticatesOverNetsim runs the whole exchange over netsim
// TCP: alice's POST is refused (401), she sends NEGOTIATE, gets a
// CHALLENGE, answers with AUTHENTICATE and her body, and the handler sees
// her identity. A second request on the kept-alive connection passes
// without a new handshake; the wrong password and an unknown user are
// refused with the reason recorded.
func TestClientAuthenticatesOverNetsim(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cred       ntlm.Credential
		schemes    []ntlm.Scheme
		wantStatus int
		wantBody   string
		wantErr    error
	}{
		{"right password, NTLM", alice, nil, 200, `CONTOSO\alice from ALICE-PC body="hello"`, nil},
		{"right password, Negotiate only", alice, []ntlm.Scheme{ntlm.SchemeNegotiate}, 200, `CONTOSO\alice from ALICE-PC body="hello"`, nil},
		{"wrong password", ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("guess")}, nil, 401, "", ntlm.ErrWrongPassword},
		{"unknown user", ntlm.Credential{User: "mallory", Domain: "CONTOSO", Password: alicePassword}, nil, 401, "", ntlm.ErrUnknownUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN(t)
			res := newResults()
			auth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Rand: seeded(7), Now: l.w.Now,
				Target: fe01, Schemes: tc.schemes, OnResult: res.onResult})
			serve(t, l.web, auth.Wrap(whoami), auth)
			var answered []ntlm.Offer
			c := l.client(t, tc.cred, "", func(tr *ntlm.Transport) {
				tr.OnAnswer = func(o ntlm.Offer) { answered = append(answered, o) }
			})
			status, body, err := get(t, c, "POST", "http://fe01.contoso.com/autodiscover", "hello")
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.wantStatus || (tc.wantBody != "" && body != tc.wantBody) {
				t.Fatalf("got %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			wantScheme := ntlm.SchemeNTLM
			if tc.schemes != nil {
				wantScheme = tc.schemes[0]
			}
			if len(answered) != 1 || answered[0].Proxy || answered[0].Scheme != wantScheme {
				t.Errorf("answered %+v, want one origin %s offer", answered, wantScheme)
			}
			got := res.all()
			if len(got) != 1 || got[0].User != tc.cred.User || got[0].Domain != "CONTOSO" || !errors.Is(got[0].Err, tc.wantErr) {
				t.Fatalf("server results %+v, want one for %s with error %v", got, tc.cred.User, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			status, body, err = get(t, c, "GET", "http://fe01.contoso.com/again", "")
			if err != nil || status != 200 || body != `CONTOSO\alice from ALICE-PC body=""` {
				t.Errorf("second request: %d %q %v", status, body, err)
			}
			if n := len(res.all()); n != 0 {
				t.Errorf("second request on the authenticated connection made %d more handshakes", n)
			}
		})
	}
}

// TestRogueServerCapturesAndVerifies is the attacker's view: a rogue
// server with no directory challenges alice, captures her AUTHENTICATE and
// proves the credential obtained by verifying it with her planted
// password. A wordlist cracks a weak password and misses the canary.
func TestRogueServerCapturesAndVerifies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		password  ntlm.Password
		wordlist  []string
		wantCrack bool
	}{
		{"random canary", alicePassword, []string{"Password1", "Summer2026!", "contoso"}, false},
		{"weak password", ntlm.PasswordOf("Summer2026!"), []string{"Password1", "Summer2026!", "contoso"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN(t)
			res := newResults()
			rogue := newServer(t, ntlm.ServerConfig{Rand: seeded(66), Now: l.w.Now,
				Target: ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "FE01"}, OnCapture: res.onCapture})
			serve(t, l.web, rogue.Wrap(whoami), rogue)
			victim := ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: tc.password}
			status, _, err := get(t, l.client(t, victim, "", nil), "GET", "http://fe01.contoso.com/", "")
			if err != nil || status != 200 {
				t.Fatalf("the rogue server let alice in? %d %v", status, err)
			}
			var c ntlm.Captured
			select {
			case c = <-res.captured:
			default:
				t.Fatal("nothing captured")
			}
			if c.User != "alice" || c.Domain != "CONTOSO" || c.Workstation != "ALICE-PC" {
				t.Errorf("captured %s\\%s from %s", c.Domain, c.User, c.Workstation)
			}
			if !ntlm.Verify(c, tc.password) {
				t.Error("the captured response does not verify with alice's password: no credential obtained")
			}
			if ntlm.Verify(c, ntlm.PasswordOf("not-her-password")) {
				t.Error("the captured response verifies with another password")
			}
			got, ok := ntlm.Crack(c, tc.wordlist)
			if ok != tc.wantCrack || (ok && got != tc.password.Reveal()) {
				t.Errorf("Crack = %q, %v; want cracked=%v", got, ok, tc.wantCrack)
			}
			if !strings.HasPrefix(c.Hashcat(), "alice::CONTOSO:") {
				t.Errorf("Hashcat line %q", c.Hashcat())
			}
		})
	}
}

// TestAllowRefusesBeforeSending: a client whose policy refuses the offer
// sends no NEGOTIATE or AUTHENTICATE, and says why.
func TestAllowRefusesBeforeSending(t *testing.T) {
	l := newLAN(t)
	res := newResults()
	rogue := newServer(t, ntlm.ServerConfig{Rand: seeded(66), Now: l.w.Now, OnCapture: res.onCapture, OnResult: res.onResult})
	serve(t, l.web, rogue.Wrap(whoami), rogue)
	policy := errors.New("server not authenticated (plain HTTP)")
	c := l.client(t, alice, "", func(tr *ntlm.Transport) {
		tr.Allow = func(o ntlm.Offer) error {
			if o.Request.URL.Scheme == "http" {
				return policy
			}
			return nil
		}
	})
	_, _, err := get(t, c, "GET", "http://fe01.contoso.com/", "")
	var refused *ntlm.RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, policy) || refused.Offer.Proxy || refused.Offer.Scheme != ntlm.SchemeNTLM {
		t.Fatalf("err = %v, want a RefusedError for the origin's NTLM offer wrapping the policy", err)
	}
	if got := res.all(); len(got) != 0 || len(res.captured) != 0 {
		t.Errorf("the server heard from the client: %+v", got)
	}
}

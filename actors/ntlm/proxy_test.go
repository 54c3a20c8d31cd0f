package ntlm_test

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// forwarder is a plain-HTTP forward proxy on host l.proxy: it sends the
// absolute-form request on to the origin over one kept-alive upstream
// connection (so an origin's NTLM handshake survives the hop) and copies
// the answer back.
func (l *lan) forwarder(t *testing.T) http.Handler {
	up := &http.Transport{DialContext: l.dialer(l.proxy), MaxConnsPerHost: 1}
	t.Cleanup(up.CloseIdleConnections)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "proxy: want an absolute URL", http.StatusBadRequest)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := up.RoundTrip(out)
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
}

// TestProxyDemandsNTLM is the WPAD path: alice's requests go through a
// proxy that answers 407 with Proxy-Authenticate: NTLM. She authenticates
// to the proxy, and, where the origin demands NTLM too, to the origin
// through the authenticated proxy connection. A proxy with no directory
// (the attacker's WPAD proxy) captures her response and lets her through.
func TestProxyDemandsNTLM(t *testing.T) {
	for _, tc := range []struct {
		name         string
		proxyUsers   []ntlm.Credential // nil: capture-only proxy
		originAuth   bool
		cred         ntlm.Credential
		wantStatus   int
		wantBody     string
		wantAnswered []bool // Offer.Proxy of each offer answered, in order
		wantProxyErr error
	}{
		{"proxy authenticates alice", []ntlm.Credential{alice}, false, alice, 200, "origin saw no identity", []bool{true}, nil},
		{"proxy then origin", []ntlm.Credential{alice}, true, alice, 200, `CONTOSO\alice from ALICE-PC body=""`, []bool{true, false}, nil},
		{"wrong password at the proxy", []ntlm.Credential{alice}, false,
			ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("guess")}, 407, "", []bool{true}, ntlm.ErrWrongPassword},
		{"rogue WPAD proxy captures", nil, false, alice, 200, "origin saw no identity", []bool{true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN(t)
			proxyRes := newResults()
			proxyAuth := newServer(t, ntlm.ServerConfig{Users: tc.proxyUsers, Proxy: true, Rand: seeded(8), Now: l.w.Now,
				Target:   ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "PROXY"},
				OnResult: proxyRes.onResult, OnCapture: proxyRes.onCapture})
			serve(t, l.proxy, proxyAuth.Wrap(l.forwarder(t)), proxyAuth)
			origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Proxy-Authorization") != "" {
					http.Error(w, "the proxy forwarded its credential", http.StatusInternalServerError)
					return
				}
				if _, ok := ntlm.IdentityFrom(r.Context()); !ok {
					_, _ = io.WriteString(w, "origin saw no identity")
					return
				}
				whoami(w, r)
			})
			originAuth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Rand: seeded(9), Now: l.w.Now, Target: fe01})
			if tc.originAuth {
				serve(t, l.web, originAuth.Wrap(origin), originAuth)
			} else {
				serve(t, l.web, origin, nil)
			}
			var answered []bool
			c := l.client(t, tc.cred, "http://proxy.contoso.com:80", func(tr *ntlm.Transport) {
				tr.OnAnswer = func(o ntlm.Offer) { answered = append(answered, o.Proxy) }
			})
			status, body, err := get(t, c, "GET", "http://fe01.contoso.com/lyncdiscover", "")
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.wantStatus || (tc.wantBody != "" && body != tc.wantBody) {
				t.Fatalf("got %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if len(answered) != len(tc.wantAnswered) || (len(answered) > 0 && answered[0] != tc.wantAnswered[0]) ||
				(len(answered) > 1 && answered[1] != tc.wantAnswered[1]) {
				t.Errorf("answered offers (proxy?) %v, want %v", answered, tc.wantAnswered)
			}
			got := proxyRes.all()
			if len(got) != 1 || got[0].User != "alice" || !errors.Is(got[0].Err, tc.wantProxyErr) {
				t.Fatalf("proxy results %+v, want one for alice with error %v", got, tc.wantProxyErr)
			}
			if tc.proxyUsers == nil {
				select {
				case c := <-proxyRes.captured:
					if !ntlm.Verify(c, alicePassword) {
						t.Error("the rogue proxy's capture does not verify with alice's password")
					}
				default:
					t.Error("the rogue proxy captured nothing")
				}
			}
		})
	}
}

package sip_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
)

// The directory fe01 verifies against, and the passwords planted in it.
var (
	alicePassword = ntlm.PasswordOf("alice-canary-7Qx2")
	aliceAccount  = ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: alicePassword}
	daveAccount   = ntlm.Credential{User: "dave", Domain: "CONTOSO", Password: ntlm.PasswordOf("dave-canary-9Kp4")}
	fe01Target    = ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "FE01", DNSDomain: "contoso.com", DNSComputer: "fe01.contoso.com"}
)

// ntlmLog is what fe01's NTLM server saw: every CHALLENGE it built and
// every AUTHENTICATE's outcome.
type ntlmLog struct {
	inner      sip.NTLMAuthenticator
	challenges atomic.Int32
	mu         sync.Mutex
	results    []ntlm.Result
}

func (l *ntlmLog) Challenge() ([]byte, [8]byte, error) {
	l.challenges.Add(1)
	return l.inner.Challenge()
}

func (l *ntlmLog) Authenticate(msg []byte, sc [8]byte) (ntlm.Identity, error) {
	return l.inner.Authenticate(msg, sc)
}

func (l *ntlmLog) onResult(r ntlm.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.results = append(l.results, r)
}

func (l *ntlmLog) all() []ntlm.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ntlm.Result(nil), l.results...)
}

// withNTLM makes fe01 demand NTLM against alice's and dave's accounts and
// gives alice's client her credential.
func withNTLM(t *testing.T, tp *topo) *ntlmLog {
	t.Helper()
	log := &ntlmLog{}
	srv, err := ntlm.NewServer(ntlm.ServerConfig{
		Users: []ntlm.Credential{aliceAccount, daveAccount}, Rand: strings.NewReader(strings.Repeat("challenge", 64)),
		Now: tp.now, Target: fe01Target, OnResult: log.onResult,
	})
	if err != nil {
		t.Fatal(err)
	}
	log.inner = srv
	tp.fe01.NTLM = log
	tp.client.Credential = &aliceAccount
	tp.client.Workstation = "ALICE-PC"
	return log
}

// TestNTLMRegister: alice's client answers fe01's NTLM demand with her
// password; fe01 verifies it, registers her, records who authenticated,
// and takes her messages.
func TestNTLMRegister(t *testing.T) {
	tp := newTopo(t)
	log := withNTLM(t, tp)
	d := tp.start(t)
	res, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
	if err != nil || !res.Registered || !res.Sent {
		t.Fatalf("SendMessage: %+v, %v", res, err)
	}
	want := sip.AuthInfo{Scheme: "NTLM", User: "alice", Domain: "CONTOSO", Workstation: "ALICE-PC"}
	regs := d.fe01.Registrations()
	if len(regs) != 1 || regs[0].User != "alice@contoso.com" || regs[0].Peer.Auth == nil || *regs[0].Peer.Auth != want {
		t.Errorf("registrations %+v, want alice authenticated as %+v", regs, want)
	}
	if a := regs[0].Peer.Auth; a != nil && a.Account() != `CONTOSO\alice` {
		t.Errorf("Account() = %q", a.Account())
	}
	dl := oneDelivery(t, "fe01", d.fe01.Deliveries())
	if dl.Peer.Auth == nil || *dl.Peer.Auth != want || dl.Body != canary {
		t.Errorf("delivery %+v, want alice's authenticated message", dl)
	}
	if got := log.all(); len(got) != 1 || got[0] != (ntlm.Result{User: "alice", Domain: "CONTOSO", Workstation: "ALICE-PC"}) {
		t.Errorf("NTLM results %+v, want alice verified once", got)
	}
	if n := log.challenges.Load(); n != 1 {
		t.Errorf("%d CHALLENGEs, want 1", n)
	}
	if rs := d.fe01.Rejections(); len(rs) != 0 {
		t.Errorf("rejections %+v", rs)
	}
}

// TestNTLMRefused: an AUTHENTICATE that does not verify, or an account
// that is not the user registering, is answered 403 with the exact reason
// and recorded; nothing registers or is delivered.
func TestNTLMRefused(t *testing.T) {
	tests := []struct {
		name   string
		cred   ntlm.Credential
		reason string
		cause  error // errors.Is on the Rejection's Err; nil for the account check
	}{{
		name:   "wrong password",
		cred:   ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("Winter2026!")},
		reason: `fe01: NTLM authentication of CONTOSO\alice from ALICE-PC failed: ntlm: NTLMv2 response does not verify (wrong password)`,
		cause:  ntlm.ErrWrongPassword,
	}, {
		name:   "unknown user",
		cred:   ntlm.Credential{User: "mallory", Domain: "CONTOSO", Password: alicePassword},
		reason: `fe01: NTLM authentication of CONTOSO\mallory from ALICE-PC failed: ntlm: no such user`,
		cause:  ntlm.ErrUnknownUser,
	}, {
		name:   "another user's account",
		cred:   daveAccount,
		reason: `fe01: NTLM account CONTOSO\dave may not register alice@contoso.com`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTopo(t)
			withNTLM(t, tp)
			tp.client.Credential = &tt.cred
			d := tp.start(t)
			res, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
			var se *sip.StatusError
			if !errors.As(err, &se) || se.StatusCode != 403 || se.Warning != tt.reason || res.Registered {
				t.Fatalf("SendMessage: %+v, %v; want 403 %q", res, err, tt.reason)
			}
			if want := "sip: alice@contoso.com: REGISTER pool01.contoso.com: 403 Forbidden: " + tt.reason; err.Error() != want {
				t.Errorf("error:\n got %v\nwant %s", err, want)
			}
			rs := d.fe01.Rejections()
			if err := equalReasons(rs, tt.reason); err != nil {
				t.Fatal(err)
			}
			if r := rs[0]; r.Status != 403 || r.Method != "REGISTER" || r.Stage != sip.StageRequest || r.Peer.Listener != "client" {
				t.Errorf("rejection %+v", r)
			}
			var ne *sip.NTLMError
			if tt.cause != nil && (!errors.Is(rs[0].Err, tt.cause) || !errors.As(rs[0].Err, &ne) || ne.User != tt.cred.User) {
				t.Errorf("rejection cause %T %v, want an *NTLMError for %s wrapping %v", rs[0].Err, rs[0].Err, tt.cred.User, tt.cause)
			}
			if len(d.fe01.Registrations()) != 0 || len(d.fe01.Deliveries()) != 0 {
				t.Errorf("fe01 registered %+v, delivered %+v", d.fe01.Registrations(), d.fe01.Deliveries())
			}
		})
	}
}

// TestNTLMAllowRefuses: a client whose policy refuses the demand sends
// neither NEGOTIATE nor AUTHENTICATE, and Register fails with the policy's
// reason, by type.
func TestNTLMAllowRefuses(t *testing.T) {
	tp := newTopo(t)
	log := withNTLM(t, tp)
	errPolicy := errors.New("NTLM is not answered to servers outside the corporate network")
	var offers []sip.NTLMOffer
	tp.client.AllowNTLM = func(o sip.NTLMOffer) error {
		offers = append(offers, o)
		return errPolicy
	}
	d := tp.start(t)
	res, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
	const want = "sip: alice@contoso.com: REGISTER pool01.contoso.com: NTLM demand from pool01.contoso.com " +
		"(10.0.0.11:5061, TLS) refused: NTLM is not answered to servers outside the corporate network"
	if err == nil || err.Error() != want || res.Registered {
		t.Fatalf("SendMessage: %+v, %v\nwant %s", res, err, want)
	}
	var re *sip.NTLMRefusedError
	if !errors.As(err, &re) || !errors.Is(err, errPolicy) {
		t.Fatalf("error %T does not unwrap to *NTLMRefusedError and the policy's error", err)
	}
	o := re.Offer
	if len(offers) != 1 || o.Server != "pool01.contoso.com" || o.Addr.String() != fe01IP+":5061" || o.Transport != sip.TransportTLS ||
		o.TLS == nil || len(o.TLS.VerifiedChains) == 0 || o.TLS.ServerName != "pool01.contoso.com" ||
		o.Realm != sip.NTLMRealm || o.TargetName != "fe01.contoso.com" {
		t.Errorf("offer %+v (asked %d times)", o, len(offers))
	}
	if n := log.challenges.Load(); n != 0 {
		t.Errorf("fe01 sent %d CHALLENGEs: the client sent a NEGOTIATE", n)
	}
	if got := log.all(); len(got) != 0 {
		t.Errorf("fe01 saw AUTHENTICATEs: %+v", got)
	}
}

// TestNTLMNoCredential: a client without a credential cannot register
// with a Front End that demands NTLM, and says so.
func TestNTLMNoCredential(t *testing.T) {
	tp := newTopo(t)
	withNTLM(t, tp)
	tp.client.Credential = nil
	d := tp.start(t)
	_, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
	const want = "sip: alice@contoso.com: REGISTER pool01.contoso.com: " +
		"the server demands NTLM authentication and ClientConfig.Credential is nil: 401 Unauthorized"
	var se *sip.StatusError
	if err == nil || err.Error() != want || !errors.Is(err, sip.ErrNoCredential) || !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("SendMessage: %v\nwant %s", err, want)
	}
}

// TestNTLMMessageBeforeAuthentication: a MESSAGE on a connection that has
// not authenticated is refused and recorded; after Register it passes.
func TestNTLMMessageBeforeAuthentication(t *testing.T) {
	tp := newTopo(t)
	withNTLM(t, tp)
	d := tp.start(t)
	s, err := d.client.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const reason = "fe01: MESSAGE from alice@contoso.com on a connection that has not authenticated"
	err = s.Message(t.Context(), "dave@contoso.com", canary)
	var se *sip.StatusError
	if !errors.As(err, &se) || se.StatusCode != 403 || se.Warning != reason {
		t.Errorf("Message before Register: %v, want 403 %q", err, reason)
	}
	if err := equalReasons(d.fe01.Rejections(), reason); err != nil {
		t.Error(err)
	}
	if err := s.Register(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Message(t.Context(), "dave@contoso.com", canary); err != nil {
		t.Errorf("Message after Register: %v", err)
	}
	oneDelivery(t, "fe01", d.fe01.Deliveries())
}

// TestClientServer: with ClientConfig.Server the client dials the given
// server, no SRV asked, and falls back to its port 5060 only when allowed.
func TestClientServer(t *testing.T) {
	t.Run("TLS", func(t *testing.T) {
		tp := newTopo(t)
		tp.clientDNS.setSRV("_sip._tls.contoso.com", "", 0)
		tp.client.Server = "pool01.contoso.com:5061"
		d := tp.start(t)
		res := send(t, d, "dave@contoso.com")
		if c := res.Conn; c.Target != "pool01.contoso.com" || c.Record != "" || c.Addr.String() != fe01IP+":5061" ||
			c.Transport != sip.TransportTLS || c.TLS == nil || c.TLS.ServerName != "pool01.contoso.com" || len(res.Attempts) != 1 {
			t.Errorf("result %+v, want one TLS connection to pool01", res)
		}
	})
	t.Run("plaintext fallback", func(t *testing.T) {
		tp := newTopo(t)
		tp.fe01.PlainAddr = fe01IP + ":5060"
		tp.client.Server = "pool01.contoso.com:5070"
		tp.client.AllowPlaintextFallback = true
		d := tp.start(t)
		res := send(t, d, "dave@contoso.com")
		if c := res.Conn; c.Transport != sip.TransportTCP || !c.Fallback || c.Addr.String() != fe01IP+":5060" ||
			len(res.Attempts) != 2 || res.Attempts[0].Err == nil || res.Attempts[0].Addr.Port() != 5070 {
			t.Errorf("result %+v, want TLS to 5070 failing, then TCP to 5060", res)
		}
	})
	t.Run("fallback off", func(t *testing.T) {
		tp := newTopo(t)
		tp.fe01.PlainAddr = fe01IP + ":5060"
		tp.client.Server = "pool01.contoso.com:5070"
		d := tp.start(t)
		_, err := d.client.SendMessage(t.Context(), "dave@contoso.com", canary)
		var ce *sip.ConnectError
		if !errors.As(err, &ce) || len(ce.Attempts) != 1 || ce.Hint != sip.HintNoPlaintextFallback ||
			!strings.HasPrefix(err.Error(), "sip: alice@contoso.com: no usable SIP server for contoso.com: TLS pool01.contoso.com 10.0.0.11:5070: ") {
			t.Errorf("SendMessage: %v", err)
		}
	})
	t.Run("not host:port", func(t *testing.T) {
		tp := newTopo(t)
		tp.client.Server = "pool01.contoso.com"
		_, err := sip.NewClient(tp.client)
		const want = `sip: ClientConfig.Server: "pool01.contoso.com" is not host:port; give the server to dial, e.g. pool01.contoso.com:5061`
		if err == nil || err.Error() != want {
			t.Errorf("NewClient: %v\nwant %s", err, want)
		}
	})
}

package attacker_test

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
)

// TestSIPResponderNTLM: mallory, between alice and the pool with a
// certificate alice trusts, plays a registrar that demands NTLM. Alice's
// client answers; mallory's capture-only NTLM server gets an NTLMv2
// response that verifies with alice's planted password (and no other),
// and alice, answered 200, believes she registered and sent her message.
func TestSIPResponderNTLM(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		password := ntlm.PasswordOf("alice-canary-Zr81")
		var (
			mu       sync.Mutex
			captured []ntlm.Captured
		)
		rogue, err := ntlm.NewServer(ntlm.ServerConfig{Now: o.w.Now, Target: ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "FE01"},
			OnCapture: func(c ntlm.Captured) {
				mu.Lock()
				defer mu.Unlock()
				captured = append(captured, c)
			}})
		if err != nil {
			t.Fatal(err)
		}
		o.spoof(t)
		p := o.proxy(t, attacker.ProxyConfig{
			Port: 5061, SIP: true, Victim: attacker.VictimTLS{Certs: attacker.OwnCertificate(o.fe01Cred)},
			Upstream: attacker.SIPResponder{NTLM: rogue},
		})
		var offers []sip.NTLMOffer
		alice := o.client(t, func(c *sip.ClientConfig) {
			c.Credential = &ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: password}
			c.Workstation = "ALICE-PC"
			c.AllowNTLM = func(of sip.NTLMOffer) error { offers = append(offers, of); return nil }
		})
		const canary = "canary-rogue-registrar"
		res, err := alice.SendMessage(t.Context(), "dave@contoso.com", canary)
		if err != nil || !res.Registered || !res.Sent {
			t.Fatalf("alice: %+v, %v; want her fooled into registering and sending", res, err)
		}
		synctest.Wait()
		if len(offers) != 1 || offers[0].TargetName != "pool01.contoso.com" || offers[0].Realm != sip.NTLMRealm || offers[0].TLS == nil {
			t.Errorf("alice was offered %+v, want one demand claiming pool01.contoso.com", offers)
		}
		mu.Lock()
		got := slices.Clone(captured)
		mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("mallory captured %d responses, want 1", len(got))
		}
		c := got[0]
		if c.User != "alice" || c.Domain != "CONTOSO" || c.Workstation != "ALICE-PC" {
			t.Errorf("captured %s\\%s from %s", c.Domain, c.User, c.Workstation)
		}
		if !ntlm.Verify(c, password) || ntlm.Verify(c, ntlm.PasswordOf("Winter2026!")) {
			t.Errorf("the capture does not verify with alice's password alone")
		}
		rep := p.Report([]string{canary})
		var steps []string
		for _, m := range rep.Sessions[0].Messages {
			if m.FromVictim {
				steps = append(steps, m.Method)
			} else {
				steps = append(steps, m.Method+" "+m.Reason)
			}
		}
		want := []string{"REGISTER", "REGISTER Unauthorized", "REGISTER", "REGISTER Unauthorized", "REGISTER", "REGISTER OK", "MESSAGE", "MESSAGE OK"}
		if !slices.Equal(steps, want) || !slices.Equal(rep.Found, []string{canary}) {
			t.Errorf("messages %q (found %v), want %q and the canary", steps, rep.Found, want)
		}
	})
}

package attacker_test

import (
	"context"
	"crypto/tls"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/sip"
)

// TestProxyPassthrough relays alice's TLS untouched: her session with the
// real pool completes, and the attacker holds only ciphertext.
func TestProxyPassthrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		fe := o.startFE(t, o.feCfg)
		o.spoof(t)
		p := o.proxy(t, attacker.ProxyConfig{Port: 5061, SIP: true, Victim: attacker.VictimPlain{}, Upstream: attacker.UpstreamPlain{}})
		const canary = "canary-passthrough"
		if _, err := o.client(t, nil).SendMessage(t.Context(), "dave@contoso.com", canary); err != nil {
			t.Fatalf("alice through a passthrough relay: %v", err)
		}
		synctest.Wait()
		rep := p.Report([]string{canary})
		if len(rep.Found) != 0 {
			t.Errorf("found %v in ciphertext", rep.Found)
		}
		if len(rep.Sessions) != 1 || rep.Sessions[0].FromVictim == 0 || rep.Sessions[0].FromServer == 0 || rep.Sessions[0].VictimSide.TLS {
			t.Errorf("sessions %+v, want one raw relay with bytes both ways", rep.Sessions)
		}
		if len(rep.Sessions[0].Messages) != 0 {
			t.Errorf("parsed SIP out of TLS: %+v", rep.Sessions[0].Messages)
		}
		if _, err := p.Inject(t.Context(), 1, forged(t, "x")); !errors.Is(err, attacker.ErrNoSession) {
			t.Errorf("Inject into a TLS passthrough: %v, want ErrNoSession", err)
		}
		// The pool sees mallory's address, but alice's own TLS session.
		if d := fe.Deliveries(); len(d) != 1 || d[0].Body != canary || !strings.HasPrefix(d[0].Peer.Addr, malloryIP.String()+":") || d[0].Peer.User != "alice@contoso.com" {
			t.Errorf("deliveries %+v, want alice's message relayed from mallory", d)
		}
	})
}

// TestProxyStripping blocks alice's TLS port: a client allowed to fall
// back to plaintext then talks SIP in the clear to port 5060, which the
// attacker relays to the pool over TLS, reading everything. The hardened
// client never falls back.
func TestProxyStripping(t *testing.T) {
	for _, r := range []struct {
		name     string
		fallback bool
		tls      func(o *office) attacker.VictimSide // what alice meets on port 5061
		tlsErr   string                              // the attacker's record of it
	}{
		{"fallback on, TLS port refused", true, refuse, attacker.ErrRefused.Error()},
		{"fallback on, TLS handshake failed", true, func(o *office) attacker.VictimSide {
			return attacker.VictimTLS{Certs: attacker.SelfSigned(o.w.Now, "pool01.contoso.com")}
		}, "remote error: tls: bad certificate"},
		{"fallback off", false, refuse, attacker.ErrRefused.Error()},
	} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOffice(t, officeConfig{})
				fe := o.startFE(t, o.feCfg)
				o.spoof(t)
				block := o.proxy(t, attacker.ProxyConfig{Port: 5061, Victim: r.tls(o), Upstream: attacker.UpstreamPlain{}})
				strip := o.proxy(t, attacker.ProxyConfig{
					Port: 5060, SIP: true, Victim: attacker.VictimPlain{},
					Upstream: attacker.UpstreamTLS{Port: 5061, Config: &tls.Config{ServerName: "pool01.contoso.com", InsecureSkipVerify: true}},
				})
				const canary = "canary-stripped"
				res, err := o.client(t, func(c *sip.ClientConfig) { c.AllowPlaintextFallback = r.fallback }).SendMessage(t.Context(), "dave@contoso.com", canary)
				synctest.Wait()
				rep := strip.Report([]string{canary})
				if got := block.Sessions(); len(got) != 1 || got[0].VictimSide.Err != r.tlsErr {
					t.Errorf("port 5061: %+v, want alice's TLS to fail with %q", got, r.tlsErr)
				}
				if !r.fallback {
					var ce *sip.ConnectError
					if !errors.As(err, &ce) || ce.Hint != "plaintext fallback is off" {
						t.Errorf("hardened alice: %v, want a ConnectError saying fallback is off", err)
					}
					if len(rep.Sessions) != 0 || len(rep.Found) != 0 {
						t.Errorf("stripper got %+v", rep)
					}
					return
				}
				if err != nil || !res.Conn.Fallback {
					t.Fatalf("alice with fallback: %+v, %v; want a plaintext session", res, err)
				}
				if !slices.Equal(rep.Found, []string{canary}) {
					t.Errorf("found %v, want the canary in stripped plaintext", rep.Found)
				}
				s := rep.Sessions[0]
				if s.VictimSide.TLS || !s.UpstreamSide.Completed || s.UpstreamSide.Version != "TLS 1.3" {
					t.Errorf("sides %+v / %+v, want plaintext to alice and TLS 1.3 to the pool", s.VictimSide, s.UpstreamSide)
				}
				d := fe.Deliveries()
				if len(d) != 1 || d[0].Body != canary || d[0].Peer.Transport != sip.TransportTLS || !strings.HasPrefix(d[0].Peer.Addr, malloryIP.String()+":") {
					t.Errorf("deliveries %+v, want alice's message over TLS from mallory", d)
				}
			})
		})
	}
}

func refuse(*office) attacker.VictimSide { return attacker.VictimRefuse{} }

// TestProxyDowngrade answers alice's ClientHello as a TLS 1.0-only server
// with the stolen certificate: alice's default minimum (TLS 1.2) refuses
// the TLS 1.0 ServerHello herself, with a protocol_version alert; a client
// that still allows TLS 1.0 is talked down to it.
func TestProxyDowngrade(t *testing.T) {
	for _, r := range []struct {
		name                     string
		min                      uint16
		aliceErr, attackerErr, v string
		alert                    *attacker.TLSAlert // alice's, read by the attacker
	}{
		{"client minimum TLS 1.2", 0, "tls: server selected unsupported protocol version 301",
			"attacker: answered TLS 1.0; the client refused it: alert tls: protocol version not supported", "",
			&attacker.TLSAlert{Level: 2, Description: 70, Name: "protocol_version", Plaintext: true}},
		{"client minimum TLS 1.0", tls.VersionTLS10, "", "", "TLS 1.0", nil},
	} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOffice(t, officeConfig{})
				o.startFE(t, o.feCfg)
				o.spoof(t)
				p := o.proxy(t, attacker.ProxyConfig{Port: 5061, SIP: true, Victim: attacker.Downgrade(attacker.StolenCertificate(o.fe01Cred), tls.VersionTLS10), Upstream: attacker.UpstreamTLS{}})
				_, err := o.client(t, func(c *sip.ClientConfig) { c.TLS.MinVersion = r.min }).SendMessage(t.Context(), "dave@contoso.com", "canary-downgrade")
				if got := attemptErr(err); got != r.aliceErr {
					t.Errorf("alice: %q, want %q", got, r.aliceErr)
				}
				synctest.Wait()
				s := p.Sessions()[0]
				if s.VictimSide.Err != r.attackerErr || s.VictimSide.Version != r.v || !reflect.DeepEqual(s.VictimSide.Alert, r.alert) {
					t.Errorf("victim side %+v, want err %q version %q alert %v", s.VictimSide, r.attackerErr, r.v, r.alert)
				}
			})
		})
	}
}

// forged is a MESSAGE from alice to dave carrying body.
func forged(t *testing.T, body string) *sipgo.Request {
	t.Helper()
	req, err := attacker.ForgedMessage{From: "alice@contoso.com", To: "dave@contoso.com", Body: body}.Request()
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestProxyInjection: holding alice's registered session to the pool
// (with a mis-issued certificate), the attacker slips in a MESSAGE as
// alice; the pool delivers it, and alice's own traffic goes on unaware.
// Against a victim who refused the attacker there is no session to use.
func TestProxyInjection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		fe := o.startFE(t, o.feCfg)
		o.spoof(t)
		certs, err := attacker.MisIssuedCertificate(o.ca, "pool01.contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		p := o.proxy(t, attacker.ProxyConfig{Port: 5061, SIP: true, Victim: attacker.VictimTLS{Certs: certs}, Upstream: attacker.UpstreamTLS{}})
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		sess, err := o.client(t, nil).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.Register(ctx); err != nil {
			t.Fatal(err)
		}
		const evil = "canary-injected-by-mallory"
		in, err := p.Inject(ctx, 1, forged(t, evil))
		if err != nil || in.Status != 200 || in.Err != "" {
			t.Fatalf("Inject: %+v, %v; want 200 OK", in, err)
		}
		if err := sess.Message(ctx, "dave@contoso.com", "alice's own message"); err != nil {
			t.Errorf("alice after the injection: %v", err)
		}
		d := fe.Deliveries()
		if len(d) != 2 || d[0].Body != evil || d[0].From != "alice@contoso.com" || d[0].Peer.User != "alice@contoso.com" {
			t.Errorf("deliveries %+v, want the injected message as alice first", d)
		}
		s := p.Sessions()[0]
		if len(s.Injections) != 1 || !slices.ContainsFunc(s.Messages, func(m attacker.SIPMessage) bool { return m.Injected && m.Status == 200 }) {
			t.Errorf("session record %+v", s)
		}
		if _, err := p.Inject(ctx, 2, forged(t, evil)); !errors.Is(err, attacker.ErrNoSession) {
			t.Errorf("Inject into a missing session: %v, want ErrNoSession", err)
		}
	})
}

// TestHelloDowngrader rewrites alice's ClientHello on its way through
// mallory to offer TLS 1.2 only. The real pool negotiates TLS 1.2 but
// marks its ServerHello with the TLS 1.3 downgrade sentinel, and alice
// aborts.
func TestHelloDowngrader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		fe := o.startFE(t, o.feCfg)
		o.spoof(t)
		d := &attacker.HelloDowngrader{Port: 5061, MaxVersion: tls.VersionTLS12}
		defer d.AttachRouter(o.mallory)()
		_, err := o.client(t, nil).SendMessage(t.Context(), "dave@contoso.com", "canary")
		if got, want := attemptErr(err), "tls: downgrade attempt detected, possibly due to a MitM attack or a broken middlebox"; got != want {
			t.Errorf("alice: %q, want %q", got, want)
		}
		synctest.Wait()
		if d.Rewritten() != 1 {
			t.Errorf("rewrote %d ClientHellos, want 1", d.Rewritten())
		}
		if rj := fe.Rejections(); len(rj) != 1 || rj[0].Reason != "fe01: remote error: tls: illegal parameter" {
			t.Errorf("fe01 rejections %+v", rj)
		}
	})
}

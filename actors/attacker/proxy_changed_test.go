package attacker_test

import (
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
)

// TestProxySessionsChanged: SessionsChanged's channel closes when the
// proxy accepts alice's connection and again when that session ends, and
// not otherwise.
func TestProxySessionsChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		o.startFE(t, o.feCfg)
		o.spoof(t)
		p := o.proxy(t, attacker.ProxyConfig{Port: 5061, SIP: true,
			Victim: attacker.VictimTLS{Certs: attacker.SelfSigned(o.w.Now, "pool01.contoso.com")}, Upstream: attacker.UpstreamTLS{}})
		closed := func(ch <-chan struct{}) bool {
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}
		started := p.SessionsChanged()
		synctest.Wait()
		if closed(started) {
			t.Fatal("SessionsChanged closed before any connection")
		}
		// A waiter re-arming after each wake sees the start and, a
		// handshake's round trips later, the end.
		wakes := make(chan int)
		stop := make(chan struct{})
		go func() {
			n := 0
			defer func() { wakes <- n }()
			for {
				select {
				case <-p.SessionsChanged():
					n++
				case <-stop:
					return
				}
			}
		}()
		if _, err := o.client(t, nil).SendMessage(t.Context(), "dave@contoso.com", "canary"); err == nil {
			t.Fatal("alice accepted mallory's self-signed certificate")
		}
		synctest.Wait()
		close(stop)
		if n := <-wakes; n < 2 {
			t.Errorf("a re-arming waiter woke %d times, want the session's start and its end", n)
		}
		ss := p.Sessions()
		if !closed(started) || len(ss) != 1 || ss[0].End.IsZero() {
			t.Fatalf("after alice's refused attempt: channel closed %v, sessions %+v; want closed and one ended session", closed(started), ss)
		}
		// Nothing more happens: the next channel stays open.
		next := p.SessionsChanged()
		synctest.Wait()
		if closed(next) {
			t.Error("SessionsChanged closed with no new session or end")
		}
	})
}

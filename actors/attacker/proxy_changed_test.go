package attacker_test

import (
	"net"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
)

// TestProxySessionsChanged: SessionsChanged's channel closes when the
// proxy accepts a connection, and the next one when that session ends,
// and not otherwise. alice opens a bare TCP connection to the pool, which
// mallory intercepts and holds waiting for a ClientHello until alice
// closes it.
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
		conn, err := o.alice.DialContext(t.Context(), "tcp", net.JoinHostPort(fe01IP.String(), "5061"))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !closed(started) || len(p.Sessions()) != 1 {
			t.Fatalf("after alice connected: channel closed %v, sessions %+v; want closed and one session", closed(started), p.Sessions())
		}
		ended := p.SessionsChanged()
		synctest.Wait()
		if closed(ended) || !p.Sessions()[0].End.IsZero() {
			t.Fatal("SessionsChanged closed again while the session waits for a ClientHello")
		}
		conn.Close()
		synctest.Wait()
		if !closed(ended) || p.Sessions()[0].End.IsZero() {
			t.Fatalf("after alice closed: channel closed %v, session %+v; want closed and the session ended", closed(ended), p.Sessions()[0])
		}
	})
}

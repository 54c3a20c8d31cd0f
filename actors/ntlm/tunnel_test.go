package ntlm_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// connector is a CONNECT proxy on l.proxy: it hijacks the client's
// connection, dials the target from the proxy host and copies both ways
// until either side closes.
func (l *lan) connector(t *testing.T) http.Handler {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "proxy: CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := l.dialer(l.proxy)(r.Context(), "tcp", r.Host)
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		down, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			_ = up.Close()
			return
		}
		_, _ = rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		_ = rw.Flush()
		wg.Add(2)
		pipe := func(dst, src net.Conn, r io.Reader) {
			defer wg.Done()
			_, _ = io.Copy(dst, r)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, down, rw)
		go pipe(down, up, up)
	})
}

// TestTunnelThroughNTLMProxy: alice's CONNECT is refused with 407 NTLM;
// the TunnelDialer answers on the same connection and the tunnel carries
// her request to the web server. The wrong password ends in a
// *ProxyRefusedError, and a refusing policy sends nothing.
func TestTunnelThroughNTLMProxy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cred       ntlm.Credential
		allow      func(ntlm.Offer) error
		wantErr    func(error) bool
		wantResult error // the error of the proxy's one result, when results is 1
		results    int   // how many AUTHENTICATEs the proxy judged
	}{
		{"right password", alice, nil, func(err error) bool { return err == nil }, nil, 1},
		{"wrong password", ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: ntlm.PasswordOf("guess")}, nil,
			func(err error) bool {
				var pr *ntlm.ProxyRefusedError
				return errors.As(err, &pr) && pr.Status == "407 Proxy Authentication Required"
			}, ntlm.ErrWrongPassword, 1},
		{"policy refuses", alice, func(ntlm.Offer) error { return errors.New("no NTLM to proxies") },
			func(err error) bool {
				var re *ntlm.RefusedError
				return errors.As(err, &re) && re.Offer.Proxy && re.Offer.Request.Method == http.MethodConnect
			}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLAN(t)
			res := newResults()
			proxyAuth := newServer(t, ntlm.ServerConfig{Users: []ntlm.Credential{alice}, Proxy: true, Rand: seeded(8), Now: l.w.Now,
				Target: ntlm.Target{NetBIOSDomain: "CONTOSO", NetBIOSComputer: "PROXY"}, OnResult: res.onResult})
			serve(t, l.proxy, proxyAuth.Wrap(l.connector(t)), proxyAuth)
			serve(t, l.web, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "hello through the tunnel")
			}), nil)
			dialer := &ntlm.TunnelDialer{Dial: l.dialer(l.alice), Proxy: "proxy.contoso.com:80",
				Credential: tc.cred, Workstation: "ALICE-PC", Allow: tc.allow}
			tr := &http.Transport{DialContext: dialer.DialContext}
			t.Cleanup(tr.CloseIdleConnections)
			status, body, err := get(t, &http.Client{Transport: tr}, "GET", "http://fe01.contoso.com/", "")
			if !tc.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (status != 200 || body != "hello through the tunnel") {
				t.Errorf("got %d %q through the tunnel", status, body)
			}
			got := res.all()
			if len(got) != tc.results || (tc.results == 1 && (got[0].User != "alice" || !errors.Is(got[0].Err, tc.wantResult))) {
				t.Errorf("proxy results %+v, want %d with error %v", got, tc.results, tc.wantResult)
			}
		})
	}
}

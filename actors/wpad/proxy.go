package wpad

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/dns"
)

// Authenticator decides whether a proxy request may pass. It reads the
// request's Proxy-Authorization header and returns the authenticated user
// and ok; or not ok and the Proxy-Authenticate values of the 407 challenge
// to send (e.g. "NTLM", or "NTLM <base64 challenge>" in the middle of a
// handshake). Connection-oriented schemes such as NTLM key their state on
// r.RemoteAddr, which is unique per client connection while it is open;
// the proxy keeps the connection open after a 407. It is called from the
// connection's goroutine and must be safe for concurrent use.
type Authenticator func(r *http.Request) (user string, challenge []string, ok bool)

// ProxyConfig declares an HTTP proxy.
type ProxyConfig struct {
	// Dialer opens the upstream connections (the proxy's netsim host).
	// Required.
	Dialer Dialer
	// Resolver resolves target host names; nil means only IP literals
	// can be reached.
	Resolver dns.NameResolver
	// Authenticate, when not nil, is asked about every request; a request
	// it refuses gets 407 Proxy Authentication Required. Nil: an open
	// proxy.
	Authenticate Authenticator
	// DialTimeout bounds each upstream dial; zero means 10 seconds.
	DialTimeout time.Duration
}

// ProxyRequest is one request the proxy handled: evidence of who went
// where, as whom.
type ProxyRequest struct {
	// From is the client's address and port.
	From netip.AddrPort
	// Method is "CONNECT", "GET" etc.
	Method string
	// Target is "host:port" for CONNECT, the absolute URL otherwise.
	Target string
	// Authorization is the Proxy-Authorization header sent, if any.
	Authorization string
	// User is who the Authenticator said the client is; empty when open
	// or refused.
	User string
	// Status is the proxy's answer: 200 for an established tunnel, 407,
	// 502 when the target could not be reached, or the upstream status.
	Status int
}

// Proxy is a forward HTTP proxy: CONNECT tunnels and absolute-form plain
// requests, with an optional authentication step. It is safe for
// concurrent use.
type Proxy struct {
	cfg ProxyConfig

	mu       sync.Mutex
	requests []ProxyRequest        // guarded by mu
	tunnels  map[net.Conn]struct{} // open hijacked connections; guarded by mu
	closed   bool                  // guarded by mu
	wg       sync.WaitGroup        // tunnel goroutines
}

var _ http.Handler = (*Proxy)(nil)

// NewProxy returns the proxy for cfg; it fails with a *ConfigError when
// Dialer is nil.
func NewProxy(cfg ProxyConfig) (*Proxy, error) {
	if cfg.Dialer == nil {
		return nil, &ConfigError{What: "proxy", Problem: "ProxyConfig.Dialer is nil: give the proxy's netsim host"}
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	return &Proxy{cfg: cfg, tunnels: map[net.Conn]struct{}{}}, nil
}

// Requests returns a copy of the requests handled so far, in the order
// they were answered.
func (p *Proxy) Requests() []ProxyRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

func (p *Proxy) note(r ProxyRequest) {
	p.mu.Lock()
	p.requests = append(p.requests, r)
	p.mu.Unlock()
}

// Serve answers proxy requests on l until ctx ends, then closes l, every
// client connection and every tunnel, waits for their goroutines and
// returns ctx's error.
func (p *Proxy) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		// The listener failed on its own.
		p.shutdown()
		return err
	}
	srv.Close()
	<-done
	p.shutdown()
	return ctx.Err()
}

// shutdown closes the tunnels and waits for their goroutines.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	p.closed = true
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// ServeHTTP handles one proxy request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, _ := netip.ParseAddrPort(r.RemoteAddr)
	rec := ProxyRequest{From: from, Method: r.Method, Target: r.URL.String(), Authorization: r.Header.Get("Proxy-Authorization")}
	if r.Method == http.MethodConnect {
		rec.Target = r.Host
	}
	// The request is recorded when its status is decided, before the
	// answer leaves: a client that has the answer finds it in Requests.
	noted := false
	noteStatus := func(code int) {
		if !noted {
			noted, rec.Status = true, code
			p.note(rec)
		}
	}
	sw := &statusWriter{ResponseWriter: w, decided: noteStatus}
	if p.cfg.Authenticate != nil {
		user, challenge, ok := p.cfg.Authenticate(r)
		if !ok {
			for _, c := range challenge {
				w.Header().Add("Proxy-Authenticate", c)
			}
			http.Error(sw, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
		rec.User = user
	}
	var status int
	if r.Method == http.MethodConnect {
		status = p.connect(sw, r, noteStatus)
	} else {
		status = p.forward(sw, r)
	}
	noteStatus(status)
}

// statusWriter calls decided with the status of the answer just before
// it is written (an implicit 200 included); it lets a CONNECT hijack the
// connection.
type statusWriter struct {
	http.ResponseWriter
	decided func(code int)
}

func (w *statusWriter) WriteHeader(code int) {
	w.decided(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.decided(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection over, as the wrapped writer does.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("wpad: the connection cannot be hijacked")
	}
	return hj.Hijack()
}

// Flush sends what is buffered, when the wrapped writer can.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// dial connects to "host:port", resolving host with the Resolver.
func (p *Proxy) dial(ctx context.Context, hostport string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if p.cfg.Resolver == nil {
			return nil, fmt.Errorf("cannot resolve %s: the proxy has no resolver", host)
		}
		addrs, err := p.cfg.Resolver.LookupNetIP(ctx, "ip4", host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("no address for %s", host)
		}
		ip = addrs[0]
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	return p.cfg.Dialer.DialContext(ctx, "tcp", net.JoinHostPort(ip.Unmap().String(), port))
}

// connect opens a tunnel to r.Host and returns the status answered;
// decided hears the 200 before it is written on the hijacked connection.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request, decided func(int)) int {
	if _, _, err := net.SplitHostPort(r.Host); err != nil {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return http.StatusBadRequest
	}
	up, err := p.dial(r.Context(), r.Host)
	if err != nil {
		http.Error(w, "cannot reach "+r.Host+": "+err.Error(), http.StatusBadGateway)
		return http.StatusBadGateway
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "cannot tunnel over this connection", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return http.StatusInternalServerError
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		up.Close()
		down.Close()
		return http.StatusServiceUnavailable
	}
	p.tunnels[down], p.tunnels[up] = struct{}{}, struct{}{}
	p.wg.Add(2)
	p.mu.Unlock()
	decided(http.StatusOK)
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		// The goroutines below see the closed connections and end.
		down.Close()
	}
	forget := func() {
		p.mu.Lock()
		delete(p.tunnels, down)
		delete(p.tunnels, up)
		p.mu.Unlock()
	}
	go func() {
		defer p.wg.Done()
		// Bytes the client sent after CONNECT are in buf's reader.
		io.Copy(up, buf.Reader)
		up.Close()
		down.Close()
	}()
	go func() {
		defer p.wg.Done()
		io.Copy(down, up)
		down.Close()
		up.Close()
		forget()
	}()
	return http.StatusOK
}

// hopHeaders are dropped when forwarding (RFC 9110 section 7.6.1, and the
// proxy's own).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends an absolute-form request upstream and copies the answer
// back; it returns the status answered.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) int {
	if !r.URL.IsAbs() || r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "a proxy request needs an absolute http URL", http.StatusBadRequest)
		return http.StatusBadRequest
	}
	hostport := r.URL.Host
	if r.URL.Port() == "" {
		hostport = net.JoinHostPort(r.URL.Hostname(), "80")
	}
	up, err := p.dial(r.Context(), hostport)
	if err != nil {
		http.Error(w, "cannot reach "+hostport+": "+err.Error(), http.StatusBadGateway)
		return http.StatusBadGateway
	}
	defer up.Close()
	stop := context.AfterFunc(r.Context(), func() { up.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	out.Close = true
	if err := out.Write(up); err != nil {
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return http.StatusBadGateway
	}
	resp, err := http.ReadResponse(bufio.NewReader(up), out)
	if err != nil {
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return http.StatusBadGateway
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil && !errors.Is(err, io.EOF) {
		// The client sees a short body; nothing more to tell it.
		return resp.StatusCode
	}
	return resp.StatusCode
}

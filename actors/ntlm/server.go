package ntlm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Scheme is an HTTP authentication scheme carrying NTLMSSP tokens.
type Scheme string

const (
	// SchemeNTLM is "WWW-Authenticate: NTLM".
	SchemeNTLM Scheme = "NTLM"
	// SchemeNegotiate is "WWW-Authenticate: Negotiate" (RFC 4559) answered
	// with raw NTLMSSP, as Windows does when Kerberos is not available.
	SchemeNegotiate Scheme = "Negotiate"
)

// ServerConfig describes an NTLM-authenticating HTTP front (a web service,
// or a proxy with Proxy set). Zero values take the stated defaults.
type ServerConfig struct {
	// Users is the directory the server verifies against. Nil (or empty)
	// makes a capture-only server: every AUTHENTICATE is reported to
	// OnCapture and the request passed on unverified, as a rogue server or
	// proxy that only wants the response does.
	Users []Credential
	// Rand draws the server challenges, one read at a time (it need not
	// be safe for concurrent use). Nil means crypto/rand; a scenario passes
	// the run's seeded randomness.
	Rand io.Reader
	// Now stamps the CHALLENGE's MsvAvTimestamp. Nil means time.Now; a
	// scenario passes the World's clock.
	Now func() time.Time
	// Target names the server in its CHALLENGE.
	Target Target
	// Proxy makes the server a proxy: 407, Proxy-Authenticate and
	// Proxy-Authorization instead of 401, WWW-Authenticate, Authorization.
	Proxy bool
	// Schemes are offered in this order. Nil means NTLM then Negotiate.
	Schemes []Scheme
	// OnCapture, if set, receives every NTLMv2 AUTHENTICATE the server
	// parsed, before verification. Called on the request's goroutine.
	OnCapture func(Captured)
	// OnResult, if set, receives the outcome of every AUTHENTICATE.
	// Called on the request's goroutine.
	OnResult func(Result)
}

// Result is one AUTHENTICATE's outcome at the server.
type Result struct {
	User, Domain, Workstation string
	// Err is nil when the response verified (or, on a capture-only
	// server, when it was captured); otherwise why it was refused, one of
	// the errors below or a *MalformedError / *NotNTLMv2Error.
	Err error
}

// Reasons a server refuses an AUTHENTICATE, for errors.Is.
var (
	ErrUnknownUser   = errors.New("ntlm: no such user")
	ErrWrongPassword = errors.New("ntlm: NTLMv2 response does not verify (wrong password)")
	ErrNoChallenge   = errors.New("ntlm: AUTHENTICATE without a CHALLENGE on this connection")
)

// Identity is the user a request authenticated as, from IdentityFrom.
type Identity struct{ User, Domain, Workstation string }

type identityKey struct{}

// IdentityFrom returns the user the NTLM middleware authenticated the
// request as. On a capture-only server it is the user who answered.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Server is NTLM authentication in front of an http.Handler. NTLM
// authenticates a connection, not a request: the server remembers the
// challenge it sent and, once verified, the identity, per client
// connection (keyed by the request's RemoteAddr), and forgets them when
// told the connection closed (ConnState). Safe for concurrent use.
type Server struct {
	cfg     ServerConfig
	schemes []Scheme
	mu      sync.Mutex
	conns   map[string]*connState // by RemoteAddr
}

type connState struct {
	challenge *[8]byte  // sent, not yet answered
	identity  *Identity // verified
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	s := &Server{cfg: cfg, schemes: cfg.Schemes, conns: map[string]*connState{}}
	if s.schemes == nil {
		s.schemes = []Scheme{SchemeNTLM, SchemeNegotiate}
	}
	for _, sc := range s.schemes {
		if sc != SchemeNTLM && sc != SchemeNegotiate {
			return nil, fmt.Errorf("ntlm: scheme %q: want %q or %q", sc, SchemeNTLM, SchemeNegotiate)
		}
	}
	if s.cfg.Rand == nil {
		s.cfg.Rand = rand.Reader
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	return s, nil
}

// headers are the names the exchange uses: origin or proxy.
func (s *Server) headers() (status int, challenge, response string) {
	if s.cfg.Proxy {
		return http.StatusProxyAuthRequired, "Proxy-Authenticate", "Proxy-Authorization"
	}
	return http.StatusUnauthorized, "WWW-Authenticate", "Authorization"
}

// ConnState forgets a connection's state when it closes; set it as (or
// call it from) http.Server.ConnState. Without it, state lingers until a
// new connection reuses the address.
func (s *Server) ConnState(c net.Conn, st http.ConnState) {
	if st == http.StateClosed || st == http.StateHijacked {
		s.mu.Lock()
		delete(s.conns, c.RemoteAddr().String())
		s.mu.Unlock()
	}
}

// Wrap returns next behind NTLM authentication. A request on a verified
// connection passes with its Identity in the context. Otherwise: no NTLM
// token gets the challenge status with every scheme offered; a NEGOTIATE
// gets a CHALLENGE; an AUTHENTICATE that verifies passes (and the
// connection stays authenticated); anything else gets the challenge status
// again with no token, and OnResult says why. The proxy variant strips
// Proxy-Authorization before passing the request on.
func (s *Server) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, challengeHdr, responseHdr := s.headers()
		key := r.RemoteAddr
		scheme, token, hasToken := s.token(r.Header.Get(responseHdr))
		if !hasToken {
			if id, ok := s.verified(key); ok {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
				return
			}
			s.refuse(w, status, challengeHdr)
			return
		}
		msg, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			s.report(Result{Err: &MalformedError{"token is not base64"}})
			s.refuse(w, status, challengeHdr)
			return
		}
		t, err := messageType(msg)
		switch {
		case err != nil:
			s.report(Result{Err: err})
			s.refuse(w, status, challengeHdr)
		case t == typeNegotiate:
			challenge, sc, err := s.Challenge()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			s.setConn(key, &connState{challenge: &sc})
			w.Header().Set(challengeHdr, string(scheme)+" "+base64.StdEncoding.EncodeToString(challenge))
			w.WriteHeader(status)
		case t == typeAuthenticate:
			id, ok := s.authenticate(key, msg)
			if !ok {
				s.refuse(w, status, challengeHdr)
				return
			}
			if s.cfg.Proxy {
				r = r.Clone(r.Context())
				r.Header.Del("Proxy-Authorization")
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
		default:
			s.report(Result{Err: &MalformedError{fmt.Sprintf("message type %d where NEGOTIATE or AUTHENTICATE belongs", t)}})
			s.refuse(w, status, challengeHdr)
		}
	})
}

// authenticate checks an AUTHENTICATE against the challenge sent on the
// connection key; once verified, the connection is.
func (s *Server) authenticate(key string, msg []byte) (Identity, bool) {
	s.mu.Lock()
	st := s.conns[key]
	delete(s.conns, key)
	s.mu.Unlock()
	if st == nil || st.challenge == nil {
		res := Result{Err: ErrNoChallenge}
		if a, err := ParseAuthenticate(msg); err == nil {
			res.User, res.Domain, res.Workstation = a.User, a.Domain, a.Workstation
		}
		s.report(res)
		return Identity{}, false
	}
	id, err := s.Authenticate(msg, *st.challenge)
	if err != nil {
		return Identity{}, false
	}
	s.setConn(key, &connState{identity: &id})
	return id, true
}

// check verifies c against the directory entry for its user.
func (s *Server) check(c Captured) error {
	for _, u := range s.cfg.Users {
		if u.matches(c.User, c.Domain) {
			if Verify(c, u.Password) {
				return nil
			}
			return ErrWrongPassword
		}
	}
	return ErrUnknownUser
}

// matches reports whether the names an AUTHENTICATE carries are this
// account: the user name case-insensitively, and the domain as configured
// (case-insensitively), or empty with the user in UPN form (user@domain).
func (c Credential) matches(user, domain string) bool {
	if domain == "" {
		return strings.EqualFold(user, c.User) && c.Domain == "" ||
			strings.EqualFold(user, c.User+"@"+c.Domain)
	}
	return strings.EqualFold(user, c.User) && strings.EqualFold(domain, c.Domain)
}

func (s *Server) token(h string) (Scheme, string, bool) {
	name, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	for _, sc := range s.schemes {
		if strings.EqualFold(name, string(sc)) && token != "" {
			return sc, strings.TrimSpace(token), true
		}
	}
	return "", "", false
}

func (s *Server) refuse(w http.ResponseWriter, status int, challengeHdr string) {
	for _, sc := range s.schemes {
		w.Header().Add(challengeHdr, string(sc))
	}
	w.WriteHeader(status)
}

func (s *Server) verified(key string) (Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.conns[key]; st != nil && st.identity != nil {
		return *st.identity, true
	}
	return Identity{}, false
}

func (s *Server) setConn(key string, st *connState) {
	s.mu.Lock()
	s.conns[key] = st
	s.mu.Unlock()
}

func (s *Server) report(r Result) {
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(r)
	}
}

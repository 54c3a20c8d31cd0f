package ntlm

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Offer is a server's or proxy's demand for NTLM, as the client sees it
// before answering with the user's credential.
type Offer struct {
	// Proxy is true for a 407 from a proxy, false for a 401 from the origin.
	Proxy bool
	// Scheme is the scheme the client answers with.
	Scheme Scheme
	// Request is the request that was refused (its URL names the origin).
	// Read it; do not modify it.
	Request *http.Request
}

// Transport is an http.RoundTripper that answers NTLM demands, from the
// origin (401, WWW-Authenticate) and from a proxy (407, Proxy-Authenticate),
// with Credential. go-ntlmssp builds the NEGOTIATE and AUTHENTICATE
// messages (NTLMv2); Transport carries them.
//
// NTLM authenticates a connection: NEGOTIATE and AUTHENTICATE must travel on
// the same one. Base must therefore keep connections alive and reuse them
// (an *http.Transport does, when the response bodies are read to the end,
// which Transport does), and requests through one Transport should be
// sequential or Base limited to one connection per host.
//
// A request whose body cannot be replayed (Body set, GetBody nil) is sent
// once; its 401 or 407 is returned as is.
type Transport struct {
	// Base sends the requests. Nil means http.DefaultTransport.
	Base http.RoundTripper
	// Credential answers the demands. Its Domain and User go in the
	// AUTHENTICATE message as sent.
	Credential Credential
	// Workstation is the client machine's name, sent in AUTHENTICATE.
	Workstation string
	// Allow, if set, decides whether to answer an offer; a non-nil error
	// refuses it: RoundTrip returns a *RefusedError wrapping it and sends
	// nothing (the policy "no NTLM towards unauthenticated servers").
	Allow func(Offer) error
	// OnAnswer, if set, is told each offer the client answered with an
	// AUTHENTICATE, after it was sent.
	OnAnswer func(Offer)
}

// RefusedError is returned when Allow refused to answer an NTLM offer.
type RefusedError struct {
	Offer Offer
	Err   error
}

func (e *RefusedError) Error() string {
	who := "server"
	if e.Offer.Proxy {
		who = "proxy"
	}
	return fmt.Sprintf("ntlm: not answering %s's %s demand for %s: %v", who, e.Offer.Scheme, e.Offer.Request.URL.Redacted(), e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends req and answers up to one proxy and one origin NTLM
// demand, in the order they come. The last response is returned; a 401 or
// 407 after an AUTHENTICATE means the credential was refused.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	first := req
	if replayable {
		if req.Body != nil {
			// Every attempt sends a copy from GetBody; the original is
			// closed here, as the RoundTripper contract asks.
			defer req.Body.Close()
		}
		var err error
		if first, err = attempt(req, nil); err != nil {
			return nil, err
		}
	}
	resp, err := base.RoundTrip(first)
	answered := map[bool]bool{}
	for err == nil && replayable {
		proxy := resp.StatusCode == http.StatusProxyAuthRequired
		if resp.StatusCode != http.StatusUnauthorized && !proxy || answered[proxy] {
			return resp, nil
		}
		h := headerFor(proxy)
		scheme, ok := offered(resp.Header.Values(h.challenge))
		if !ok {
			return resp, nil
		}
		offer := Offer{Proxy: proxy, Scheme: scheme, Request: req}
		if t.Allow != nil {
			if aerr := t.Allow(offer); aerr != nil {
				drain(resp)
				return nil, &RefusedError{Offer: offer, Err: aerr}
			}
		}
		answered[proxy] = true
		drain(resp)
		var sentAuth bool
		resp, sentAuth, err = t.handshake(base, req, offer, h)
		if sentAuth && t.OnAnswer != nil {
			t.OnAnswer(offer)
		}
	}
	return resp, err
}

// header names one side of the exchange.
type header struct{ challenge, response string }

func headerFor(proxy bool) header {
	if proxy {
		return header{"Proxy-Authenticate", "Proxy-Authorization"}
	}
	return header{"WWW-Authenticate", "Authorization"}
}

// handshake sends NEGOTIATE, reads the CHALLENGE and sends AUTHENTICATE
// with the original request. It returns the response to the AUTHENTICATE
// (sentAuth true), or the answer to the NEGOTIATE if that carried no
// CHALLENGE.
func (t *Transport) handshake(base http.RoundTripper, req *http.Request, offer Offer, h header) (resp *http.Response, sentAuth bool, err error) {
	negotiate, err := NegotiateMessage()
	if err != nil {
		return nil, false, err
	}
	r, err := attempt(req, map[string]string{h.response: tokenHeader(offer.Scheme, negotiate)})
	if err != nil {
		return nil, false, err
	}
	if resp, err = base.RoundTrip(r); err != nil {
		return nil, false, err
	}
	challenge, ok := challengeToken(resp.Header.Values(h.challenge), offer.Scheme)
	if !ok {
		return resp, false, nil
	}
	drain(resp)
	auth, err := t.Credential.AnswerChallenge(challenge, t.Workstation)
	if err != nil {
		return nil, false, err
	}
	if r, err = attempt(req, map[string]string{h.response: tokenHeader(offer.Scheme, auth)}); err != nil {
		return nil, false, err
	}
	resp, err = base.RoundTrip(r)
	return resp, err == nil, err
}

// attempt clones req with a fresh body (from GetBody) and the given
// headers set.
func attempt(req *http.Request, set map[string]string) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("ntlm: replaying the request body: %w", err)
		}
		r.Body = body
	}
	for k, v := range set {
		r.Header.Set(k, v)
	}
	return r, nil
}

func tokenHeader(s Scheme, msg []byte) string {
	return string(s) + " " + base64.StdEncoding.EncodeToString(msg)
}

// offered picks the scheme to answer from challenge header values: NTLM if
// offered, else Negotiate (answered with raw NTLMSSP).
func offered(values []string) (Scheme, bool) {
	var found Scheme
	for _, v := range values {
		name, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case strings.EqualFold(name, string(SchemeNTLM)):
			return SchemeNTLM, true
		case strings.EqualFold(name, string(SchemeNegotiate)):
			found = SchemeNegotiate
		}
	}
	return found, found != ""
}

// challengeToken finds the CHALLENGE message in the values for scheme.
func challengeToken(values []string, s Scheme) ([]byte, bool) {
	for _, v := range values {
		name, token, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(name, string(s)) || token == "" {
			continue
		}
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
		if err != nil {
			continue
		}
		if typ, err := messageType(msg); err == nil && typ == typeChallenge {
			return msg, true
		}
	}
	return nil, false
}

// drain reads a response to its end so its connection can carry the next
// leg of the handshake.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// NTLMOffer is a server's MS-SIPAE NTLM demand as the client sees it
// before answering with the user's credential: which server asked, over
// what, and what it claims to be. ClientConfig.AllowNTLM judges it.
type NTLMOffer struct {
	// Server is the host name the client dialled, "pool01.contoso.com":
	// the SRV target or ClientConfig.Server's host.
	Server string
	// Addr is the address dialled.
	Addr netip.AddrPort
	// Transport is TLS, or TCP for plaintext SIP.
	Transport Transport
	// TLS is the connection's TLS state (its verified chains among it);
	// nil for plaintext SIP. Read it; do not modify it.
	TLS *tls.ConnectionState
	// Realm and TargetName are what the server's WWW-Authenticate header
	// says: NTLMRealm and the FQDN it claims.
	Realm, TargetName string
}

// NTLMRefusedError is Register failing because ClientConfig.AllowNTLM
// refused a server's NTLM demand. Nothing was sent for the demand.
type NTLMRefusedError struct {
	Offer NTLMOffer
	// Err is AllowNTLM's error.
	Err error
}

// Error reads "NTLM demand from pool01.contoso.com (10.0.0.11:5061, TLS)
// refused: <AllowNTLM's error>".
func (e *NTLMRefusedError) Error() string {
	return fmt.Sprintf("NTLM demand from %s (%s, %s) refused: %v", e.Offer.Server, e.Offer.Addr, e.Offer.Transport, e.Err)
}

func (e *NTLMRefusedError) Unwrap() error { return e.Err }

// ErrNoCredential is the cause of Register failing when the server
// demands NTLM and ClientConfig.Credential is nil. The *StatusError of the
// 401 is wrapped with it.
var ErrNoCredential = errors.New("the server demands NTLM authentication and ClientConfig.Credential is nil")

// answerNTLM answers demand, a 401 to a REGISTER, with the MS-SIPAE NTLM
// exchange, and returns the final answer to the REGISTER that carried the
// AUTHENTICATE. A 401 that offers no NTLM is returned as it is. Called
// with s.mu held.
func (s *Session) answerNTLM(ctx context.Context, demand *sipgo.Response) (*sipgo.Response, error) {
	offered, ok := wwwAuthenticateNTLM(demand)
	if !ok {
		return demand, nil
	}
	cred := s.c.cfg.Credential
	if cred == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoCredential, statusError(sipgo.REGISTER, demand))
	}
	offer := NTLMOffer{
		Server: s.info.Target, Addr: s.info.Addr, Transport: s.info.Transport,
		Realm: offered.Realm, TargetName: offered.TargetName,
	}
	if tc, ok := s.conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		offer.TLS = &cs
	}
	if allow := s.c.cfg.AllowNTLM; allow != nil {
		if err := allow(offer); err != nil {
			return nil, &NTLMRefusedError{Offer: offer, Err: err}
		}
	}
	version := offered.Version
	if version == 0 {
		version = NTLMVersion
	}
	negotiate, err := ntlm.NegotiateMessage()
	if err != nil {
		return nil, err
	}
	auth := NTLMAuth{QoP: "auth", Realm: offered.Realm, TargetName: offered.TargetName, GSSAPIData: negotiate, Version: version}
	res, err := s.roundTrip(ctx, s.newRegister(&auth))
	if err != nil || res.StatusCode != sipgo.StatusUnauthorized {
		return res, err
	}
	challenge, ok := wwwAuthenticateNTLM(res)
	if !ok || ntlmMessageType(challenge.GSSAPIData) != ntlmChallenge {
		return nil, fmt.Errorf("the 401 to the NTLM NEGOTIATE carries no NTLM CHALLENGE: %w", statusError(sipgo.REGISTER, res))
	}
	authenticate, err := cred.AnswerChallenge(challenge.GSSAPIData, s.c.cfg.Workstation)
	if err != nil {
		return nil, err
	}
	auth.Opaque, auth.GSSAPIData = challenge.Opaque, authenticate
	return s.roundTrip(ctx, s.newRegister(&auth))
}

// wwwAuthenticateNTLM returns the first NTLM WWW-Authenticate of res.
func wwwAuthenticateNTLM(res *sipgo.Response) (NTLMAuth, bool) {
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		if a, err := ParseNTLMAuth(h.Value()); err == nil {
			return a, true
		}
	}
	return NTLMAuth{}, false
}

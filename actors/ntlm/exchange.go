package ntlm

import (
	"fmt"
	"io"

	"github.com/Azure/go-ntlmssp"
)

// The three messages without HTTP around them, for protocols that carry
// NTLMSSP their own way (SIP per MS-SIPAE keeps the challenge in its
// security association, not in a connection).

// NegotiateMessage returns a client's NEGOTIATE message (go-ntlmssp's).
func NegotiateMessage() ([]byte, error) {
	msg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return nil, fmt.Errorf("ntlm: building NEGOTIATE: %w", err)
	}
	return msg, nil
}

// AnswerChallenge returns c's AUTHENTICATE message (NTLMv2, built by
// go-ntlmssp) for a server's CHALLENGE message, naming workstation as the
// client machine.
func (c Credential) AnswerChallenge(challenge []byte, workstation string) ([]byte, error) {
	var opts *ntlmssp.AuthenticateMessageOptions
	if workstation != "" {
		opts = &ntlmssp.AuthenticateMessageOptions{WorkstationName: workstation}
	}
	msg, err := ntlmssp.NewAuthenticateMessage(challenge, c.logonName(), c.Password.Reveal(), opts)
	if err != nil {
		return nil, fmt.Errorf("ntlm: answering a CHALLENGE as %s: %w", c, err)
	}
	return msg, nil
}

// Challenge draws a server challenge from ServerConfig.Rand and returns
// the CHALLENGE message carrying it, stamped with ServerConfig.Now. The
// caller keeps serverChallenge for Authenticate.
func (s *Server) Challenge() (msg []byte, serverChallenge [8]byte, err error) {
	s.mu.Lock() // Rand need not be safe for concurrent use
	_, err = io.ReadFull(s.cfg.Rand, serverChallenge[:])
	s.mu.Unlock()
	if err != nil {
		return nil, serverChallenge, fmt.Errorf("ntlm: drawing a server challenge: %w", err)
	}
	return buildChallenge(serverChallenge, s.cfg.Target, s.cfg.Now()), serverChallenge, nil
}

// Authenticate judges an AUTHENTICATE message answering serverChallenge
// as Wrap does: it hands the capture to OnCapture, verifies it against
// Users (a capture-only server accepts it), reports the Result to
// OnResult and returns the identity, or the reason for refusing it.
func (s *Server) Authenticate(msg []byte, serverChallenge [8]byte) (Identity, error) {
	a, err := ParseAuthenticate(msg)
	if err != nil {
		s.report(Result{Err: err})
		return Identity{}, err
	}
	res := Result{User: a.User, Domain: a.Domain, Workstation: a.Workstation}
	c, err := capturedFrom(a, serverChallenge)
	if err == nil {
		if s.cfg.OnCapture != nil {
			s.cfg.OnCapture(c)
		}
		if len(s.cfg.Users) > 0 {
			err = s.check(c)
		}
	}
	res.Err = err
	s.report(res)
	if err != nil {
		return Identity{}, err
	}
	return Identity{User: a.User, Domain: a.Domain, Workstation: a.Workstation}, nil
}

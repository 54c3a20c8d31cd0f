package sip

import (
	"errors"
	"fmt"
	"strings"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
)

// NTLMAuthenticator judges MS-SIPAE NTLM for a Front End: Challenge draws
// a server challenge and returns the CHALLENGE message carrying it;
// Authenticate verifies an AUTHENTICATE answering that challenge and
// returns the account, or why it was refused (ntlm.ErrWrongPassword,
// ntlm.ErrUnknownUser, *ntlm.MalformedError, ...). *ntlm.Server satisfies
// it, reporting every AUTHENTICATE to its OnCapture and OnResult.
// Implementations must be safe for concurrent use.
type NTLMAuthenticator interface {
	Challenge() (msg []byte, serverChallenge [8]byte, err error)
	Authenticate(msg []byte, serverChallenge [8]byte) (ntlm.Identity, error)
}

var _ NTLMAuthenticator = (*ntlm.Server)(nil)

// ntlmAssociation is a CHALLENGE a Front End sent on a client connection:
// the opaque that names it and the server challenge the AUTHENTICATE must
// answer. It is used once.
type ntlmAssociation struct {
	opaque    string
	challenge [8]byte
}

// NTLMError is a Front End refusing a client's MS-SIPAE NTLM
// authentication: the AUTHENTICATE did not verify, came without a
// CHALLENGE on its connection (or with another connection's opaque), or
// the Authorization header was not usable NTLM. The REGISTER is answered
// 403 with the reason in a Warning header.
type NTLMError struct {
	// User, Domain and Workstation are the names the AUTHENTICATE
	// carried; empty when there was none or it did not parse.
	User, Domain, Workstation string
	// Err is the cause: ntlm.ErrWrongPassword, ntlm.ErrUnknownUser,
	// ntlm.ErrNoChallenge, *ntlm.MalformedError, *ntlm.NotNTLMv2Error, or
	// a header syntax error.
	Err error
}

// Error reads "NTLM authentication of CONTOSO\alice from ALICE-PC failed:
// ntlm: NTLMv2 response does not verify (wrong password)".
func (e *NTLMError) Error() string {
	var b strings.Builder
	b.WriteString("NTLM authentication")
	if e.User != "" {
		b.WriteString(" of " + ntlmAccount(e.Domain, e.User))
		if e.Workstation != "" {
			b.WriteString(" from " + e.Workstation)
		}
	}
	b.WriteString(" failed: " + e.Err.Error())
	return b.String()
}

func (e *NTLMError) Unwrap() error { return e.Err }

// ntlmAccount is DOMAIN\user, or user without a domain.
func ntlmAccount(domain, user string) string {
	if domain == "" {
		return user
	}
	return domain + `\` + user
}

// authenticateNTLM runs one step of the MS-SIPAE NTLM exchange (see
// NTLMAuth) for a REGISTER on a client connection that has not
// authenticated. It returns nil when req carries an AUTHENTICATE that
// verified: in.peer.Auth is then set and the REGISTER goes on. Otherwise
// it returns the answer: 401 with the offer (no Authorization, or another
// scheme), 401 with a CHALLENGE (a NEGOTIATE), or 403 recording an
// *NTLMError (an AUTHENTICATE that did not verify, anything else).
func (f *FrontEnd) authenticateNTLM(in *inbound, req *sipgo.Request) *sipgo.Response {
	offer := NTLMAuth{Realm: NTLMRealm, TargetName: f.node.fqdn, Version: NTLMVersion}
	refuse := func(e *NTLMError) *sipgo.Response {
		return f.node.refuse(in, req, sipgo.StatusForbidden, Rejection{Err: e})
	}
	var cred *NTLMAuth
	for _, h := range req.GetHeaders("Authorization") {
		a, err := ParseNTLMAuth(h.Value())
		if errors.Is(err, errNotNTLM) {
			continue
		}
		if err != nil {
			return refuse(&NTLMError{Err: fmt.Errorf("Authorization header: %w", err)})
		}
		cred = &a
		break
	}
	if cred == nil {
		return f.demandNTLM(req, offer)
	}
	switch ntlmMessageType(cred.GSSAPIData) {
	case ntlmNegotiate:
		msg, challenge, err := f.cfg.NTLM.Challenge()
		if err != nil {
			return f.node.refuse(in, req, sipgo.StatusInternalServerError, Rejection{Err: &NTLMError{Err: err}})
		}
		in.ntlm = &ntlmAssociation{opaque: f.node.ids.token()[:8], challenge: challenge}
		offer.Opaque, offer.GSSAPIData = in.ntlm.opaque, msg
		return f.demandNTLM(req, offer)
	case ntlmAuthenticate:
		sa := in.ntlm
		in.ntlm = nil // a CHALLENGE answers one AUTHENTICATE
		e := &NTLMError{}
		if a, err := ntlm.ParseAuthenticate(cred.GSSAPIData); err == nil {
			e.User, e.Domain, e.Workstation = a.User, a.Domain, a.Workstation
		}
		if sa == nil || sa.opaque != cred.Opaque {
			e.Err = ntlm.ErrNoChallenge
			return refuse(e)
		}
		id, err := f.cfg.NTLM.Authenticate(cred.GSSAPIData, sa.challenge)
		if err != nil {
			e.Err = err
			return refuse(e)
		}
		in.peer.Auth = &AuthInfo{Scheme: ntlmScheme, User: id.User, Domain: id.Domain, Workstation: id.Workstation}
		return nil
	}
	return refuse(&NTLMError{Err: errors.New("gssapi-data is not an NTLMSSP NEGOTIATE or AUTHENTICATE message")})
}

// demandNTLM answers req 401 with a WWW-Authenticate header carrying
// offer.
func (f *FrontEnd) demandNTLM(req *sipgo.Request, offer NTLMAuth) *sipgo.Response {
	res := f.node.respond(req, sipgo.StatusUnauthorized, "")
	res.AppendHeader(sipgo.NewHeader("WWW-Authenticate", offer.String()))
	return res
}

// accountMayRegister reports whether the account a connection
// authenticated as may register the SIP address user ("alice@contoso.com"):
// its user name is the address's user part ("alice", any NTLM domain) or
// the whole address in UPN form, both without regard to case. The lab has
// no directory mapping accounts to SIP addresses beyond that.
func accountMayRegister(a *AuthInfo, user string) bool {
	local, _, _ := strings.Cut(user, "@")
	return strings.EqualFold(a.User, local) || strings.EqualFold(a.User, user)
}

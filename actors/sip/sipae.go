package sip

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MS-SIPAE (Skype for Business / Lync SIP authentication) carries NTLMSSP
// in SIP headers. The Front End demands it on REGISTER with 401 and a
// WWW-Authenticate header; the client answers in an Authorization header:
//
//	REGISTER                                   (no Authorization)
//	401  WWW-Authenticate: NTLM realm="SIP Communications Service", targetname="fe01.contoso.com", version=4
//	REGISTER  Authorization: NTLM qop="auth", realm="SIP Communications Service", targetname="fe01.contoso.com", gssapi-data="<NEGOTIATE>", version=4
//	401  WWW-Authenticate: NTLM opaque="<id>", realm=..., targetname=..., gssapi-data="<CHALLENGE>", version=4
//	REGISTER  Authorization: NTLM qop="auth", opaque="<id>", realm=..., targetname=..., gssapi-data="<AUTHENTICATE>", version=4
//	200 OK, or 403 Forbidden with a Warning giving the reason
//
// gssapi-data is the NTLMSSP message in base64; opaque names the security
// association the server keeps between its CHALLENGE and the AUTHENTICATE.

// Constants of the MS-SIPAE NTLM headers.
const (
	// NTLMRealm is the realm every Skype for Business server announces.
	NTLMRealm = "SIP Communications Service"
	// NTLMVersion is the MS-SIPAE protocol version the lab speaks.
	NTLMVersion = 4
	// ntlmScheme is the authentication scheme name.
	ntlmScheme = "NTLM"
)

// NTLMAuth is the parameters of an MS-SIPAE NTLM WWW-Authenticate or
// Authorization header value. Parameters it does not model (crand, cnum,
// response, srand, rspauth: message signatures, which the lab does not
// implement) are ignored when parsing.
type NTLMAuth struct {
	// QoP is "auth" in a client's Authorization; empty in a challenge.
	QoP string
	// Opaque names the server's security association: set in the 401
	// that carries the CHALLENGE and echoed in the AUTHENTICATE.
	Opaque string
	// Realm is NTLMRealm.
	Realm string
	// TargetName is the server's FQDN, "fe01.contoso.com".
	TargetName string
	// GSSAPIData is the NTLMSSP message (base64 on the wire); nil when the
	// header carries none.
	GSSAPIData []byte
	// Version is the protocol version; 0 leaves it out.
	Version int
}

// String formats a as a header value: "NTLM qop="auth", opaque="...",
// realm="...", targetname="...", gssapi-data="...", version=4", leaving
// out empty parameters.
func (a NTLMAuth) String() string {
	var params []string
	quoted := func(name, value string) {
		if value != "" {
			params = append(params, name+"="+strconv.Quote(value))
		}
	}
	quoted("qop", a.QoP)
	quoted("opaque", a.Opaque)
	quoted("realm", a.Realm)
	quoted("targetname", a.TargetName)
	if a.GSSAPIData != nil {
		params = append(params, `gssapi-data="`+base64.StdEncoding.EncodeToString(a.GSSAPIData)+`"`)
	}
	if a.Version != 0 {
		params = append(params, "version="+strconv.Itoa(a.Version))
	}
	return ntlmScheme + " " + strings.Join(params, ", ")
}

// errNotNTLM is ParseNTLMAuth's error for a header of another scheme.
var errNotNTLM = errors.New("not an NTLM credential or challenge")

// ParseNTLMAuth parses an MS-SIPAE NTLM WWW-Authenticate or Authorization
// header value. It fails for another scheme (Kerberos, TLS-DSK, Digest),
// for parameters that do not parse, and for gssapi-data that is not
// base64.
func ParseNTLMAuth(value string) (NTLMAuth, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
	if !strings.EqualFold(scheme, ntlmScheme) {
		return NTLMAuth{}, fmt.Errorf("%q: %w", scheme, errNotNTLM)
	}
	params, err := parseAuthParams(rest)
	if err != nil {
		return NTLMAuth{}, err
	}
	a := NTLMAuth{QoP: params["qop"], Opaque: params["opaque"], Realm: params["realm"], TargetName: params["targetname"]}
	if data, ok := params["gssapi-data"]; ok {
		if a.GSSAPIData, err = base64.StdEncoding.DecodeString(data); err != nil {
			return NTLMAuth{}, fmt.Errorf("gssapi-data is not base64: %w", err)
		}
	}
	if v, ok := params["version"]; ok {
		if a.Version, err = strconv.Atoi(v); err != nil {
			return NTLMAuth{}, fmt.Errorf("version %q is not a number", v)
		}
	}
	return a, nil
}

// parseAuthParams parses RFC 3261 auth-params, `name=token` or
// `name="quoted string"` separated by commas, into lower-cased names and
// unquoted values.
func parseAuthParams(s string) (map[string]string, error) {
	params := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return params, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("auth parameter %q has no value", s)
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var value string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("auth parameter %s: unterminated quoted string", name)
			}
			value, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			value, s = strings.TrimSpace(s[:end]), s[end:]
		}
		params[name] = value
	}
}

// NTLMSSP message types (MS-NLMP 2.2.1).
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3
)

// ntlmMessageType returns the MessageType of an NTLMSSP message, or 0 when
// msg does not start with the NTLMSSP signature.
func ntlmMessageType(msg []byte) uint32 {
	if len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[8:12])
}

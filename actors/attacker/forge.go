package attacker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	sipgo "github.com/emiago/sipgo/sip"
)

// ForgedMessage declares a SIP MESSAGE the attacker writes itself, to
// inject into a session it holds (Proxy.Inject) or to send as a server it
// impersonates (ImpersonateMTLS). Build it with Request.
type ForgedMessage struct {
	// From is the claimed sender, "alice@contoso.com". Required.
	From string
	// To is the recipient and Request-URI, "bob@contoso.com". Required.
	To string
	// Body is the text/plain body: where the attacker's canary goes.
	Body string
	// ViaHost and ViaPort are the sent-by of the Via header; empty means
	// "mallory.invalid". Transport is its transport; empty means "TLS".
	ViaHost   string
	ViaPort   int
	Transport string
	// CallID, FromTag and Branch identify the transaction; empty means
	// random (crypto/rand).
	CallID, FromTag, Branch string
}

// Request builds the MESSAGE: Via, Max-Forwards 70, From with tag, To,
// Call-ID, CSeq 1 MESSAGE, Content-Type text/plain and the body.
func (m ForgedMessage) Request() (*sipgo.Request, error) {
	from, err := parseSIPAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("attacker: forged From: %w", err)
	}
	to, err := parseSIPAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("attacker: forged To: %w", err)
	}
	host, transport := m.ViaHost, m.Transport
	if host == "" {
		host = "mallory.invalid"
	}
	if transport == "" {
		transport = "TLS"
	}
	branch := m.Branch
	if branch == "" {
		branch = sipgo.RFC3261BranchMagicCookie + token()
	}
	req := sipgo.NewRequest(sipgo.MESSAGE, to)
	vp := sipgo.NewParams()
	vp.Add("branch", branch)
	req.AppendHeader(&sipgo.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport, Host: host, Port: m.ViaPort, Params: vp})
	mf := sipgo.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	fp := sipgo.NewParams()
	fp.Add("tag", orToken(m.FromTag))
	req.AppendHeader(&sipgo.FromHeader{Address: from, Params: fp})
	req.AppendHeader(&sipgo.ToHeader{Address: to})
	callID := sipgo.CallIDHeader(orToken(m.CallID))
	req.AppendHeader(&callID)
	req.AppendHeader(&sipgo.CSeqHeader{SeqNo: 1, MethodName: sipgo.MESSAGE})
	ct := sipgo.ContentTypeHeader("text/plain")
	req.AppendHeader(&ct)
	req.SetBody([]byte(m.Body))
	return req, nil
}

func parseSIPAddress(s string) (sipgo.Uri, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(strings.ToLower(s), "sip:") {
		s = "sip:" + s
	}
	var u sipgo.Uri
	if err := sipgo.ParseUri(s, &u); err != nil || u.User == "" || u.Host == "" {
		return sipgo.Uri{}, fmt.Errorf("%q is not a SIP address user@domain", s)
	}
	return u, nil
}

func orToken(s string) string {
	if s != "" {
		return s
	}
	return token()
}

// token returns 16 random hex digits.
func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

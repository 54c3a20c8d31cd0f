package sip_test

import (
	"bufio"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/tlslab/tlslab/actors/ntlm"
	"github.com/tlslab/tlslab/actors/sip"
)

// rawUA speaks SIP over a plaintext connection by hand, for requests the
// Client never sends.
type rawUA struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	cseq int
}

func dialRaw(t *testing.T, tp *topo, addr string) *rawUA {
	t.Helper()
	c, err := tp.alice.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawUA{t: t, conn: c, r: bufio.NewReader(c)}
}

// register sends alice's REGISTER with auth as its Authorization (none
// when nil) and returns the answer.
func (u *rawUA) register(auth *sip.NTLMAuth) *sipgo.Response {
	u.t.Helper()
	u.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:contoso.com SIP/2.0\r\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/TCP %s;branch=z9hG4bKraw%d\r\n", u.conn.LocalAddr(), u.cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:alice@contoso.com>;tag=raw\r\nTo: <sip:alice@contoso.com>\r\n")
	fmt.Fprintf(&b, "Call-ID: raw-%p\r\nCSeq: %d REGISTER\r\n", u, u.cseq)
	if auth != nil {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := u.conn.Write([]byte(b.String())); err != nil {
		u.t.Fatal(err)
	}
	var head strings.Builder
	for {
		line, err := u.r.ReadString('\n')
		if err != nil {
			u.t.Fatalf("reading the answer: %v", err)
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	msg, err := sipgo.NewParser().ParseSIP([]byte(head.String()))
	if err != nil {
		u.t.Fatal(err)
	}
	return msg.(*sipgo.Response)
}

// challenge is the NTLM WWW-Authenticate of res.
func challenge(t *testing.T, res *sipgo.Response) sip.NTLMAuth {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if res.StatusCode != 401 || h == nil {
		t.Fatalf("answer %d without a demand, want 401", res.StatusCode)
	}
	a, err := sip.ParseNTLMAuth(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestNTLMChallengePerConnection: the CHALLENGE is bound to the
// connection it was sent on. Alice's AUTHENTICATE, replayed on another
// connection with the same opaque, is refused with ntlm.ErrNoChallenge's
// reason; on its own connection it verifies, once.
func TestNTLMChallengePerConnection(t *testing.T) {
	tp := newTopo(t)
	withNTLM(t, tp)
	tp.fe01.PlainAddr = fe01IP + ":5060"
	d := tp.start(t)
	own := dialRaw(t, tp, fe01IP+":5060")
	offer := challenge(t, own.register(nil))
	if !reflect.DeepEqual(offer, sip.NTLMAuth{Realm: sip.NTLMRealm, TargetName: "fe01.contoso.com", Version: 4}) {
		t.Errorf("first demand %+v", offer)
	}
	negotiate, err := ntlm.NegotiateMessage()
	if err != nil {
		t.Fatal(err)
	}
	auth := sip.NTLMAuth{QoP: "auth", Realm: sip.NTLMRealm, TargetName: "fe01.contoso.com", GSSAPIData: negotiate, Version: 4}
	ch := challenge(t, own.register(&auth))
	if ch.Opaque == "" || len(ch.GSSAPIData) == 0 {
		t.Fatalf("second demand %+v, want an opaque and a CHALLENGE", ch)
	}
	msg, err := aliceAccount.AnswerChallenge(ch.GSSAPIData, "ALICE-PC")
	if err != nil {
		t.Fatal(err)
	}
	auth.Opaque, auth.GSSAPIData = ch.Opaque, msg

	const reason = `fe01: NTLM authentication of CONTOSO\alice from ALICE-PC failed: ntlm: AUTHENTICATE without a CHALLENGE on this connection`
	other := dialRaw(t, tp, fe01IP+":5060")
	if res := other.register(&auth); res.StatusCode != 403 || res.GetHeader("Warning") == nil ||
		res.GetHeader("Warning").Value() != `399 fe01.contoso.com "`+strings.ReplaceAll(reason, `\`, `\\`)+`"` {
		t.Errorf("replay on another connection: %s", res.StartLine())
	}
	if res := own.register(&auth); res.StatusCode != 200 {
		t.Errorf("AUTHENTICATE on its own connection: %s %v", res.StartLine(), res.GetHeader("Warning"))
	}
	if err := equalReasons(d.fe01.Rejections(), reason); err != nil {
		t.Error(err)
	}
	if regs := d.fe01.Registrations(); len(regs) != 1 || regs[0].Peer.Auth == nil || regs[0].Peer.Auth.User != "alice" || regs[0].Peer.Listener != "plain" {
		t.Errorf("registrations %+v, want alice's on her own connection", regs)
	}
}

package attacker_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"strings"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/netsim"
)

// A victim whose name lookup was hijacked dials the attacker's own
// address. The attacker answers with a self-signed certificate for the
// name asked; the victim refuses it, and the attacker's record shows the
// alert it received.
func ExampleProxy() {
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	alice := w.NewHost("alice", netsim.HostConfig{})
	mallory := w.NewHost("mallory", netsim.HostConfig{})
	alice.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.50/24")})
	mallory.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.66/24")})
	enterprise, _ := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Clock: w.Now})

	p, _ := attacker.NewProxy(attacker.ProxyConfig{
		Host: mallory, Port: 5061, SIP: true,
		Victim:   attacker.VictimTLS{Certs: attacker.SelfSigned(w.Now, "")},
		Upstream: attacker.SIPResponder{},
	})
	p.Start(context.Background())
	defer p.Close()

	c, _ := alice.Dial("tcp", "10.0.0.66:5061") // pool01.contoso.com, says the rogue DNS
	err := tls.Client(c, &tls.Config{ServerName: "pool01.contoso.com", RootCAs: enterprise.Pool(), Time: w.Now}).Handshake()
	c.Close()
	fmt.Println("alice:", err)
	for p.Sessions()[0].End.IsZero() {
		time.Sleep(time.Millisecond)
	}
	s := p.Sessions()[0]
	fmt.Println("mallory presented:", s.VictimSide.Certificate.Source, "for", s.VictimSide.ServerName)
	fmt.Println("mallory received:", s.VictimSide.Err)
	// Output:
	// alice: tls: failed to verify certificate: x509: certificate signed by unknown authority
	// mallory presented: self-signed certificate per SNI for pool01.contoso.com
	// mallory received: remote error: tls: bad certificate
}

// A forgery covers the names and types it was given; the answer keeps the
// query's ID and question, as a stub resolver demands.
func ExampleDNSForgery_Answer() {
	f := attacker.DNSForgery{
		Names:     []string{"_sipfederationtls._tcp.fabrikam.com"},
		SRVTarget: "sip.evil.com", A: netip.MustParseAddr("203.0.113.66"),
	}
	q := new(miekg.Msg)
	q.SetQuestion("_sipfederationtls._tcp.fabrikam.com.", miekg.TypeSRV)
	q.Id = 4711
	a := f.Answer(q)
	fmt.Println(a.Id, a.Answer[0])
	fmt.Println(a.Extra[0])
	q.SetQuestion("sip.fabrikam.com.", miekg.TypeA)
	fmt.Println(f.Answer(q) == nil)
	// Output:
	// 4711 _sipfederationtls._tcp.fabrikam.com.	300	IN	SRV	0 100 5061 sip.evil.com.
	// sip.evil.com.	300	IN	A	203.0.113.66
	// true
}

// The forged MESSAGE an attacker injects or sends as an impersonated
// server: identifiers fixed here, random when left empty.
func ExampleForgedMessage() {
	req, _ := attacker.ForgedMessage{
		From: "alice@contoso.com", To: "bob@contoso.com", Body: "wire the money",
		ViaHost: "fe02.contoso.com", CallID: "c1", FromTag: "t1", Branch: "z9hG4bKb1",
	}.Request()
	fmt.Print(strings.ReplaceAll(req.String(), "\r\n", "\n"))
	// Output:
	// MESSAGE sip:bob@contoso.com SIP/2.0
	// Via: SIP/2.0/TLS fe02.contoso.com;branch=z9hG4bKb1
	// Max-Forwards: 70
	// From: <sip:alice@contoso.com>;tag=t1
	// To: <sip:bob@contoso.com>
	// Call-ID: c1
	// CSeq: 1 MESSAGE
	// Content-Type: text/plain
	// Content-Length: 14
	//
	// wire the money
}

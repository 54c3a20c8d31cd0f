package sip_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"

	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/netsim"
)

// must panics on error; examples have no *testing.T.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Example runs the smallest deployment: one Front End serving
// pool01.contoso.com, and alice sending dave a message. The Front End's
// Deliveries are the proof that the canary arrived, and over what.
func Example() {
	ctx := context.Background()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	defer w.Close()
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	aliceHost := w.NewHost("alice", netsim.HostConfig{})
	must(aliceHost.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.50/24")}))
	feHost := w.NewHost("fe01", netsim.HostConfig{})
	must(feHost.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.11/24")}))

	ca := must(makeCA("Contoso Enterprise Root CA", w.Now()))
	fe := must(sip.NewFrontEnd(sip.FrontEndConfig{
		FQDN: "fe01.contoso.com", Pool: "pool01.contoso.com", Domain: "contoso.com", Net: feHost,
		ClientAddr: "10.0.0.11:5061",
		ClientTLS:  &tls.Config{Certificates: []tls.Certificate{must(ca.make("fe01.contoso.com", "pool01.contoso.com"))}},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe01.contoso.com",
			"dave@contoso.com":  "fe01.contoso.com",
		}),
		Now: w.Now,
	}))
	if err := fe.Start(ctx); err != nil {
		panic(err)
	}
	defer fe.Close()

	dns := newFakeDNS() // the lab's DNS actor in a scenario
	dns.setSRV("_sip._tls.contoso.com", "pool01.contoso.com", 5061)
	dns.setA("pool01.contoso.com", "10.0.0.11")
	alice := must(sip.NewClient(sip.ClientConfig{
		User: "alice@contoso.com", Resolver: dns, Dialer: aliceHost,
		TLS: &tls.Config{RootCAs: ca.pool(), Time: w.Now}, Now: w.Now,
	}))
	res, err := alice.SendMessage(ctx, "dave@contoso.com", "canary-1234")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Conn.Target, res.Conn.Addr, res.Conn.TLS.VersionName(), res.Conn.TLS.PeerSubject)
	for _, d := range fe.Deliveries() {
		fmt.Printf("%s: %s -> %s %q over %s\n", d.Node, d.From, d.To, d.Body, d.Peer.Transport)
	}
	// Output:
	// pool01.contoso.com 10.0.0.11:5061 TLS 1.3 CN=fe01.contoso.com
	// fe01: alice@contoso.com -> dave@contoso.com "canary-1234" over TLS
}

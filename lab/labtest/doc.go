// Package labtest attacks your own TLS code from your own go test suite,
// in the shape of net/http/httptest, on tlslab's simulated network, actors
// and verdict oracle:
//
//	w := labtest.NewWorld(t, labtest.WithSeed(7))
//	lan := w.LAN("lan", netip.MustParsePrefix("10.0.0.0/24"))
//	client, api := lan.Host("client"), lan.Host("api")
//	ca := w.CA("Example Root")
//	api.ServeHTTP(443, &tls.Config{Certificates: []tls.Certificate{ca.ServerCert("api.lan")}}, handler)
//	w.MITM(client, api, 443, labtest.ByARP(), labtest.Presenting(ca.OtherName("mallory.lan")))
//	_, _ = client.HTTPClient(myTLSConfig(ca.Pool())).Post("https://api.lan/login", "text/plain",
//		strings.NewReader(w.Canary("client").String()))
//	labtest.RequireHeld(t, w.Result(), lab.DefenseHostnameCheck)
//
// A World belongs to one test: t.Cleanup stops everything it started and
// closes the network. Every segment is captured and every TLS session's
// secrets are logged; when the test fails, the pcapng and the NSS key log
// are written to t.ArtifactDir (run go test -artifacts to keep them) and
// Wireshark or tshark decrypts the one with the other.
//
// Hosts get their LAN's addresses in order from .10 and resolve each
// other as "<host>.<lan>" through a DNS server at .2. Host.HTTPClient,
// Host.DialTLS, Host.ServeTLS and Host.ServeHTTP run the test's own
// tls.Configs and record their refusals (lab.ClassifyRefusal's defense and
// the exact error) and the attacker identities they accepted.
//
// Attacks start in order and return once in position, or fail the test:
// World.MITM (ByARP, ByGateway, ByRogueDNS; Presenting a certificate,
// PassThrough, Strip), World.Eavesdrop, World.ImpersonateClient. World.Result
// is the lab's verdict (lab.Decide): broken when a compromise was seen,
// held only when a defense was seen refusing an attack that was carried
// out. RequireHeld, RequireBroken and the gomega matchers BeHeld,
// BeBroken, HaveStoppedBy and HaveEvidence check it. RunCatalog runs a
// catalog of lab.Scenarios as subtests.
package labtest

// Package labtest attacks your own TLS code from your own go test suite,
// in the shape of net/http/httptest, on tlslab's simulated network, actors
// and verdict oracle:
//
//	w := labtest.NewWorld(t, labtest.WithSeed(7))           // t.Cleanup closes it
//	client, api := w.Host("client"), w.Host("api")          // on 10.0.0.0/24; "api.lan" resolves
//	ca := w.CA("Example Root")
//	api.ServeHTTP(443, ca.ServerConfig("api.lan"), handler) // your service
//	w.MITM(client, api, 443, labtest.ByARP(), labtest.Presenting(ca.OtherName("mallory.lan")))
//	_, _ = client.HTTPClient(myTLSConfig(ca.Pool())).Post("https://api.lan/login", "text/plain",
//		strings.NewReader(w.Canary("client").String()))      // your client's tls.Config
//	labtest.RequireHeld(t, w.Result(), lab.DefenseHostnameCheck)
//
// A World belongs to one test: t.Cleanup stops everything it started and
// closes the network. Every segment is captured and every TLS session's
// secrets are logged; when the test fails, the pcapng and the NSS key log
// are written to t.ArtifactDir (run go test -artifacts to keep them) and
// Wireshark or tshark decrypts the one with the other.
//
// World.Host puts hosts on one LAN, "lan" (10.0.0.0/24); World.LAN makes
// others and World.Router joins them. Hosts get their LAN's addresses in
// order from .10 and resolve each other as "<host>.<lan>" through each
// LAN's DNS server at .2. Host.DialContext,
// Host.Listen, Host.ServeTCP, Host.DialTLS, Host.HTTPClient, Host.ServeTLS
// and Host.ServeHTTP run the test's own code and tls.Configs and record
// their refusals (lab.ClassifyRefusal's defense and the exact error; an
// error of the config's own VerifyPeerCertificate or VerifyConnection that
// names no known cause is DefenseOwnCheck's) and the attacker identities
// they accepted. World.CA issues the certificate cases of tlslab's
// catalog (CA.OtherName, CA.Expired, CA.NotYetValid, CA.WrongEKU,
// CA.Revoked with CRL and OCSP served in the World, World.SelfSigned);
// Forgeries lists those a client must refuse by itself, with the defense
// that refuses each.
//
// Attacks start in order and return once in position, or fail the test:
// World.MITM (ByARP, ByGateway, ByRogueDNS; Presenting a certificate,
// PassThrough, Strip), World.Eavesdrop, World.ImpersonateClient. World.Result
// is the lab's verdict (lab.Decide): broken when a compromise was seen,
// held only when a defense was seen refusing an attack that was carried
// out, else error; a World without an attack passes when a canary was
// delivered (World.Received). RequireHeld, RequireBroken, RequireVerdict
// and the gomega matchers BeHeld, BeBroken, HaveStoppedBy and
// HaveEvidence check it.
//
// For a catalog of your own, Scenario writes a lab.Scenario's Run with the
// same World API, on the run's network and evidence; RunCatalog runs a
// catalog as subtests, with each scenario's capture and key log in its
// artifact directory and, optionally, a JUnit report (WithJUnit,
// WithReplayHint). lab.RegisterLabel and lab.RegisterDefense add labels
// and defenses of your own.
package labtest

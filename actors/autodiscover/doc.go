// Package autodiscover is the Lync / Skype for Business autodiscover web
// service and the client's documented chain for finding its SIP pool.
//
// # The service
//
// Service is an http.Handler answering GET
// /autodiscover/autodiscoverservice.svc/root with a JSON document shaped
// like Lync's ("_links" with "self", "user" and "xframe"), to which it adds
// the SIP pool the client needs (SipServerInternalAccess and
// SipServerExternalAccess, named after the elements of Lync's user
// resource; see Root). Serve it over HTTPS on port 443 with a web
// certificate naming WebNames(domain) (lyncdiscoverinternal.<domain> and
// lyncdiscover.<domain>), and, where the deployment avoids a SAN that
// way, over plain HTTP on port 80.
//
// # The client
//
// Discover finds the pool as the Lync client does (see Discover for the
// order and the rules), recording every step it takes: what it asked, who
// answered, which certificate it checked and with what verdict, and why a
// candidate was taken or refused:
//
//	res, err := autodiscover.Discover(ctx, autodiscover.Config{
//		SIPDomain: "contoso.com", Resolver: stub, Dialer: alice,
//		RootCAs: roots, Policy: autodiscover.Policy{HTTPSOnly: true, StrictDNSNaming: true},
//	})
//	for _, s := range res.Steps { log.Print(s) }
//
// Policy holds the client's switches as plain fields; the lab maps its
// defenses onto them.
package autodiscover

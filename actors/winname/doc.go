// Package winname resolves host names as a Windows client does, and
// answers for them as Windows hosts and the Responder tool do.
//
// Windows asks DNS first. When DNS denies a name (NXDOMAIN, or no record of
// the type asked), it asks the link: LLMNR (RFC 4795), a DNS-format query
// multicast to 224.0.0.252:5355, then NBT-NS (RFC 1002), a NetBIOS name
// query broadcast to the subnet's port 137. Whoever answers first is
// believed. An attacker on the LAN answering every name (Responder's
// "poisoning") thereby takes any name DNS does not know: a mistyped share,
// "wpad", a single-label name the DNS suffix search missed. Names DNS
// answers never reach the link, and a DNS time-out does not fall back.
//
// # Resolving
//
// A Resolver wraps the host's DNS stub resolver (actors/dns) and a Querier
// that sends the link-local queries (NewNetQuerier, over a netsim host).
// Each fallback has its own switch; both are off in the zero value:
//
//	q, err := winname.NewNetQuerier(winname.NetQuerierConfig{Net: alice})
//	r, err := winname.NewResolver(winname.ResolverConfig{
//		DNS: stub, Querier: q, LLMNR: true, NBTNS: true,
//		OnStep: func(s winname.Step) { log.Print(s) },
//	})
//	addrs, err := r.LookupNetIP(ctx, "ip4", "fileserv")
//
// Every question is a Step (protocol, name, who answered, with which
// addresses, or why not), reported to OnStep and kept by Resolver.Steps, so
// a scenario can show how a name was resolved. Resolver implements the
// lookup interface of actors/dns and actors/sip, so any actor can use it.
//
// # Responding
//
// A Responder answers LLMNR queries on port 5355 and NBNS name queries on
// port 137 with its configured address: for its own name only
// (AnswerOwnName, a Windows host) or for every name (AnswerEveryName, the
// attacker). Serve takes the two sockets; AnswerLLMNR and AnswerNBNS are
// the answer logic on their own. Every answer sent is recorded.
//
// # Messages
//
// LLMNR messages are DNS messages (github.com/miekg/dns). NBNS messages
// are encoded here (NBNSPacket, ParseNBNS): the name query request and the
// positive name query response, with RFC 1001 first-level name encoding.
// Tests check both against tshark's dissectors.
package winname

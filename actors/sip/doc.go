// Package sip is the lab's Skype for Business style SIP deployment: user
// agents (Client), Front End servers of a pool (FrontEnd) and Edge servers
// that federate with partners (Edge), all running on netsim hosts. SIP
// messages are built and parsed with github.com/emiago/sipgo's sip package;
// this package frames them on the connections it is given (Content-Length
// delimited, RFC 3261 §18.3) and never opens a real socket.
//
// # The model
//
// alice@contoso.com signs in from the internal LAN. Her client finds the
// pool through SRV _sip._tls.contoso.com (then _sipinternaltls._tcp), dials
// the target on 5061 over TLS with the TLS server name set to the target, so
// crypto/tls checks the chain and the name, and sends REGISTER and MESSAGE.
// The Front End delivers a message for a user homed on it, relays it over
// MTLS to the user's home Front End, or relays it to the Edge when the
// recipient is in another domain. The Edge finds the partner's Edge through
// _sipfederationtls._tcp.<domain>, and relays over MTLS; the partner's Edge
// relays to its Front End, which delivers.
//
// Every defense the trust model names is on by default and has one switch:
// plaintext fallback (ClientConfig.AllowPlaintextFallback), the trusted
// server list (SkipTrustedServerCheck), the partner allow-list
// (EdgeConfig.AllowAnyPartner), the SRV target check
// (EdgeConfig.AllowSRVTargetOutsideDomain); chain, hostname and
// client-certificate checks are the caller's tls.Configs.
//
// # Use
//
//	reg := sip.NewRegistrar(map[string]string{
//		"alice@contoso.com": "fe01.contoso.com",
//		"bob@contoso.com":   "fe02.contoso.com",
//	})
//	fe01, err := sip.NewFrontEnd(sip.FrontEndConfig{
//		FQDN: "fe01.contoso.com", Pool: "pool01.contoso.com", Domain: "contoso.com",
//		Net:        fe01Host,                  // *netsim.Host
//		ClientAddr: "10.0.0.11:5061", ClientTLS: clientFacingTLS,
//		ServerAddr: "10.0.0.11:5062", ServerTLS: mtls, // RequireAndVerifyClientCert
//		Peers:          map[string]string{"fe02.contoso.com": "10.0.0.12:5062"},
//		Registrar:      reg,
//		TrustedServers: []string{"fe01.contoso.com", "fe02.contoso.com"},
//		Now:            world.Now,
//	})
//	err = fe01.Start(ctx)   // listening when it returns
//	defer fe01.Close()      // stops and waits for every goroutine
//
//	alice, err := sip.NewClient(sip.ClientConfig{
//		User: "alice@contoso.com", Resolver: dns, Dialer: aliceHost,
//		TLS:  &tls.Config{RootCAs: enterpriseRoots, Time: world.Now},
//		Now:  world.Now,
//	})
//	res, err := alice.SendMessage(ctx, "bob@contoso.com", canary)
//
// # User authentication (NTLM)
//
// By default the lab models no user authentication: the trust model under
// test is the transport's. FrontEndConfig.NTLM (an *ntlm.Server with the
// directory) makes a Front End demand MS-SIPAE NTLM on REGISTER: 401 with
// WWW-Authenticate, a NEGOTIATE, 401 with the CHALLENGE and an opaque,
// the AUTHENTICATE, then 200 or 403 with the exact reason (NTLMAuth shows
// the headers). The client answers with ClientConfig.Credential after
// ClientConfig.AllowNTLM, its policy, has judged the NTLMOffer (which
// server, over what TLS): a refusal sends nothing and Register fails with
// an *NTLMRefusedError.
//
//	fe01Cfg.NTLM, _ = ntlm.NewServer(ntlm.ServerConfig{Users: directory, Rand: runRand, Now: world.Now})
//	aliceCfg.Credential = &ntlm.Credential{User: "alice", Domain: "CONTOSO", Password: pw}
//	aliceCfg.AllowNTLM = func(o sip.NTLMOffer) error { ... }
//
// A verified connection's Registration, Deliveries and Rejections carry
// the account in Peer.Auth; a refused AUTHENTICATE is a Rejection whose
// Err is an *NTLMError wrapping ntlm.ErrWrongPassword and the like:
//
//	fe01: NTLM authentication of CONTOSO\alice from ALICE-PC failed: ntlm: NTLMv2 response does not verify (wrong password)
//
// # Observing
//
// Verdicts are observed, never assumed. FrontEnd.Deliveries is the proof a
// message reached its recipient: sender, recipient, body, the Via path, and
// the connection it came on, including the verified identity of the MTLS
// peer that handed it over. Relays records each hop a server forwarded.
// Rejections records every refusal with its exact reason,
// "<server>: <cause>":
//
//	fe02: MTLS peer fe99.contoso.com is not in the trusted server list
//	edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority
//	edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com
//	edge01: partner domain fabrikam.com is not in the federation allow-list
//
// A refused request is also answered with that reason in a Warning header,
// so the client's *StatusError carries it back. Client errors wrap the
// standard library's, so errors.As finds *tls.CertificateVerificationError
// and x509.HostnameError, and the text reads, for example,
// "tls: failed to verify certificate: x509: certificate is valid for
// mallory.contoso.com, not pool01.contoso.com".
//
// # Connections and time
//
// Every exchange (dial, handshake, request and its answer) is bounded by the
// config's Timeout on the config's Now clock, which should be the World's.
// A server connection idle for Timeout is closed. Relays open one MTLS
// connection per request. Close stops listeners and connections and waits
// for every goroutine; nothing outlives it.
package sip

// Package attacker holds the lab's attackers: small pieces that put an
// attacker on the path of a victim's traffic, act there, and report what
// they actually obtained. They only observe; the lab decides the verdict
// (broken when the attacker obtained a canary, the victim accepted the
// attacker's identity, or the victim accepted a message it injected).
// Every attacker's report is a copy, safe to take while it runs.
//
// # Getting on the path
//
// An ARPSpoofer poisons the ARP caches of two (or more) hosts on a
// segment so that each sends its frames for the other to the attacker's
// MAC; the attacker's host, a netsim router, forwards what it does not
// intercept:
//
//	mallory := world.NewRouter("mallory", netsim.HostConfig{})
//	nic, _ := mallory.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix("10.0.0.66/24")})
//	arp, _ := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: nic, Victims: []netip.Addr{alice, fe01}})
//	err := arp.Start(ctx) // resolves both, poisons both, repeats every 2s
//	defer arp.Close()
//	for _, p := range arp.Report().Positions { fmt.Println(p) } // "10.0.0.50 -> 10.0.0.11 intercepted (12 frames)"
//
// Hosts whose cache policy is netsim.ARPAcceptSolicited or ARPStaticOnly,
// or that pinned the entry with SetStaticARP, ignore the poison, and the
// report says "not intercepted". RogueGateway is the configuration-level
// position (a rogue DHCP offer); a PositionMonitor observes either.
// Hijacked DNS (below) is the third way in.
//
// # Man in the middle
//
// A Proxy accepts, with netsim's transparent listener, every TCP connection
// that reaches the attacker's host for one port, whatever address it was
// for. Its Victim side says how to answer the victim, its Upstream side how
// to reach the real server, and it relays and records the bytes between
// them:
//
//	p, _ := attacker.NewProxy(attacker.ProxyConfig{
//		Host: mallory, Port: 5061, SIP: true,
//		Victim:   attacker.VictimTLS{Certs: attacker.ForgedByCA(evilCA, "pool01.contoso.com")},
//		Upstream: attacker.UpstreamTLS{}, // verifies nothing
//	})
//	err := p.Start(ctx)
//	defer p.Close()
//	rep := p.Report(canaries)
//	rep.Found                        // canaries read in plaintext
//	rep.Sessions[0].VictimSide.Err   // "remote error: tls: bad certificate": the victim refused
//	rep.Sessions[0].VictimSide.Alert // fatal alert bad_certificate (42): its alert, read exactly
//
// The victim's side reads the alert a refusing victim sent from its raw
// handshake bytes when it came in plaintext (any TLS 1.2 refusal, and
// OpenSSL 3.0's TLS 1.3 ones, which crypto/tls cannot decrypt), else from
// crypto/tls's remote error; lab.ClassifyAlert names the defense an alert
// shows, where real clients send it for one cause only.
//
// The certificate sources are the ways a MITM can try: SelfSigned,
// ForgedByCA (a leaf per SNI, as interception proxies do), OwnCertificate
// (valid, for the attacker's own name), MisIssuedCertificate (a trusted CA
// issued the victim's name to the attacker), StolenCertificate,
// ExpiredCertificate and NotYetValidCertificate, WrongEKUCertificate. A
// hardened victim accepts only the mis-issued and the stolen ones.
//
// Other pairings of the two sides are the other attacks:
//
//	VictimPlain + UpstreamPlain        passthrough: only ciphertext is seen
//	VictimRefuse on 5061, and
//	VictimPlain + UpstreamTLS{Port: 5061} on 5060
//	                                   TLS stripping of a client that falls back to plaintext
//	Downgrade(certs, tls.VersionTLS10) a TLS 1.0-only server: "protocol version not supported"
//	VictimTLS + SIPResponder           the attacker plays the server (after a DNS hijack)
//	SIPResponder{NTLM: captureOnly}    a rogue registrar demanding NTLM (MS-SIPAE): the
//	                                   victim's NTLMv2 response goes to OnCapture
//
// A HelloDowngrader is the other downgrade: a frame hook that rewrites the
// ClientHello on its way to the real server to offer TLS 1.2 only, which a
// TLS 1.3 client detects ("tls: downgrade attempt detected, possibly due to
// a MitM attack or a broken middlebox").
//
// With SIP set, the proxy relays whole SIP messages and Inject slips a
// forged request (ForgedMessage) into a session the server accepted, as the
// victim; the server's delivery records show whether it took it.
//
// # Stolen keys, read later
//
// A KeyEavesdropper is a passive tap holding a server's stolen private
// key. It decrypts captured TLS 1.2 sessions that used static RSA key
// exchange, and says why it cannot decrypt the others:
//
//	eve := attacker.NewKeyEavesdropper(poolCred.Key, 0)
//	defer lan.AddTap(eve)()
//	rep := eve.Report(canaries)
//	rep.Conns[0].Err // "session used ECDHE key exchange: the server key cannot recover the premaster secret"
//
// # DNS
//
// The attackers share a DNSForgery (which names, which A address, which SRV
// target). RogueDNS serves it when the attacker is the victim's name
// server; a DNSSpoofer answers queries as they pass an on-path position
// (AttachNIC after ARP spoofing, AttachSegment as a switch hook) and wins
// the race; a BlindSpoofer floods guesses from off the path and wins only
// against a resolver with sequential IDs and a fixed port. A poisoned
// _sipfederationtls._tcp SRV record steers an Edge to the attacker; the
// Edge's domain check and certificate validation are what stop it. DNSSEC
// validation rejects every forgery of a signed zone.
//
// # Denial and impersonation
//
// A Blocker drops every frame to or from some hosts (a CRL and OCSP host)
// from a segment hook or a router's forward hook, and counts them.
// ImpersonateMTLS connects to a server's MTLS port with whatever client
// certificate the attacker has and, if the handshake completes, sends a
// forged MESSAGE; its result holds the exact error or the server's answer.
//
// # Time
//
// Every attacker reads time from the World's clock (repetitions, ARP
// retries, records, deadlines), so inside a testing/synctest bubble they
// run on virtual time. Close stops whatever an attacker started and waits
// for it.
package attacker

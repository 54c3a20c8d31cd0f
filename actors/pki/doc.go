// Package pki is the lab's public key infrastructure: certification
// authorities that issue and revoke certificates, a server publishing their
// CRLs and OCSP answers inside the simulation, and the revocation checker
// that crypto/tls lacks. Scenarios build the enterprise root and issuing CA,
// a partner's CA, a public CA trusted by everyone, or the attacker's own
// with the same few calls.
//
// # Hierarchies
//
// A root is declared with RootConfig and an issuing CA below it with
// IntermediateConfig. Each CA may name a CRL distribution point and an OCSP
// responder; every certificate it issues carries them.
//
//	root, err := pki.NewRootCA(pki.RootConfig{
//		CommonName: "Contoso Root CA",
//		Clock:      world.Now,
//		CRLURL:     "http://pki.contoso.com/crl/contoso-root.crl",
//		OCSPURL:    "http://pki.contoso.com/ocsp",
//	})
//	issuing, err := root.NewIntermediate(pki.IntermediateConfig{
//		CommonName: "Contoso Issuing CA",
//		CRLURL:     "http://pki.contoso.com/crl/contoso-issuing.crl",
//		OCSPURL:    "http://pki.contoso.com/ocsp",
//	})
//
// A CA never reads the wall clock: validity windows, revocation times, CRLs
// and OCSP responses come from its Clock (normally the World's) or from
// explicit times.
//
// # Issuing
//
// Issue mints server, client or server+client certificates (Purpose), or
// any chosen extended key usages for "wrong EKU" scenarios, with DNS and IP
// names, any validity window (expired, not yet valid), an ECDSA (P-256,
// P-384, P-521), Ed25519 or RSA (1024 to 8192 bits) key, a chosen signature
// algorithm (SHA-1 included: crypto/x509 signs it, and refuses to verify
// it), a subject layout (SubjectLayout: no CN, CN only, empty subject), key
// usage and basic constraints. The Credential it returns holds a
// tls.Certificate whose chain runs from the leaf to the issuing CA (the
// root is not sent), the parsed leaf, and the private key an attacker may
// steal. NewIntermediate can put name constraints on a sub-CA.
//
//	pool, err := issuing.Issue(pki.CertRequest{
//		DNSNames: []string{"pool01.contoso.com", "contoso.com"},
//		Purpose:  pki.PurposeServerClient,
//	})
//	serverTLS := &tls.Config{Certificates: []tls.Certificate{pool.TLS}}
//
// IssueServer is the short form for a plain server certificate.
//
// # Revoking and publishing
//
// Revoke records a revocation with reason and time; the CA's next CRL
// lists it and its OCSP answers say revoked. A RevocationServer serves the
// CRLs at their distribution points and OCSP at /ocsp; run it on the PKI
// host inside the simulation:
//
//	err = issuing.Revoke(pool.Leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{})
//	rs, err := pki.NewRevocationServer(root, issuing)
//	l, err := pkiHost.Listen("tcp", ":80")
//	go (&http.Server{Handler: rs}).Serve(l)
//
// # Checking
//
// crypto/tls checks no revocation. A Checker does, as the peer's
// tls.Config.VerifyConnection: for each certificate of the verified chain
// but the root, OCSP first, then the CRL, with signatures checked against
// the issuer and freshness against Now. Mode says what happens when no
// answer is usable: RevocationSoftFail accepts, RevocationHardFail rejects.
// Dial reaches the PKI host through the simulation; the caller resolves
// names (a DNS actor, or a fixed map).
//
//	var log pki.ObservationLog
//	checker := &pki.Checker{
//		Mode:    pki.RevocationHardFail,
//		Dial:    func(ctx context.Context, network, addr string) (net.Conn, error) { ... alice.DialContext ... },
//		Now:     world.Now,
//		Timeout: 2 * time.Second,
//		Observe: log.Observe,
//	}
//	clientTLS := &tls.Config{
//		RootCAs:          root.Pool(),
//		ServerName:       "pool01.contoso.com",
//		Time:             world.Now,
//		VerifyConnection: checker.VerifyConnection,
//	}
//
// A client's Handshake then fails with the Checker's own error, unwrapped,
// which scenarios assert exactly:
//
//	pki: certificate "pool01.contoso.com" (serial 0x3) revoked at 2026-03-02T12:00:00Z, reason keyCompromise (OCSP http://pki.contoso.com/ocsp)
//	pki: revocation status of "pool01.contoso.com" unavailable: OCSP http://pki.contoso.com/ocsp: dial tcp 10.0.0.80:80: i/o timeout; CRL http://pki.contoso.com/crl/contoso-issuing.crl: dial tcp 10.0.0.80:80: i/o timeout
//
// and the ObservationLog holds lines for the evidence, including what
// soft-fail let through:
//
//	revocation: "pool01.contoso.com" (serial 0x3) unavailable, soft-fail accepted: OCSP http://pki.contoso.com/ocsp: dial tcp 10.0.0.80:80: i/o timeout; ...
//
// Chain and name errors stay the standard library's own
// (x509.HostnameError, x509.UnknownAuthorityError,
// x509.CertificateInvalidError).
//
// # Randomness
//
// Serial numbers are read from RootConfig.Rand (shared by the CAs below a
// root unless they set their own). Since Go 1.26, crypto/ecdsa and
// crypto/rsa key generation and signing ignore a caller's reader and always
// use a secure source (unless GODEBUG=cryptocustomrand=1); tests that need
// deterministic keys use testing/cryptotest.SetGlobalRandom.
package pki

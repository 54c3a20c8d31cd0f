// Package pki is the lab's certification authority: it mints root CAs and
// issues server certificates from them, so scenarios can build the enterprise
// CA, a public CA, a partner's CA or a rogue one with the same few calls.
//
// A CA is created from a declared RootConfig and never reads the wall clock:
// every validity window is derived from RootConfig.Now (normally the World's
// clock) or from explicit times in a request. Keys are ECDSA P-256.
//
//	ca, err := pki.NewRootCA(pki.RootConfig{
//		CommonName:   "Contoso Enterprise Root CA",
//		Organization: "Contoso",
//		Now:          world.Now(),
//	})
//	cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"pool01.contoso.com"}})
//	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
//	clientTLS := &tls.Config{RootCAs: ca.Pool(), ServerName: "pool01.contoso.com", Time: world.Now}
//
// Certificates are ordinary crypto/x509 certificates, so verification errors
// are the standard library's own (x509.HostnameError,
// x509.UnknownAuthorityError, x509.CertificateInvalidError) and scenarios can
// assert their exact messages.
//
// Randomness: serial numbers are read from RootConfig.Rand. Since Go 1.26,
// crypto/ecdsa key generation and signing ignore a caller's reader and always
// use a secure source (unless GODEBUG=cryptocustomrand=1); tests that need
// deterministic keys use testing/cryptotest.SetGlobalRandom.
package pki

// Package linemsg is a minimal instant-message protocol that carries a
// scenario's canary between two hosts, in plaintext or inside TLS. It stands in
// for SIP MESSAGE until the sip actors exist, so the lab can already ask the
// questions a verdict needs: did the victim's server accept the message, and
// did the bytes on the wire reveal it?
//
// # Wire format
//
// One message per connection. The client sends one line and the server
// answers one line:
//
//	C: MSG <body>\n
//	S: OK\n                      (or "ERR <reason>\n" on a malformed request)
//
// The client then closes; the server waits for that close (bounded by its
// deadline) before closing itself, so the client always speaks last and
// unbuffered transports such as net.Pipe never see both ends writing at once.
//
// # Use
//
//	srv := linemsg.NewServer(linemsg.ServerConfig{TLS: serverTLS})
//	go srv.Serve(ctx, ln)                // returns when ln closes or ctx ends
//	conn, _ := host.DialContext(ctx, "tcp", "pool01.contoso.com:5061")
//	err := linemsg.NewClient(linemsg.ClientConfig{TLS: clientTLS}).Send(ctx, conn, canary)
//	srv.Received()                        // bodies the server accepted
//
// Errors are *OpError values that wrap the exact cause, so a scenario can
// assert, for example, errors.As(err, new(*tls.CertificateVerificationError))
// and the message "tls: failed to verify certificate: x509: ...".
package linemsg

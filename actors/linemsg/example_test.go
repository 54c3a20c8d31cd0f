package linemsg_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/tlslab/tlslab/actors/internal/pipenet"
	"github.com/tlslab/tlslab/actors/linemsg"
	"github.com/tlslab/tlslab/actors/pki"
)

func Example() {
	ctx := context.Background()
	ln := pipenet.Listen("pool01.contoso.com:5061")
	srv := linemsg.NewServer(linemsg.ServerConfig{})
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()

	conn, err := ln.Dial(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("send:", linemsg.NewClient(linemsg.ClientConfig{}).Send(ctx, conn, "canary-1234"))

	ln.Close()
	fmt.Println("serve:", <-done) // waits for the exchange to finish
	fmt.Println("received:", srv.Received())
	// Output:
	// send: <nil>
	// serve: <nil>
	// received: [canary-1234]
}

// A client that dials a name the server's certificate does not carry refuses
// the handshake; the server never sees the message.
func Example_hostnameMismatch() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Now: now})
	if err != nil {
		panic(err)
	}
	cert, err := ca.IssueServer(pki.ServerRequest{DNSNames: []string{"pool01.contoso.com"}})
	if err != nil {
		panic(err)
	}
	clock := func() time.Time { return now }

	ln := pipenet.Listen("mallory:5061")
	srv := linemsg.NewServer(linemsg.ServerConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, Time: clock}})
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()

	conn, err := ln.Dial(ctx)
	if err != nil {
		panic(err)
	}
	client := linemsg.NewClient(linemsg.ClientConfig{TLS: &tls.Config{RootCAs: ca.Pool(), ServerName: "sip.contoso.com", Time: clock}})
	fmt.Println(client.Send(ctx, conn, "canary-1234"))

	ln.Close()
	<-done
	fmt.Println("received:", srv.Received())
	fmt.Println("server:", srv.Errors())
	// Output:
	// linemsg: handshake mallory:5061: tls: failed to verify certificate: x509: certificate is valid for pool01.contoso.com, not sip.contoso.com
	// received: []
	// server: [linemsg: handshake client-1: remote error: tls: bad certificate]
}

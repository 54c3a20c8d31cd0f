// Package dnstest serves a zone on a simulated host for tests: the
// authoritative server the actors' fixtures ask, in one place.
package dnstest

import (
	"context"
	"testing"

	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/internal/netsimtest"
	"github.com/tlslab/tlslab/netsim"
)

// Serve runs an authoritative server for origin, with the records of
// zone (zone-file text), on h's UDP and TCP port 53 until the test ends;
// it fails t on error.
func Serve(t testing.TB, h *netsim.Host, origin, zone string) {
	t.Helper()
	z, err := dns.ParseZone(origin, zone)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{z}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := h.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := h.Listen("tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	netsimtest.GoServe(t, "DNS server", func(ctx context.Context) error { return srv.Serve(ctx, pc, ln) })
}

package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sockaddrIP matches the address of an IPv4 or IPv6 socket address in
// strace's output: sin_addr=inet_addr("10.0.0.1") or
// inet_pton(AF_INET6, "::1", &sin6_addr).
var sockaddrIP = regexp.MustCompile(`inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"`)

// A bridge run touches the machine's network only on loopback: strace
// follows tlslab and the real programs it starts (openssl on both ends
// of bridge/openssl-both-legs, the CONNECT front of
// bridge/openssl-client-dns-proxy) and every bind and connect of an
// IPv4 or IPv6 socket is to 127.0.0.0/8 or ::1. The bridges refuse any
// other address before opening a socket (netsim's
// TestBridgeRefusesNonLoopback).
func TestBridgeRunSocketsOnLoopbackOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the tlslab binary")
	}
	for _, prog := range []string{"strace", "openssl"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not on PATH but CI=true: .ci/run must install it", prog)
			}
			t.Skipf("%s is not installed", prog)
		}
	}
	bin, err := tlslabBinary()
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command("strace", "-f", "-qq", "-e", "trace=bind,connect", "-o", trace,
		bin, "run", "bridge/openssl-both-legs", "bridge/openssl-client-dns-proxy")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tlslab run under strace: %v\n%s", err, out)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	for _, line := range strings.Split(string(data), "\n") {
		m := sockaddrIP.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		calls++
		addr, err := netip.ParseAddr(m[1] + m[2])
		if err != nil {
			t.Errorf("cannot read the address in %q: %v", line, err)
			continue
		}
		if !addr.Unmap().IsLoopback() {
			t.Errorf("a socket off loopback: %s", line)
		}
	}
	// tlslab's two bridges in, the CONNECT front, the real server's
	// bridge out, the programs' own sockets: a dozen calls at least.
	if calls < 6 {
		t.Errorf("strace saw %d bind/connect calls on IP sockets, want the bridges' and programs' (6 or more):\n%s", calls, data)
	}
}

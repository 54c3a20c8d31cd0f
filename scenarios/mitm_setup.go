package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
	"github.com/tlslab/tlslab/netsim"
)

// Mallory's place on the Contoso LAN, and the victims the MITM family
// puts her between.
var (
	malloryAddr = netip.MustParsePrefix("10.0.0.66/24")
	aliceIP     = netip.MustParseAddr("10.0.0.10")
	fe01IP      = netip.MustParseAddr("10.0.0.11")
	pki01IP     = netip.MustParseAddr("10.0.0.80")
)

// mallory is the attacker's machine on contoso-lan: a netsim router, so
// it forwards what it does not intercept.
type mallory struct {
	host *netsim.Host
	nic  *netsim.NIC
	ca   *pki.CA // Mallory Root CA, when she runs one
}

// placeMallory adds mallory's router to contoso-lan as 10.0.0.66.
func placeMallory(env *lab.Env, c *contoso.Deployment) (*mallory, error) {
	h, nic, err := c.AttachHost("mallory", "contoso-lan", malloryAddr, true)
	if err != nil {
		return nil, err
	}
	return &mallory{host: h, nic: nic}, nil
}

// arpPosition starts ARP spoofing between victims, records the attempt,
// and waits for its outcome at alice: her ARP cache mapping fe01's address
// to mallory's MAC, or her cache refusing mallory's claim (an ARP policy
// stricter than accept-any), which it records as the arp-policy's
// refusal. Under the spoofer-silent sabotage nothing is sent and nothing
// is recorded. stop, never nil on success, stops the spoofer.
func (m *mallory) arpPosition(ctx context.Context, env *lab.Env, c *contoso.Deployment, victims ...netip.Addr) (stop func(), err error) {
	if spooferSilent(env) {
		return func() {}, nil
	}
	arp, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: m.nic, Victims: victims})
	if err != nil {
		return nil, err
	}
	if started, err := startSpoofing(ctx, env, arp); !started {
		arp.Close()
		return func() {}, err
	}
	names := make([]string, len(victims))
	for i, v := range victims {
		names[i] = v.String()
	}
	env.Evidence.Reached("mallory", lab.MilestoneAttempted, "ARP spoofing on contoso-lan: claims every address of %s for her MAC %v",
		strings.Join(names, ", "), m.nic.MAC())
	alice, fe01 := c.Host("alice"), c.Host("fe01")
	awaitARPAnswers(ctx, m.nic.MAC(), [2]*netsim.Host{alice, fe01})[0].note(env, m.nic.MAC())
	return func() { arp.Close() }, nil
}

// startSpoofing starts arp and reports whether mallory sent her claims.
// When her ARP requests for the victims go unanswered (she is cut off),
// she never gets on the path: that is recorded as an attempt that got
// nowhere, and the run goes on, rather than as a failed run.
func startSpoofing(ctx context.Context, env *lab.Env, arp *attacker.ARPSpoofer) (started bool, err error) {
	sctx, cancel := context.WithTimeout(ctx, eventWait)
	defer cancel()
	err = arp.Start(sctx)
	var unresolved *attacker.UnresolvedError
	switch {
	case errors.As(err, &unresolved):
		env.Evidence.Reached("mallory", lab.MilestoneAttempted, "ARP spoofing on contoso-lan: her ARP requests for %v went unanswered (%v); she sent no claim",
			unresolved.Addrs, unresolved.Err)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("scenarios: mallory's ARP spoofing: %w", err)
	}
	return true, nil
}

// gatewayPosition makes mallory alice's next hop towards fe01 (a rogue
// DHCP offer or ICMP redirect), and records alice's route. Under the
// spoofer-silent sabotage it changes nothing.
func (m *mallory) gatewayPosition(env *lab.Env, c *contoso.Deployment) error {
	if spooferSilent(env) {
		return nil
	}
	alice := c.Host("alice")
	dst := netip.PrefixFrom(fe01IP, 32)
	if err := attacker.RogueGateway(alice, malloryAddr.Addr(), dst); err != nil {
		return fmt.Errorf("scenarios: mallory as alice's gateway: %w", err)
	}
	for _, r := range alice.Routes() {
		if len(r) > len(dst.String()) && r[:len(dst.String())] == dst.String() {
			env.Evidence.Notef("mallory", "rogue gateway: alice's routing table sends %s via %v (mallory)", dst, malloryAddr.Addr())
			return nil
		}
	}
	return fmt.Errorf("scenarios: alice's routes %q lack %s", alice.Routes(), dst)
}

// serveRevocation runs a pki.RevocationServer for ca on mallory's port 80
// until the returned stop is called: the attacker answers for its own CA.
func (m *mallory) serveRevocation(ca *pki.CA) (stop func(), err error) {
	rs, err := pki.NewRevocationServer(ca)
	if err != nil {
		return nil, err
	}
	ln, err := m.host.Listen("tcp", ":80")
	if err != nil {
		return nil, fmt.Errorf("scenarios: mallory listening on :80: %w", err)
	}
	srv := &http.Server{Handler: rs, ReadHeaderTimeout: time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		srv.Close()
		<-done
	}, nil
}

// rejectPKI makes mallory answer, in pki01's place, every TCP connection
// to port 80 she intercepts (pki01 being one of her ARP victims) and reset
// it as soon as the request starts: alice's OCSP and CRL requests fail
// immediately, as behind a firewall that rejects them, rather than after a
// time-out. It counts the
// connections; stop closes the listener and waits for it.
func (m *mallory) rejectPKI() (count func() int, stop func(), err error) {
	ln, err := m.host.ListenTransparent("tcp", ":80")
	if err != nil {
		return nil, nil, fmt.Errorf("scenarios: mallory intercepting pki01's port 80: %w", err)
	}
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			// Close with the request unread: the client gets a reset,
			// whatever the timing, as from a firewall that rejects.
			var b [1]byte
			_, _ = conn.Read(b[:])
			conn.Close()
		}
	}()
	count = func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
	return count, func() { ln.Close(); <-done }, nil
}

package scenarios

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
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

// positionWait bounds how long a scenario waits for mallory's position to
// show in the victims' ARP caches.
const positionWait = 50 * time.Millisecond

// mallory is the attacker's machine on contoso-lan: a netsim router, so
// it forwards what it does not intercept.
type mallory struct {
	host *netsim.Host
	nic  *netsim.NIC
	ca   *pki.CA // Mallory Root CA, when she runs one
}

// placeMallory adds mallory's router to contoso-lan as 10.0.0.66.
func placeMallory(env *lab.Env, c *lab.Contoso) (*mallory, error) {
	h, nic, err := c.AttachHost("mallory", "contoso-lan", malloryAddr, true)
	if err != nil {
		return nil, err
	}
	return &mallory{host: h, nic: nic}, nil
}

// arpPosition starts ARP spoofing between victims and waits, under
// positionWait, until alice's ARP cache maps fe01's address to mallory's
// MAC. It reports whether mallory is in position and what alice's cache
// says, as an evidence line for mallory. The caller closes the spoofer.
func (m *mallory) arpPosition(ctx context.Context, c *lab.Contoso, victims ...netip.Addr) (*attacker.ARPSpoofer, bool, string, error) {
	arp, err := attacker.NewARPSpoofer(attacker.ARPSpoofConfig{NIC: m.nic, Victims: victims})
	if err != nil {
		return nil, false, "", err
	}
	sctx, cancel := context.WithTimeout(ctx, refusalWait)
	defer cancel()
	if err := arp.Start(sctx); err != nil {
		arp.Close()
		return nil, false, "", fmt.Errorf("scenarios: mallory's ARP spoofing: %w", err)
	}
	alice := c.Host("alice")
	poisoned := func() bool { return macEqual(alice.ARPTable()[fe01IP], m.nic.MAC()) }
	in := waitFor(ctx, positionWait, poisoned)
	got := alice.ARPTable()[fe01IP]
	var line string
	switch {
	case in:
		line = fmt.Sprintf("ARP spoofing on contoso-lan: alice's ARP cache maps %v (fe01) to %v, mallory's MAC, not fe01's %v",
			fe01IP, got, nicMAC(c.Host("fe01"), fe01IP))
	case got == nil:
		line = fmt.Sprintf("ARP spoofing on contoso-lan failed: alice's ARP cache (policy %v) has no entry for %v", alice.ARPPolicy(), fe01IP)
	default:
		line = fmt.Sprintf("ARP spoofing on contoso-lan failed: alice's ARP cache (policy %v) still maps %v (fe01) to %v, fe01's own MAC",
			alice.ARPPolicy(), fe01IP, got)
	}
	return arp, in, line, nil
}

// gatewayPosition makes mallory alice's next hop towards fe01 (a rogue
// DHCP offer or ICMP redirect), and records alice's route.
func (m *mallory) gatewayPosition(env *lab.Env, c *lab.Contoso) error {
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

// nicMAC returns the MAC of h's NIC with address a, or nil.
func nicMAC(h *netsim.Host, a netip.Addr) net.HardwareAddr {
	if h == nil {
		return nil
	}
	for _, n := range h.NICs() {
		if n.Addr() == a {
			return n.MAC()
		}
	}
	return nil
}

func macEqual(a, b net.HardwareAddr) bool {
	return a != nil && a.String() == b.String()
}

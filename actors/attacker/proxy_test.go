package attacker_test

import (
	"crypto/x509"
	"errors"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
)

// attemptErr is the error of alice's last connection attempt, "" when she
// connected.
func attemptErr(err error) string {
	var ce *sip.ConnectError
	if errors.As(err, &ce) && len(ce.Attempts) > 0 {
		return errText(ce.Attempts[len(ce.Attempts)-1].Err)
	}
	return errText(err)
}

// TestProxyCertificateSources intercepts alice's TLS to pool01 with each
// certificate source. Only a certificate for the right name from a CA
// alice trusts, with its key, gets the attacker her plaintext; every other
// source is refused with the exact x509 reason, and the attacker sees the
// alert.
func TestProxyCertificateSources(t *testing.T) {
	type row struct {
		name  string
		certs func(t *testing.T, o *office) attacker.CertSource
		// aliceErr is the exact error of alice's handshake ("" when it
		// completes); alert what the attacker's side of it reports.
		aliceErr, alert string
	}
	must := func(src attacker.CertSource, err error) attacker.CertSource {
		if err != nil {
			panic(err)
		}
		return src
	}
	rows := []row{
		{
			name: "self-signed",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				return attacker.SelfSigned(o.w.Now, "pool01.contoso.com")
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate signed by unknown authority",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "forged by the attacker's CA",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				evil, err := pki.NewRootCA(pki.RootConfig{CommonName: "Mallory Root CA", Clock: o.w.Now})
				if err != nil {
					t.Fatal(err)
				}
				return attacker.ForgedByCA(evil, "pool01.contoso.com")
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate signed by unknown authority",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "valid certificate for mallory.contoso.com",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				cred, err := o.ca.Issue(pki.CertRequest{DNSNames: []string{"mallory.contoso.com"}})
				if err != nil {
					t.Fatal(err)
				}
				return attacker.OwnCertificate(cred)
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "expired",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				return must(attacker.ExpiredCertificate(o.ca, o.w.Now(), "pool01.contoso.com"))
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2000-01-01T00:00:00Z is after 1999-01-01T00:00:00Z",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "not yet valid",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				return must(attacker.NotYetValidCertificate(o.ca, o.w.Now(), "pool01.contoso.com"))
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2000-01-01T00:00:00Z is before 2001-01-01T00:00:00Z",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "wrong EKU",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				return must(attacker.WrongEKUCertificate(o.ca, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, "pool01.contoso.com"))
			},
			aliceErr: "tls: failed to verify certificate: x509: certificate specifies an incompatible key usage",
			alert:    "remote error: tls: bad certificate",
		},
		{
			name: "mis-issued by the trusted CA",
			certs: func(t *testing.T, o *office) attacker.CertSource {
				return must(attacker.MisIssuedCertificate(o.ca, "pool01.contoso.com"))
			},
		},
		{
			name:  "stolen server key",
			certs: func(t *testing.T, o *office) attacker.CertSource { return attacker.StolenCertificate(o.fe01Cred) },
		},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOffice(t, officeConfig{})
				fe := o.startFE(t, o.feCfg)
				o.spoof(t)
				certs := r.certs(t, o)
				p := o.proxy(t, attacker.ProxyConfig{Port: 5061, SIP: true, Victim: attacker.VictimTLS{Certs: certs}, Upstream: attacker.UpstreamTLS{}})
				canary := "canary-" + r.name
				_, err := o.client(t, nil).SendMessage(t.Context(), "dave@contoso.com", canary)
				if got := attemptErr(err); got != r.aliceErr {
					t.Errorf("alice's handshake: %q, want %q", got, r.aliceErr)
				}
				synctest.Wait()
				rep := p.Report([]string{canary})
				if len(rep.Sessions) != 1 {
					t.Fatalf("sessions: %+v, want 1", rep.Sessions)
				}
				s := rep.Sessions[0]
				if s.VictimSide.Certificate == nil || s.VictimSide.Certificate.Source != certs.String() {
					t.Errorf("presented %+v, want from %q", s.VictimSide.Certificate, certs.String())
				}
				broken := r.aliceErr == ""
				if s.End.IsZero() || s.Err != r.alert {
					t.Errorf("session ended %v with %q, want an end with %q", s.End, s.Err, r.alert)
				}
				if s.VictimSide.Completed != broken || s.VictimSide.Err != r.alert {
					t.Errorf("victim side completed %v err %q, want %v %q", s.VictimSide.Completed, s.VictimSide.Err, broken, r.alert)
				}
				// alice speaks TLS 1.3: crypto/tls decrypts her alert.
				var wantAlert *attacker.TLSAlert
				if !broken {
					wantAlert = &attacker.TLSAlert{Level: 2, Description: 42, Name: "bad_certificate"}
				}
				if !reflect.DeepEqual(s.VictimSide.Alert, wantAlert) {
					t.Errorf("victim side alert %v, want %v", s.VictimSide.Alert, wantAlert)
				}
				if got := len(rep.Found) == 1; got != broken {
					t.Errorf("canary found %v, want %v", rep.Found, broken)
				}
				delivered := slices.ContainsFunc(fe.Deliveries(), func(d sip.Delivery) bool { return d.Body == canary })
				if delivered != broken {
					t.Errorf("delivered through the attacker: %v, want %v", delivered, broken)
				}
				if broken && (s.UpstreamSide.Err != "" || s.FromVictim == 0 || len(s.Messages) < 4) {
					t.Errorf("relay: %+v", s)
				}
				t.Logf("%+v", s)
			})
		})
	}
}

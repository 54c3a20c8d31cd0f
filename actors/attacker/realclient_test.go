package attacker_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/attacker"
	"github.com/tlslab/tlslab/actors/pki"
)

// realName is the name every real client asks for.
const realName = "pool01.contoso.com"

// realPKI is what the real clients trust, and the attacker's side for
// each case.
type realPKI struct {
	// dir holds CA.pem (the root the clients trust), crl.pem (its CRL,
	// listing the revoked case's certificate), stale-CA.pem and
	// stale-crl.pem (a root whose CRL expired three weeks ago).
	dir   string
	sides map[string]attacker.VictimTLS // by case
}

// newRealPKI makes the roots, CRLs and certificates of every case, on the
// wall clock the real programs read.
func newRealPKI(t *testing.T) *realPKI {
	t.Helper()
	now := time.Now()
	must := func(src attacker.CertSource, err error) attacker.CertSource {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	root, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Root CA", Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	evil, err := pki.NewRootCA(pki.RootConfig{CommonName: "Mallory Root CA", Now: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(req pki.CertRequest) pki.Credential {
		t.Helper()
		cred, err := root.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	valid := attacker.FixedCertificate("valid certificate for "+realName, issue(pki.CertRequest{DNSNames: []string{realName}}).TLS)
	revoked := issue(pki.CertRequest{DNSNames: []string{realName}})
	if err := root.Revoke(revoked.Leaf.SerialNumber, pki.ReasonKeyCompromise, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	crl, err := root.CRL()
	if err != nil {
		t.Fatal(err)
	}
	// A CA whose clock stood still a month ago published a CRL that
	// expired three weeks ago (nextUpdate a week after thisUpdate).
	stale, err := pki.NewRootCA(pki.RootConfig{CommonName: "Contoso Stale Root CA", Now: now.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	staleCRL, err := stale.CRL()
	if err != nil {
		t.Fatal(err)
	}
	staleCred, err := stale.Issue(pki.CertRequest{DNSNames: []string{realName}, NotBefore: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tampered := issue(pki.CertRequest{DNSNames: []string{realName}})
	der := slices.Clone(tampered.TLS.Certificate[0])
	der[len(der)-1] ^= 1 // the last byte of the root's signature
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	other := issue(pki.CertRequest{DNSNames: []string{"mallory.contoso.com"}})
	trusted := issue(pki.CertRequest{DNSNames: []string{realName}})
	dir := t.TempDir()
	for name, block := range map[string]*pem.Block{
		"CA.pem":        {Type: "CERTIFICATE", Bytes: root.Certificate().Raw},
		"crl.pem":       {Type: "X509 CRL", Bytes: crl},
		"stale-CA.pem":  {Type: "CERTIFICATE", Bytes: stale.Certificate().Raw},
		"stale-crl.pem": {Type: "X509 CRL", Bytes: staleCRL},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	side := func(src attacker.CertSource) attacker.VictimTLS { return attacker.VictimTLS{Certs: src} }
	return &realPKI{dir: dir, sides: map[string]attacker.VictimTLS{
		caseValid:        side(valid),
		caseSelfSigned:   side(attacker.SelfSigned(time.Now, realName)),
		caseUntrustedCA:  side(attacker.ForgedByCA(evil, realName)),
		caseOtherName:    side(attacker.OwnCertificate(issue(pki.CertRequest{DNSNames: []string{"mallory.contoso.com"}}))),
		caseExpired:      side(must(attacker.ExpiredCertificate(root, now, realName))),
		caseNotYetValid:  side(must(attacker.NotYetValidCertificate(root, now, realName))),
		caseCodeSigning:  side(must(attacker.WrongEKUCertificate(root, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, realName))),
		caseRevoked:      side(attacker.FixedCertificate("revoked certificate for "+realName, revoked.TLS)),
		caseTLS10:        attacker.Downgrade(valid, tls.VersionTLS10),
		caseBadSignature: side(attacker.FixedCertificate("certificate with a tampered signature", tls.Certificate{Certificate: [][]byte{der}, PrivateKey: tampered.Key})),
		caseWrongKey:     side(attacker.FixedCertificate("trusted certificate with another key", tls.Certificate{Certificate: trusted.TLS.Certificate, PrivateKey: other.Key})),
		caseNoCRL:        side(valid),
		caseStaleCRL:     side(attacker.FixedCertificate("certificate from a CA whose CRL expired", staleCred.TLS)),
	}}
}

// The cases: what the attacker presents, and to whom.
const (
	caseValid        = "valid"            // issued for the name by the trusted root: accepted
	caseSelfSigned   = "self-signed"      // attacker.SelfSigned
	caseUntrustedCA  = "untrusted CA"     // attacker.ForgedByCA, by a root the client does not trust
	caseOtherName    = "other name"       // trusted, for mallory.contoso.com (attacker.OwnCertificate)
	caseExpired      = "expired"          // trusted, valid until a year ago
	caseNotYetValid  = "not yet valid"    // trusted, valid from a year on
	caseCodeSigning  = "code-signing EKU" // trusted, extended key usage codeSigning only
	caseBadSignature = "bad signature"    // the trusted root's signature on it altered
	caseWrongKey     = "wrong key"        // trusted, but the handshake signed with another key
	caseRevoked      = "revoked"          // trusted, listed in the CRL the client is given
	caseNoCRL        = "no CRL"           // valid, to a client told to check a CRL it does not have
	caseStaleCRL     = "stale CRL"        // valid, to a client whose only CRL for its issuer expired
	caseTLS10        = "TLS 1.0 answer"   // attacker.Downgrade to TLS 1.0, to a client whose floor is its version
)

// plainBoth is an alert sent in plaintext at TLS 1.2 and TLS 1.3.
func plainBoth(desc uint8, name string) [2]*attacker.TLSAlert {
	return [2]*attacker.TLSAlert{plain(desc, name), plain(desc, name)}
}

// plain12 is an alert sent in plaintext at TLS 1.2 and protected at
// TLS 1.3, where crypto/tls decrypts it.
func plain12(desc uint8, name string) [2]*attacker.TLSAlert {
	return [2]*attacker.TLSAlert{plain(desc, name), sealed(desc, name)}
}

func plain(desc uint8, name string) *attacker.TLSAlert {
	return &attacker.TLSAlert{Level: 2, Description: desc, Name: name, Plaintext: true}
}

func sealed(desc uint8, name string) *attacker.TLSAlert {
	return &attacker.TLSAlert{Level: 2, Description: desc, Name: name}
}

var (
	// accepted: the client completes the handshake (no alert).
	accepted = [2]*attacker.TLSAlert{}
	// notRun: the case does not apply to the client.
	notRun = [2]*attacker.TLSAlert{{Name: "not run"}, {Name: "not run"}}
)

// realAlerts is what each real client sends the attacker, measured over
// loopback (TLS 1.2 / TLS 1.3; "p" plaintext, "s" protected, which
// crypto/tls decrypts). OpenSSL 3.0 sends every alert in plaintext, even
// at TLS 1.3 after the ServerHello, where crypto/tls as the server then
// reports "local error: tls: bad record MAC" instead of the alert:
//
//	case              OpenSSL 3.0 s_client             GnuTLS 3.7.9 gnutls-cli       crypto/tls (Go 1.26)
//	valid             accepted                         accepted                      accepted
//	self-signed       unknown_ca 48 p/p                bad_certificate 42 p/s        bad_certificate 42 p/s
//	untrusted CA      unknown_ca 48 p/p                bad_certificate 42 p/s        bad_certificate 42 p/s
//	other name        bad_certificate 42 p/p           bad_certificate 42 p/s        bad_certificate 42 p/s
//	expired           certificate_expired 45 p/p       bad_certificate 42 p/s        bad_certificate 42 p/s
//	not yet valid     bad_certificate 42 p/p           bad_certificate 42 p/s        bad_certificate 42 p/s
//	code-signing EKU  unsupported_certificate 43 p/p   bad_certificate 42 p/s        bad_certificate 42 p/s
//	bad signature     decrypt_error 51 p/p             bad_certificate 42 p/s        bad_certificate 42 p/s
//	wrong key         decrypt_error 51 p/p             decrypt_error 51 p/s          illegal_parameter 47 p / decrypt_error 51 s
//	revoked           certificate_revoked 44 p/p       bad_certificate 42 p/s        (not run: no CRL check)
//	no CRL            unknown_ca 48 p/p                accepted (no hard fail)       (not run)
//	stale CRL         certificate_expired 45 p/p       (not run: won't load the CRL) (not run)
//	TLS 1.0 answer    protocol_version 70 p/p          protocol_version 70 p/p       protocol_version 70 p/p
//
// lab.ClassifyAlert's doc comment draws the defenses from this table.
var realAlerts = []struct {
	name string
	// openssl, gnutls and goTLS are the alerts the attacker reads at TLS
	// 1.2 and at TLS 1.3.
	openssl, gnutls, goTLS [2]*attacker.TLSAlert
	// opensslSays, gnutlsSays and goSays are in what each client prints
	// (or, for crypto/tls, its error): the cause it refused for.
	opensslSays, gnutlsSays, goSays string
}{
	{caseValid, accepted, accepted, accepted,
		"Verify return code: 0 (ok)", "The certificate is trusted.", "connected"},
	{caseSelfSigned, plainBoth(48, "unknown_ca"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=18:self-signed certificate", "The certificate issuer is unknown.", "x509: certificate signed by unknown authority"},
	{caseUntrustedCA, plainBoth(48, "unknown_ca"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=20:unable to get local issuer certificate", "The certificate issuer is unknown.", "x509: certificate signed by unknown authority"},
	{caseOtherName, plainBoth(42, "bad_certificate"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=62:hostname mismatch", "The name in the certificate does not match the expected.", "x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com"},
	{caseExpired, plainBoth(45, "certificate_expired"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=10:certificate has expired", "The certificate chain uses expired certificate.", "x509: certificate has expired or is not yet valid: current time"},
	{caseNotYetValid, plainBoth(42, "bad_certificate"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=9:certificate is not yet valid", "The certificate chain uses not yet valid certificate.", "x509: certificate has expired or is not yet valid: current time"},
	{caseCodeSigning, plainBoth(43, "unsupported_certificate"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=26:unsuitable certificate purpose", "The certificate chain does not match the intended purpose.", "x509: certificate specifies an incompatible key usage"},
	{caseBadSignature, plainBoth(51, "decrypt_error"), plain12(42, "bad_certificate"), plain12(42, "bad_certificate"),
		"verify error:num=7:certificate signature failure", "The signature in the certificate is invalid.", "x509: certificate signed by unknown authority"},
	{caseWrongKey, plainBoth(51, "decrypt_error"), plain12(51, "decrypt_error"), [2]*attacker.TLSAlert{plain(47, "illegal_parameter"), sealed(51, "decrypt_error")},
		"bad signature", "Public key signature verification has failed.", "tls: invalid signature by the server certificate"},
	{caseRevoked, plainBoth(44, "certificate_revoked"), plain12(42, "bad_certificate"), notRun,
		"verify error:num=23:certificate revoked", "The certificate chain is revoked.", ""},
	{caseNoCRL, plainBoth(48, "unknown_ca"), accepted, notRun,
		"verify error:num=3:unable to get certificate CRL", "The certificate is trusted.", ""},
	{caseStaleCRL, plainBoth(45, "certificate_expired"), notRun, notRun,
		"verify error:num=12:CRL has expired", "", ""},
	{caseTLS10, plainBoth(70, "protocol_version"), plainBoth(70, "protocol_version"), plainBoth(70, "protocol_version"),
		"ssl_choose_client_version:unsupported protocol", "A packet with illegal or unsupported version was received.", "tls: server selected unsupported protocol version 301"},
}

// realClient is a TLS client that dials addr (a loopback listener) as
// the case asks, ends, and returns what it printed.
type realClient func(ctx context.Context, p *realPKI, c string, version uint16, addr string) string

// tool returns the path of a program the test needs. Without it the
// test is skipped, except in CI (CI=true), where it fails.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; CI must install it (.ci/run installs %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// runProgram runs path with args and standard input empty, so that a
// client whose handshake completes ends at once, and returns its command
// line, exit status and output.
func runProgram(ctx context.Context, path string, args ...string) string {
	cmd := exec.CommandContext(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return fmt.Sprintf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, out.String())
}

// opensslClient is OpenSSL's s_client verifying the chain and the name,
// at version alone, with a CRL check for the revocation cases.
func opensslClient(path string) realClient {
	return func(ctx context.Context, p *realPKI, c string, version uint16, addr string) string {
		ca := "CA.pem"
		if c == caseStaleCRL {
			ca = "stale-CA.pem"
		}
		args := []string{"s_client", "-connect", addr, "-servername", realName, "-CAfile", filepath.Join(p.dir, ca),
			"-verify_return_error", "-verify_hostname", realName, map[uint16]string{tls.VersionTLS12: "-tls1_2", tls.VersionTLS13: "-tls1_3"}[version]}
		switch c {
		case caseRevoked:
			args = append(args, "-crl_check", "-CRL", filepath.Join(p.dir, "crl.pem"))
		case caseNoCRL:
			args = append(args, "-crl_check")
		case caseStaleCRL:
			args = append(args, "-crl_check", "-CRL", filepath.Join(p.dir, "stale-crl.pem"))
		}
		return runProgram(ctx, path, args...)
	}
}

// gnutlsClient is GnuTLS's gnutls-cli verifying the chain and the name,
// at version alone, given the CRL in the revocation case. It dials the
// address and sends the name as SNI: it resolves nothing.
func gnutlsClient(path string) realClient {
	return func(ctx context.Context, p *realPKI, c string, version uint16, addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		args := []string{"--x509cafile", filepath.Join(p.dir, "CA.pem"), "-p", port, "--sni-hostname", realName, "--verify-hostname", realName,
			"--priority", "NORMAL:-VERS-ALL:" + map[uint16]string{tls.VersionTLS12: "+VERS-TLS1.2", tls.VersionTLS13: "+VERS-TLS1.3"}[version]}
		if c == caseRevoked {
			args = append(args, "--x509crlfile", filepath.Join(p.dir, "crl.pem"))
		}
		return runProgram(ctx, path, append(args, host)...)
	}
}

// goClient is crypto/tls with the root in RootCAs, at version alone.
func goClient(ctx context.Context, p *realPKI, _ string, version uint16, addr string) string {
	pemCA, err := os.ReadFile(filepath.Join(p.dir, "CA.pem"))
	if err != nil {
		return err.Error()
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemCA)
	d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: realName, MinVersion: version, MaxVersion: version}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err.Error()
	}
	conn.Close()
	return "connected"
}

// interceptOnce has client dial a loopback listener and answers it as
// the proxy answers an intercepted connection, with side.Accept on the
// accepted connection. It returns the attacker's record of the victim's
// side and what the client printed.
func interceptOnce(t *testing.T, p *realPKI, client realClient, c string, version uint16, side attacker.VictimTLS) (attacker.Handshake, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	printed := make(chan string, 1)
	go func() {
		out := client(ctx, p, c, version, ln.Addr().String())
		ln.Close() // ends Accept for a client that never connected
		printed <- out
	}()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		cancel()
		t.Fatalf("the client never connected: %v\n%s", err, <-printed)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var hs attacker.Handshake
	if vc, _ := side.Accept(ctx, conn, &hs); vc != nil {
		vc.Close()
	}
	conn.Close()
	return hs, <-printed
}

// TestRealClientAlerts has real TLS clients (OpenSSL 3.0's s_client,
// GnuTLS's gnutls-cli, crypto/tls) dial the attacker's VictimTLS over
// loopback, with each case of realAlerts at TLS 1.2 and at TLS 1.3, and
// checks that the attacker's side reads exactly the alert each sends, as
// the proxy would on an intercepted connection, and that the client
// refused for the case's cause. Without openssl or gnutls-cli their
// part is skipped, except in CI (CI=true), where it fails.
func TestRealClientAlerts(t *testing.T) {
	p := newRealPKI(t)
	stacks := []struct {
		name   string
		client func(t *testing.T) realClient
		alerts func(i int) ([2]*attacker.TLSAlert, string)
	}{
		{"openssl", func(t *testing.T) realClient { return opensslClient(tool(t, "openssl", "openssl")) },
			func(i int) ([2]*attacker.TLSAlert, string) { return realAlerts[i].openssl, realAlerts[i].opensslSays }},
		{"gnutls", func(t *testing.T) realClient { return gnutlsClient(tool(t, "gnutls-cli", "gnutls-bin")) },
			func(i int) ([2]*attacker.TLSAlert, string) { return realAlerts[i].gnutls, realAlerts[i].gnutlsSays }},
		{"go", func(*testing.T) realClient { return goClient },
			func(i int) ([2]*attacker.TLSAlert, string) { return realAlerts[i].goTLS, realAlerts[i].goSays }},
	}
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			client := st.client(t)
			for vi, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				for i, row := range realAlerts {
					alerts, says := st.alerts(i)
					if alerts == notRun {
						continue
					}
					want := alerts[vi]
					t.Run(tls.VersionName(version)+"/"+row.name, func(t *testing.T) {
						hs, printed := interceptOnce(t, p, client, row.name, version, p.sides[row.name])
						if hs.Completed != (want == nil) || !reflect.DeepEqual(hs.Alert, want) {
							t.Errorf("completed %v, alert %v; want %v", hs.Completed, hs.Alert, want)
						}
						if w := wantErr(st.name, version, row.name, want); hs.Err != w {
							t.Errorf("error %q, want %q", hs.Err, w)
						}
						if !strings.Contains(printed, says) {
							t.Errorf("the client does not say %q:\n%s", says, printed)
						}
						if t.Failed() {
							t.Logf("the client:\n%s", printed)
						}
					})
				}
			}
		})
	}
}

// wantErr is the error crypto/tls reports as the attacker's side: the
// alert received, except OpenSSL's plaintext TLS 1.3 alert, which it
// fails to decrypt; and answerAsLegacyServer's for the TLS 1.0 answer.
func wantErr(stack string, version uint16, c string, alert *attacker.TLSAlert) string {
	switch {
	case alert == nil:
		return ""
	case c == caseTLS10:
		return "attacker: answered TLS 1.0; the client refused it: alert " + tls.AlertError(alert.Description).Error()
	case stack == "openssl" && version == tls.VersionTLS13:
		return "local error: tls: bad record MAC"
	}
	return "remote error: " + tls.AlertError(alert.Description).Error()
}

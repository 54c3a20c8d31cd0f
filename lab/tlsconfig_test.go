package lab_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// tlsFixture is a small world for handshakes: a client and a server host,
// a PKI host serving the CA's revocation status, and certificates that are
// good, for the wrong name, expired, or from a CA nobody trusts.
type tlsFixture struct {
	w                *netsim.World
	client, server   *netsim.Host
	root, issuing    *pki.CA
	roots            *x509.CertPool
	good, wrongName  pki.Credential
	expired, foreign pki.Credential
	fe01, fe02       pki.Credential // server+client, for MTLS
	checker          *pki.Checker
	log              *pki.ObservationLog
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	w := netsim.NewWorld(netsim.Config{Seed: 1})
	t.Cleanup(func() { w.Close() })
	lan := w.NewSegment("lan", netsim.SegmentConfig{})
	host := func(name, addr string) *netsim.Host {
		h := w.NewHost(name, netsim.HostConfig{})
		if _, err := h.AddNIC(lan, netsim.NICConfig{Addr: netip.MustParsePrefix(addr)}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	f := &tlsFixture{w: w, client: host("alice", "10.0.0.10/24"), server: host("fe01", "10.0.0.11/24"), log: &pki.ObservationLog{}}
	pkiHost := host("pki", "10.0.0.80/24")
	var err error
	f.root, err = pki.NewRootCA(pki.RootConfig{CommonName: "Test Root", Clock: w.Now,
		CRLURL: "http://pki.test/root.crl", OCSPURL: "http://pki.test/ocsp"})
	if err != nil {
		t.Fatal(err)
	}
	f.issuing, err = f.root.NewIntermediate(pki.IntermediateConfig{CommonName: "Test Issuing",
		CRLURL: "http://pki.test/issuing.crl", OCSPURL: "http://pki.test/ocsp"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := pki.NewRootCA(pki.RootConfig{CommonName: "Stranger Root", Clock: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *pki.CA, req pki.CertRequest) pki.Credential {
		c, err := ca.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := w.Now()
	f.good = issue(f.issuing, pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}})
	f.wrongName = issue(f.issuing, pki.CertRequest{DNSNames: []string{"mallory.contoso.com"}})
	f.expired = issue(f.issuing, pki.CertRequest{DNSNames: []string{"pool01.contoso.com"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	f.foreign = issue(stranger, pki.CertRequest{DNSNames: []string{"pool01.contoso.com"}})
	f.fe01 = issue(f.issuing, pki.CertRequest{DNSNames: []string{"fe01.contoso.com"}, Purpose: pki.PurposeServerClient})
	f.fe02 = issue(f.issuing, pki.CertRequest{DNSNames: []string{"fe02.contoso.com"}, Purpose: pki.PurposeServerClient})
	f.roots = f.root.Pool()

	rs, err := pki.NewRevocationServer(f.root, f.issuing)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := pkiHost.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rs, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	f.checker = &pki.Checker{
		Mode: pki.RevocationHardFail, Now: w.Now, Timeout: time.Second, Observe: f.log.Observe,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return f.client.DialContext(ctx, network, "10.0.0.80:80") // pki.test
		},
	}
	return f
}

// handshake runs one TLS handshake from the client host to the server host
// and returns each side's error.
func (f *tlsFixture) handshake(t *testing.T, client, server *tls.Config, serverName string) (clientErr, serverErr error) {
	t.Helper()
	ln, err := f.server.Listen("tcp", ":5061")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errs := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			errs <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		tc := tls.Server(conn, server)
		err = tc.Handshake()
		if err == nil {
			_, err = tc.Read(make([]byte, 1)) // the client's confirmation, after its checks
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		errs <- err
	}()
	conn, err := f.client.Dial("tcp", "10.0.0.11:5061")
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	cfg := client.Clone()
	cfg.ServerName = serverName
	tc := tls.Client(conn, cfg)
	clientErr = tc.Handshake()
	if clientErr == nil {
		tc.Write([]byte{1})
	}
	tc.Close()
	return clientErr, <-errs
}

func policy(f *tlsFixture, change func(*lab.Defenses)) lab.TLSPolicy {
	return lab.TLSPolicy{Defenses: lab.Hardened().With(change), Now: f.w.Now}
}

var (
	unknownAuthority = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
	wrongName        = "tls: failed to verify certificate: x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com"
	expired          = regexp.MustCompile(`^tls: failed to verify certificate: x509: certificate has expired or is not yet valid: ` +
		`current time \S+ is after \S+$`)
)

// TestTLSPolicyClient: with any of the three certificate checks off, the
// checks still on run in VerifyConnection and fail exactly as crypto/tls's
// own would.
func TestTLSPolicyClient(t *testing.T) {
	f := newTLSFixture(t)
	chainOff := func(d *lab.Defenses) { d.ChainValidation = false }
	hostOff := func(d *lab.Defenses) { d.HostnameCheck = false }
	validityOff := func(d *lab.Defenses) { d.ValidityCheck = false }
	tests := []struct {
		name    string
		change  func(*lab.Defenses)
		cert    pki.Credential
		want    string         // exact client error; "" for success
		wantRe  *regexp.Regexp // or a pattern
		wantErr func(error) bool
	}{
		{name: "all on, good", cert: f.good},
		{name: "all on, wrong name", cert: f.wrongName, want: wrongName},
		{name: "all on, foreign CA", cert: f.foreign, want: unknownAuthority},
		{name: "all on, expired", cert: f.expired, wantRe: expired},
		{name: "hostname off, wrong name", change: hostOff, cert: f.wrongName},
		{name: "hostname off, foreign CA", change: hostOff, cert: f.foreign, want: unknownAuthority,
			wantErr: func(err error) bool { var u x509.UnknownAuthorityError; return errors.As(err, &u) }},
		{name: "hostname off, expired", change: hostOff, cert: f.expired, wantRe: expired,
			wantErr: func(err error) bool {
				var c x509.CertificateInvalidError
				return errors.As(err, &c) && c.Reason == x509.Expired
			}},
		{name: "chain off, foreign CA", change: chainOff, cert: f.foreign},
		{name: "chain off, wrong name", change: chainOff, cert: f.wrongName, want: wrongName,
			wantErr: func(err error) bool { var h x509.HostnameError; return errors.As(err, &h) }},
		{name: "chain off, expired", change: chainOff, cert: f.expired, wantRe: expired},
		{name: "validity off, expired", change: validityOff, cert: f.expired},
		{name: "validity and hostname off, expired", change: func(d *lab.Defenses) { validityOff(d); hostOff(d) }, cert: f.expired},
		{name: "validity off, foreign CA", change: validityOff, cert: f.foreign, want: unknownAuthority},
		{name: "validity off, wrong name", change: validityOff, cert: f.wrongName, want: wrongName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(f, tt.change)
			cliErr, _ := f.handshake(t, p.Client(f.roots, nil), p.Server(tt.cert.TLS), "pool01.contoso.com")
			switch {
			case tt.want == "" && tt.wantRe == nil:
				if cliErr != nil {
					t.Fatalf("handshake failed: %v", cliErr)
				}
				return
			case cliErr == nil:
				t.Fatalf("handshake succeeded, want an error")
			case tt.want != "" && cliErr.Error() != tt.want:
				t.Errorf("error %q, want %q", cliErr, tt.want)
			case tt.wantRe != nil && !tt.wantRe.MatchString(cliErr.Error()):
				t.Errorf("error %q, want %v", cliErr, tt.wantRe)
			}
			var cve *tls.CertificateVerificationError
			if !errors.As(cliErr, &cve) {
				t.Errorf("error %T is not a *tls.CertificateVerificationError", cliErr)
			}
			if tt.wantErr != nil && !tt.wantErr(cliErr) {
				t.Errorf("error %v does not wrap the expected x509 error", cliErr)
			}
		})
	}
}

// TestTLSPolicyMTLS: client certificates are required and verified, and an
// accepting end never applies the hostname check to them.
func TestTLSPolicyMTLS(t *testing.T) {
	f := newTLSFixture(t)
	tests := []struct {
		name       string
		change     func(*lab.Defenses)
		clientCert *pki.Credential // nil: the client presents none
		wantServer string
	}{
		{name: "all on", clientCert: &f.fe01},
		{name: "no client certificate", wantServer: "tls: client didn't provide a certificate"},
		{name: "client certificate not required", change: func(d *lab.Defenses) { d.ClientCertRequired = false }},
		{name: "foreign client certificate", clientCert: &f.foreign, wantServer: unknownAuthority},
		{name: "chain off: foreign client certificate accepted", change: func(d *lab.Defenses) { d.ChainValidation = false }, clientCert: &f.foreign},
		{name: "validity off: client name is not checked", change: func(d *lab.Defenses) { d.ValidityCheck = false }, clientCert: &f.fe01},
		{name: "validity off: foreign client certificate refused", change: func(d *lab.Defenses) { d.ValidityCheck = false },
			clientCert: &f.foreign, wantServer: unknownAuthority},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(f, tt.change)
			server := p.MTLS(f.fe02.TLS, f.roots, nil)
			client := p.MTLS(f.fe01.TLS, f.roots, nil)
			if tt.clientCert != nil {
				client = p.MTLS(tt.clientCert.TLS, f.roots, nil)
			} else {
				client.Certificates, client.GetClientCertificate = nil, nil
			}
			// The server is fe02; the client dials it by that name.
			_, srvErr := f.handshake(t, client, server, "fe02.contoso.com")
			switch {
			case tt.wantServer == "" && srvErr != nil:
				t.Fatalf("server refused: %v", srvErr)
			case tt.wantServer != "" && (srvErr == nil || srvErr.Error() != tt.wantServer):
				t.Fatalf("server error %v, want %q", srvErr, tt.wantServer)
			}
		})
	}
}

// TestTLSPolicyRevocation: the Checker runs after verification, also when
// VerifyConnection verified the certificate itself.
func TestTLSPolicyRevocation(t *testing.T) {
	f := newTLSFixture(t)
	if err := f.issuing.Revoke(f.good.Leaf.SerialNumber, pki.ReasonKeyCompromise, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*lab.Defenses){nil, func(d *lab.Defenses) { d.HostnameCheck = false }} {
		p := policy(f, change)
		cliErr, _ := f.handshake(t, p.Client(f.roots, f.checker), p.Server(f.good.TLS), "pool01.contoso.com")
		var re *pki.RevokedError
		if !errors.As(cliErr, &re) || re.Reason != pki.ReasonKeyCompromise {
			t.Errorf("hostname check %v: error %v, want a *pki.RevokedError", p.Defenses.HostnameCheck, cliErr)
		}
	}
	obs := f.log.Strings()
	if len(obs) != 2 || !regexp.MustCompile(`^revocation: OCSP http://pki.test/ocsp: "pool01.contoso.com" \(serial 0x[0-9a-f]+\) revoked at `).MatchString(obs[0]) {
		t.Errorf("observations %q, want one revoked answer per handshake", obs)
	}
}

func TestTLSPolicySettings(t *testing.T) {
	now := func() time.Time { return time.Unix(0, 0) }
	p := lab.TLSPolicy{Defenses: lab.Hardened(), Now: now, KeyLog: io.Discard}
	cfg := p.Client(nil, nil)
	if cfg.MinVersion != tls.VersionTLS12 || cfg.KeyLogWriter != io.Discard || cfg.Time == nil || !cfg.Time().Equal(now()) || cfg.InsecureSkipVerify {
		t.Errorf("client config %+v", cfg)
	}
	for _, id := range cfg.CipherSuites {
		if name := tls.CipherSuiteName(id); !regexp.MustCompile(`^TLS_ECDHE_`).MatchString(name) {
			t.Errorf("forward secrecy on, but %s is allowed", name)
		}
	}
	p.Defenses.ForwardSecrecyOnly = false
	p.Defenses.MinTLSVersion = tls.VersionTLS13
	cfg = p.MTLS(tls.Certificate{}, nil, nil)
	if !slices.Contains(cfg.CipherSuites, tls.TLS_RSA_WITH_AES_128_GCM_SHA256) || cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("forward secrecy off: suites %v, min version %x", cfg.CipherSuites, cfg.MinVersion)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth %v, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}
	p.Defenses.ClientCertRequired = false
	if got := p.MTLS(tls.Certificate{}, nil, nil).ClientAuth; got != tls.VerifyClientCertIfGiven {
		t.Errorf("client certificate not required: ClientAuth %v, want VerifyClientCertIfGiven", got)
	}
}

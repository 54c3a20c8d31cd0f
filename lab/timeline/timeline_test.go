package timeline_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/netsim"
)

// The tiny world of the timeline tests: alice, a server srv that answers
// DNS and TLS, and mallory, who only spoofs one ARP reply at the end.
var (
	tlAliceMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	tlSrvMAC     = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x14}
	tlMalloryMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	tlAlice      = netip.MustParsePrefix("10.0.0.10/24")
	tlSrv        = netip.MustParsePrefix("10.0.0.20/24")
	tlMallory    = netip.MustParsePrefix("10.0.0.66/24")
)

const tlSrvName = "srv.lab.test"

// tlPKI is a CA and srv's leaf, valid 2000-2100 so any clock accepts them.
type tlPKI struct {
	ca   *x509.Certificate
	leaf tls.Certificate
}

func newTLPKI(t *testing.T) tlPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lab Test CA"}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: tlSrvName}, DNSNames: []string{tlSrvName},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tlPKI{ca: ca, leaf: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// tlScenario exercises every decoder: ARP, DNS over UDP, TCP refused and
// closed, TLS 1.3 refused and accepted (decrypted with the client's key
// log: srv logs nothing), TLS 1.2 (Certificate in the clear), a plaintext
// alert, a spoofed ARP reply, and an evidence line.
func tlScenario(p tlPKI) lab.Scenario {
	return lab.Scenario{
		Name: "test/timeline", Labels: []lab.Label{lab.LabelTLS}, Summary: "timeline decoder", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			w := env.World
			lan := w.NewSegment("lan", netsim.SegmentConfig{})
			env.Capture(lan)
			alice, srv, mallory := w.NewHost("alice", netsim.HostConfig{}), w.NewHost("srv", netsim.HostConfig{}), w.NewHost("mallory", netsim.HostConfig{})
			if _, err := alice.AddNIC(lan, netsim.NICConfig{Addr: tlAlice, MAC: tlAliceMAC}); err != nil {
				return err
			}
			if _, err := srv.AddNIC(lan, netsim.NICConfig{Addr: tlSrv, MAC: tlSrvMAC}); err != nil {
				return err
			}
			mnic, err := mallory.AddNIC(lan, netsim.NICConfig{Addr: tlMallory, MAC: tlMalloryMAC})
			if err != nil {
				return err
			}
			stop, err := tlServe(srv, p)
			if err != nil {
				return err
			}
			defer stop()

			if err := tlResolve(ctx, alice); err != nil {
				return err
			}
			policy := env.TLSPolicy()
			trusting := x509.NewCertPool()
			trusting.AddCert(p.ca)
			_, refusal := tlHandshake(ctx, alice, "10.0.0.20:443", policy.Client(x509.NewCertPool(), nil))
			if _, err := tlHandshake(ctx, alice, "10.0.0.20:443", policy.Client(trusting, nil)); err != nil {
				return err
			}
			if _, err := tlHandshake(ctx, alice, "10.0.0.20:8443", policy.Client(trusting, nil)); err != nil {
				return err
			}
			// A clone of a policy config with other roots, as a scenario
			// that installs a CA makes: crypto/tls verifies with the
			// clone's roots, with or without a timeline.
			cloned := policy.Client(x509.NewCertPool(), nil).Clone()
			cloned.RootCAs = trusting
			_, clonedErr := tlHandshake(ctx, alice, "10.0.0.20:443", cloned)
			old := &tls.Config{ServerName: tlSrvName, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}
			_, versionErr := tlHandshake(ctx, alice, "10.0.0.20:8444", old)
			if _, err := alice.DialContext(ctx, "tcp", "10.0.0.20:9"); err == nil {
				return errors.New("port 9 accepted a connection")
			}
			mnic.WriteFrame(tlSpoofedReply())
			env.Evidence.Notef("alice", "refused srv: %v", refusal)
			env.Evidence.Notef("alice", "old client: %v", versionErr)
			env.Evidence.Notef("alice", "cloned config with other roots: %v", clonedErr)
			return nil
		},
	}
}

// tlServe runs srv's DNS server on :53 and TLS listeners: :443 (TLS 1.3),
// :8443 (TLS 1.2 only), :8444 (TLS 1.3 only).
func tlServe(srv *netsim.Host, p tlPKI) (stop func(), err error) {
	pc, err := srv.ListenPacket("udp", ":53")
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dns.Msg
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			m := new(dns.Msg).SetReply(&q)
			rr, _ := dns.NewRR(tlSrvName + ". 60 IN A 10.0.0.20")
			m.Answer = append(m.Answer, rr)
			out, _ := m.Pack()
			pc.WriteTo(out, from)
		}
	})
	closers := []func() error{pc.Close}
	for _, l := range []struct {
		port     string
		min, max uint16
	}{{":443", tls.VersionTLS12, 0}, {":8443", tls.VersionTLS12, tls.VersionTLS12}, {":8444", tls.VersionTLS13, 0}} {
		ln, err := srv.Listen("tcp", l.port)
		if err != nil {
			for _, c := range closers {
				c()
			}
			wg.Wait()
			return nil, err
		}
		closers = append(closers, ln.Close)
		cfg := &tls.Config{Certificates: []tls.Certificate{p.leaf}, MinVersion: l.min, MaxVersion: l.max}
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					// Read to alice's close first: closing with her
					// close_notify unread would reset, not FIN.
					_, _ = io.Copy(io.Discard, tc)
				}
				tc.Close()
			}
		})
	}
	return func() {
		for _, c := range closers {
			c()
		}
		wg.Wait()
	}, nil
}

// tlResolve asks srv for srv.lab.test's address, as a stub resolver does.
func tlResolve(ctx context.Context, alice *netsim.Host) error {
	c, err := alice.DialContext(ctx, "udp", "10.0.0.20:53")
	if err != nil {
		return err
	}
	defer c.Close()
	q := new(dns.Msg).SetQuestion(tlSrvName+".", dns.TypeA)
	q.Id = 7
	out, _ := q.Pack()
	if _, err := c.Write(out); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(buf)
	return err
}

// tlHandshake dials addr from alice and runs a TLS handshake for srv.
func tlHandshake(ctx context.Context, alice *netsim.Host, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	raw, err := alice.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	cfg = cfg.Clone()
	cfg.ServerName = tlSrvName
	tc := tls.Client(raw, cfg)
	defer tc.Close()
	err = tc.HandshakeContext(ctx)
	return tc.ConnectionState(), err
}

// tlSpoofedReply is mallory's ARP reply to alice claiming srv's address.
func tlSpoofedReply() []byte {
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: tlMalloryMAC, DstMAC: tlAliceMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: tlMalloryMAC, SourceProtAddress: tlSrv.Addr().AsSlice(),
			DstHwAddress: tlAliceMAC, DstProtAddress: tlAlice.Addr().AsSlice(),
		})
	return buf.Bytes()
}

// tlCheck is one assertion on a timeline.
type tlCheck func(t *testing.T, tl timeline.Events)

// event requires an event of host and kind whose whole text matches the
// regular expression re (anchored).
func event(host string, kind timeline.Kind, re string) tlCheck {
	rx := regexp.MustCompile("^" + re + "$")
	return func(t *testing.T, tl timeline.Events) {
		t.Helper()
		for _, e := range tl {
			if e.Host == host && e.Kind == kind && rx.MatchString(e.Text) {
				return
			}
		}
		t.Errorf("no %s event by %q matching %q", kind, host, re)
	}
}

// runFailed reports whether the run itself failed. The timeline fixtures
// are not attacks the oracle can judge, so an inconclusive verdict is not a
// failure of the run.
func runFailed(r lab.Result) bool {
	var ie *lab.InconclusiveError
	return r.Err != nil && !errors.As(r.Err, &ie)
}

// q quotes s for a regular expression.
func q(s string) string { return regexp.QuoteMeta(s) }

const port = `\d+`

func TestRecord(t *testing.T) {
	p := newTLPKI(t)
	res, tl := timeline.Record(context.Background(), lab.Runner{Seed: 1}, tlScenario(p))
	if runFailed(res) {
		t.Fatalf("run failed: %v", res.Err)
	}
	defer func() {
		if t.Failed() {
			timeline.Write(os.Stdout, tl)
		}
	}()
	valid := "valid 2000-01-01T00:00:00Z→2100-01-01T00:00:00Z"
	leaf := "subject CN=" + tlSrvName + " issuer CN=Lab Test CA " + valid
	checks := []struct {
		name  string
		check tlCheck
	}{
		{"ARP request", event("alice", timeline.ARP, q("ARP who-has 10.0.0.20 tell 10.0.0.10"))},
		{"ARP reply", event("srv", timeline.ARP, q("ARP is-at 10.0.0.20 -> 02:00:00:00:00:14, to 10.0.0.10 (alice)"))},
		{"spoofed ARP reply", event("mallory", timeline.ARP,
			q("ARP is-at 10.0.0.20 -> 02:00:00:00:00:42, to 10.0.0.10 (alice) (spoofed: 10.0.0.20 is srv, at 02:00:00:00:00:14)"))},
		{"DNS query", event("alice", timeline.DNS, q("DNS query srv.lab.test A -> 10.0.0.20 (srv)"))},
		{"DNS answer", event("srv", timeline.DNS, q("DNS answer srv.lab.test A -> 10.0.0.10 (alice): NOERROR: A 10.0.0.20"))},
		{"SYN", event("alice", timeline.TCP, q("TCP SYN -> 10.0.0.20:443 (srv)"))},
		{"SYN-ACK", event("srv", timeline.TCP, q("TCP SYN-ACK -> 10.0.0.10:")+port+q(" (alice): 10.0.0.20:443 accepts"))},
		{"refused", event("srv", timeline.TCP, q("TCP RST -> 10.0.0.10:")+port+q(" (alice): connection to 10.0.0.20:9 refused"))},
		{"FIN", event("srv", timeline.TCP, q("TCP FIN -> 10.0.0.10:")+port+q(" (alice): 10.0.0.20:443 closes its side"))},
		{"ClientHello", event("alice", timeline.TLS,
			q("TLS ClientHello -> 10.0.0.20:443 (srv) SNI srv.lab.test versions TLS1.3,TLS1.2"))},
		{"ServerHello TLS 1.3", event("srv", timeline.TLS, q("TLS ServerHello -> 10.0.0.10:")+port+q(" (alice) TLS1.3 ")+`TLS_\w+`)},
		{"ServerHello TLS 1.2", event("srv", timeline.TLS, q("TLS ServerHello -> 10.0.0.10:")+port+q(" (alice) TLS1.2 TLS_ECDHE_ECDSA_WITH_")+`\w+`)},
		{"TLS 1.2 Certificate in the clear", event("srv", timeline.TLS, q("TLS Certificate -> 10.0.0.10:")+port+q(" (alice)"))},
		{"TLS 1.3 EncryptedExtensions decrypted", event("srv", timeline.TLS, q("TLS EncryptedExtensions (decrypted) -> 10.0.0.10:")+port+q(" (alice)"))},
		{"TLS 1.3 Certificate decrypted", event("srv", timeline.TLS, q("TLS Certificate (decrypted) -> 10.0.0.10:")+port+q(" (alice)"))},
		{"TLS 1.3 client Finished decrypted", event("alice", timeline.TLS, q("TLS Finished (decrypted) -> 10.0.0.20:443 (srv)"))},
		{"plaintext alert", event("srv", timeline.TLS, q("TLS alert protocol version not supported (fatal) -> 10.0.0.10:")+port+q(" (alice)"))},
		{"TLS 1.2 alert decrypted", event("alice", timeline.TLS, q("TLS alert close notify (warning, decrypted) -> 10.0.0.20:8443 (srv)"))},
		{"decrypted alert", event("alice", timeline.TLS, q("TLS alert bad certificate (fatal, decrypted) -> 10.0.0.20:443 (srv)"))},
		{"TLS 1.3 certificate refused", event("alice", timeline.Certificate,
			q("certificate presented by 10.0.0.20:443 (srv) for srv.lab.test: "+leaf+": refused: alert bad certificate"))},
		{"TLS 1.3 certificate accepted", event("alice", timeline.Certificate,
			q("certificate presented by 10.0.0.20:443 (srv) for srv.lab.test: "+leaf+": accepted"))},
		{"TLS 1.2 certificate accepted", event("alice", timeline.Certificate,
			q("certificate presented by 10.0.0.20:8443 (srv) for srv.lab.test: "+leaf+": accepted"))},
		{"evidence", event("alice", timeline.Evidence,
			q("evidence: refused srv: tls: failed to verify certificate: x509: certificate signed by unknown authority"))},
		{"cloned config verifies with its own roots", event("alice", timeline.Evidence, q("evidence: cloned config with other roots: <nil>"))},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, tl) })
	}
	if !slices.IsSortedFunc(tl, func(a, b timeline.Event) int { return int(a.At - b.At) }) {
		t.Error("timeline not sorted by time")
	}
	if n := countEvents(tl, timeline.Certificate); n != 4 {
		t.Errorf("%d certificate events, want 4 (one per handshake that got a certificate)", n)
	}
	for _, e := range tl {
		if e.Kind == timeline.TLS && regexp.MustCompile(`encrypted records begin|application data`).MatchString(e.Text) {
			t.Errorf("%q: every TLS 1.3 handshake is decrypted and none sends application data", e.Text)
		}
	}
	if n := countEvents(tl, timeline.Evidence); n != len(res.Evidence) {
		t.Errorf("%d evidence events, want %d", n, len(res.Evidence))
	}
}

func countEvents(tl timeline.Events, k timeline.Kind) int {
	n := 0
	for _, e := range tl {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// Recording the timeline changes nothing the scenario can observe: the
// same evidence as a plain run, including the refusal's exact error.
func TestRecordSameEvidence(t *testing.T) {
	p := newTLPKI(t)
	s := tlScenario(p)
	plain := lab.Runner{Seed: 1}.Run(context.Background(), s)
	recorded, _ := timeline.Record(context.Background(), lab.Runner{Seed: 1}, s)
	if runFailed(plain) || runFailed(recorded) {
		t.Fatalf("errors: %v / %v", plain.Err, recorded.Err)
	}
	if !slices.Equal(plain.Evidence, recorded.Evidence) {
		t.Errorf("evidence differs:\nRun:         %q\nRecord:      %q", plain.Evidence, recorded.Evidence)
	}
}

// A scenario that never captures a segment still gets its evidence lines,
// each at the World's time.
func TestRecordEvidenceOnly(t *testing.T) {
	s := lab.Scenario{
		Name: "test/evidence", Labels: []lab.Label{lab.LabelTLS}, Summary: "s", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.Evidence.Notef("alice", "first")
			env.Evidence.CanariesObtained("mallory", 0, 1, "0 B")
			env.Evidence.Notef("", "no actor")
			return nil
		},
	}
	_, tl := timeline.Record(context.Background(), lab.Runner{}, s)
	var got []string
	for _, e := range tl {
		got = append(got, fmt.Sprintf("%s|%s|%s", e.Host, e.Kind, e.Text))
		if e.At < 0 || e.At > time.Minute {
			t.Errorf("event at %v, want an offset from the World's start", e.At)
		}
	}
	want := []string{"alice|evidence|evidence: first", "mallory|evidence|evidence: 0 of 1 canary in 0 B", "|evidence|evidence: no actor"}
	if !slices.Equal(got, want) {
		t.Errorf("timeline = %q, want %q", got, want)
	}
}

func TestRecordScenarioError(t *testing.T) {
	s := lab.Scenario{Name: "test/error", Labels: []lab.Label{lab.LabelTLS}, Summary: "s", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error { return errors.New("boom") }}
	res, tl := timeline.Record(context.Background(), lab.Runner{}, s)
	if res.Verdict != lab.Error || len(tl) != 0 {
		t.Errorf("verdict %v, %d events; want error and an empty timeline", res.Verdict, len(tl))
	}
}

func TestFormatOffset(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "+0.000ms"},
		{12345 * time.Microsecond, "+12.345ms"},
		{1503*time.Millisecond + 20*time.Microsecond + 999, "+1503.020ms"},
		{-1500 * time.Microsecond, "-1.500ms"},
	} {
		if got := timeline.FormatOffset(c.d); got != c.want {
			t.Errorf("FormatOffset(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func ExampleWrite() {
	timeline.Write(os.Stdout, []timeline.Event{
		{At: 0, Host: "alice", Kind: timeline.ARP, Text: "ARP who-has 10.0.0.11 tell 10.0.0.10"},
		{At: 104 * time.Microsecond, Host: "mallory", Kind: timeline.ARP, Text: "ARP is-at 10.0.0.11 -> 02:00:5e:00:00:13, to 10.0.0.10 (alice)"},
		{At: 12*time.Millisecond + 345*time.Microsecond, Kind: timeline.Evidence, Text: "evidence: Contoso Issuing CA 01 revoked CN=fe01"},
	})
	// Output:
	// +0.000ms   alice    ARP who-has 10.0.0.11 tell 10.0.0.10
	// +0.104ms   mallory  ARP is-at 10.0.0.11 -> 02:00:5e:00:00:13, to 10.0.0.10 (alice)
	// +12.345ms  -        evidence: Contoso Issuing CA 01 revoked CN=fe01
}

// TestRecordThroughLoss: on a lossy network the recorder holds what comes
// after a lost segment until its retransmission fills the gap, so srv's
// handshake messages, which every handshake needs whole, read the same as
// on a clean network. (A last alert lost as its sender closes may never
// cross the wire at all, so alice's are not compared.)
func TestRecordThroughLoss(t *testing.T) {
	p := newTLPKI(t)
	tlsLines := func(events timeline.Events) []string {
		var out []string
		for _, e := range events {
			if e.Host == "srv" && e.Kind == timeline.TLS && !strings.Contains(e.Text, "alert") {
				out = append(out, e.Host+" "+tlPortRE.ReplaceAllString(e.Text, ":<port>"))
			}
		}
		slices.Sort(out)
		return out
	}
	_, clean := timeline.Record(context.Background(), lab.Runner{Seed: 1}, tlScenario(p))
	lossy, err := netsim.ParseImpairSpec("loss=10%")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 2; seed++ {
		res, events := timeline.Record(context.Background(), lab.Runner{Seed: seed, Impair: lossy, Timeout: 2 * time.Minute}, tlScenario(p)) // a SYN lost four times waits 15 s
		if runFailed(res) {
			t.Fatalf("seed %d: run failed: %v", seed, res.Err)
		}
		if got, want := tlsLines(events), tlsLines(clean); !slices.Equal(got, want) {
			t.Errorf("seed %d: TLS and certificate events on a lossy network:\n%s\nwant as on a clean one:\n%s", seed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

var tlPortRE = regexp.MustCompile(`:\d{5}\b`)

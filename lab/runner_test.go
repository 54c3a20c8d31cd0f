package lab_test

import (
	"bytes"
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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/netsim"
)

// check is one assertion on a Result; rows combine several.
type check func(t *testing.T, r lab.Result)

func all(cs ...check) check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		for _, c := range cs {
			c(t, r)
		}
	}
}

func verdict(v lab.Verdict, ok bool) check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		if r.Verdict != v || r.OK != ok {
			t.Errorf("verdict %q ok=%v, want %q ok=%v (err: %v)", r.Verdict, r.OK, v, ok, r.Err)
		}
	}
}

func errContains(sub string) check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		if r.Err == nil || !strings.Contains(r.Err.Error(), sub) {
			t.Errorf("err = %v, want one containing %q", r.Err, sub)
		}
	}
}

func errAs[E error]() check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		var target E
		if !errors.As(r.Err, &target) {
			t.Errorf("err = %v (%T), want a %T", r.Err, r.Err, target)
		}
	}
}

func evidence(lines ...string) check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		if strings.Join(r.Evidence, "\n") != strings.Join(lines, "\n") {
			t.Errorf("evidence %q, want %q", r.Evidence, lines)
		}
	}
}

func service(a lab.Availability) check {
	return func(t *testing.T, r lab.Result) {
		t.Helper()
		if r.Service != a {
			t.Errorf("service %q, want %q", r.Service, a)
		}
	}
}

func TestRunnerRun(t *testing.T) {
	tests := []struct {
		name     string
		expected lab.Verdict
		run      func(ctx context.Context, env *lab.Env) error
		check    check
	}{
		{
			name: "held", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepted alice's connection")
				env.Evidence.Refused("alice", lab.DefenseChainValidation, "handshake failed: x509: certificate signed by unknown authority")
				env.Evidence.SetService(lab.ServiceDenied)
				return nil
			},
			check: all(verdict(lab.Held, true), service(lab.ServiceDenied),
				evidence("mallory: intercepted alice's connection", "alice: handshake failed: x509: certificate signed by unknown authority")),
		},
		{
			name: "refusal without the attacker in position", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Refused("alice", lab.DefenseChainValidation, "handshake failed: x509: certificate signed by unknown authority")
				return nil
			},
			check: all(verdict(lab.Error, false), errContains("inconclusive: attack not carried out")),
		},
		{
			name: "attacker in position, a time-out is no refusal", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepted alice's connection")
				env.Evidence.NoteFailure("alice", os.ErrDeadlineExceeded, "handshake failed: %v", os.ErrDeadlineExceeded)
				return nil
			},
			check: all(verdict(lab.Error, false), errContains("inconclusive: no defense observed"),
				evidence("mallory: intercepted alice's connection", "alice: handshake failed: i/o timeout")),
		},
		{
			name: "broken", expected: lab.Broken,
			run: func(ctx context.Context, env *lab.Env) error {
				c := env.NewCanary("alice")
				payload := []byte("MESSAGE sip:bob ... " + c.String())
				found := lab.FindCanaries(payload, env.Canaries())
				env.Evidence.CanariesObtained("mallory", len(found), 1, "plaintext SIP")
				return nil
			},
			check: all(verdict(lab.Broken, true), service(lab.ServiceUnknown),
				evidence("mallory: 1 of 1 canary in plaintext SIP")),
		},
		{
			name: "broken but expected held", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.IdentityAccepted("alice", "pool01.contoso.com", "")
				return nil
			},
			check: verdict(lab.Broken, false),
		},
		{
			name: "run error", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.Notef("lab", "building topology")
				return errors.New("no route to pool01")
			},
			check: all(verdict(lab.Error, false), errContains("no route to pool01"), evidence("lab: building topology")),
		},
		{
			name: "panic", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				var m map[string]int
				m["x"]++
				return nil
			},
			check: all(verdict(lab.Error, false), errAs[*lab.PanicError](), errContains("panicked: assignment to entry in nil map")),
		},
		{
			name: "deadline, Run returns nil when stopped", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				<-ctx.Done()
				return nil
			},
			check: all(verdict(lab.Error, false), errAs[*lab.TimeoutError](), errContains("did not finish within 50ms")),
		},
		{
			name: "deadline, Run returns ctx error", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				<-ctx.Done()
				return ctx.Err()
			},
			check: all(verdict(lab.Error, false), errAs[*lab.TimeoutError](), errContains("context deadline exceeded")),
		},
		{
			name: "deadline, unblocked by closing the world", expected: lab.Held,
			run: func(ctx context.Context, env *lab.Env) error {
				<-env.World.Done()
				return netsim.ErrWorldClosed
			},
			check: all(verdict(lab.Error, false), errAs[*lab.TimeoutError](), errContains("world closed")),
		},
		{
			name: "compromise then deadline is still an error", expected: lab.Broken,
			run: func(ctx context.Context, env *lab.Env) error {
				env.Evidence.InjectionAccepted("bob", "BYE")
				<-ctx.Done()
				return nil
			},
			check: verdict(lab.Error, false),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := lab.Scenario{Name: "test/" + tt.name, Summary: tt.name, Expected: tt.expected, Run: tt.run,
				Labels: []lab.Label{lab.LabelTLS}, Attacker: "mallory", StoppedBy: lab.DefenseChainValidation}
			if tt.expected != lab.Held {
				s.StoppedBy = ""
			}
			r := lab.Runner{Timeout: 50 * time.Millisecond}.Run(context.Background(), s)
			if r.Scenario != s.Name || r.Expected != tt.expected || len(r.Labels) != 1 {
				t.Errorf("result identity: %q %q %v", r.Scenario, r.Expected, r.Labels)
			}
			tt.check(t, r)
		})
	}
}

func TestRunnerAbandonsRunThatDoesNotStop(t *testing.T) {
	release, finished := make(chan struct{}), make(chan struct{})
	s := lab.Scenario{Name: "test/stuck", Summary: "ignores ctx", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			defer close(finished)
			<-release // ignores ctx and the World
			env.Evidence.InjectionAccepted("late", "recorded after abandonment")
			return nil
		}}
	r := lab.Runner{Timeout: 20 * time.Millisecond, StopGrace: 20 * time.Millisecond}.Run(context.Background(), s)
	close(release)
	<-finished
	all(verdict(lab.Error, false), errAs[*lab.NotStoppedError](), errAs[*lab.TimeoutError](),
		errContains("did not stop within 20ms after its world was closed"), evidence())(t, r)
	if len(r.Compromises) != 0 {
		t.Errorf("late compromise leaked into the result: %v", r.Compromises)
	}
}

func TestRunnerClosesWorld(t *testing.T) {
	var world *netsim.World
	s := lab.Scenario{Name: "test/world", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			world = env.World
			env.Evidence.Delivered("fe01", "delivered the canary")
			return nil
		}}
	r := lab.Runner{Seed: 42}.Run(context.Background(), s)
	verdict(lab.Passed, true)(t, r)
	select {
	case <-world.Done():
	default:
		t.Error("World not closed after Run returned")
	}
	if r.Seed != 42 || world.Seed() != 42 {
		t.Errorf("seed: result %d, world %d; want 42", r.Seed, world.Seed())
	}
}

func TestRunnerCallerCancels(t *testing.T) {
	held := lab.Scenario{Name: "test/held", Summary: "x", Expected: lab.Held, Run: noop}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := lab.Runner{}.RunAll(ctx, []lab.Scenario{held, held})
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for _, r := range results {
		all(verdict(lab.Error, false), errContains("not started: context canceled"))(t, r)
	}

	ctx, cancel = context.WithCancel(context.Background())
	waiting := lab.Scenario{Name: "test/waiting", Summary: "x", Expected: lab.Held,
		Run: func(ctx context.Context, env *lab.Env) error {
			cancel()
			<-ctx.Done()
			return nil
		}}
	r := lab.Runner{}.Run(ctx, waiting)
	all(verdict(lab.Error, false), errContains("stopped by the caller: context canceled"))(t, r)
}

func TestRunnerArtifacts(t *testing.T) {
	dir := t.TempDir()
	pcapDir, keyDir := filepath.Join(dir, "pcap", "nested"), filepath.Join(dir, "keys")
	var env *lab.Env
	s := lab.Scenario{Name: "eavesdrop/tls", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, e *lab.Env) error {
			env = e
			if e.KeyLog == nil {
				return errors.New("KeyLog is nil although a key log dir was given")
			}
			e.Capture(e.World.NewSegment("lan", netsim.SegmentConfig{}))
			e.Capture(e.World.NewSegment("internet", netsim.SegmentConfig{}))
			_, err := e.KeyLog.Write([]byte("CLIENT_RANDOM 00 11\n"))
			e.Evidence.Delivered("fe01", "delivered the canary")
			return err
		}}
	r := lab.Runner{PcapDir: pcapDir, KeyLogDir: keyDir}.Run(context.Background(), s)
	verdict(lab.Passed, true)(t, r)
	if want := filepath.Join(pcapDir, "eavesdrop-tls.pcapng"); r.Pcap != want {
		t.Errorf("Pcap = %q, want %q", r.Pcap, want)
	}
	if want := filepath.Join(keyDir, "eavesdrop-tls.keys"); r.KeyLog != want {
		t.Errorf("KeyLog = %q, want %q", r.KeyLog, want)
	}
	checkPcapInterfaces(t, r.Pcap, "lan", "internet")
	if b, err := os.ReadFile(r.KeyLog); err != nil || string(b) != "CLIENT_RANDOM 00 11\n" {
		t.Errorf("key log: %q, %v", b, err)
	}
	env.Capture(env.World.NewSegment("late", netsim.SegmentConfig{})) // after teardown: a no-op, no panic
}

// checkPcapInterfaces asserts that path is a pcapng file with one interface
// per captured segment, in order.
func checkPcapInterfaces(t *testing.T, path string, names ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s is not pcapng: %v", path, err)
	}
	for { // interfaces are known once the stream has been read
		if _, _, err := rd.ReadPacketData(); err != nil {
			break
		}
	}
	if rd.NInterfaces() != len(names) {
		t.Fatalf("%s has %d interfaces, want %d", path, rd.NInterfaces(), len(names))
	}
	for i, want := range names {
		if intf, err := rd.Interface(i); err != nil || intf.Name != want {
			t.Errorf("interface %d: %q, %v; want %q", i, intf.Name, err, want)
		}
	}
}

func TestRunnerNoArtifacts(t *testing.T) {
	s := lab.Scenario{Name: "test/plain", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, e *lab.Env) error {
			if e.KeyLog != nil {
				return errors.New("KeyLog is not nil")
			}
			e.Capture(e.World.NewSegment("lan", netsim.SegmentConfig{})) // no-op
			e.Evidence.Delivered("fe01", "delivered the canary")
			return nil
		}}
	r := lab.Runner{}.Run(context.Background(), s)
	verdict(lab.Passed, true)(t, r)
	if r.Pcap != "" || r.KeyLog != "" {
		t.Errorf("artifacts %q %q, want none", r.Pcap, r.KeyLog)
	}
}

func TestRunnerArtifactDirUnusable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := lab.Scenario{Name: "test/x", Summary: "x", Expected: lab.Held, Run: noop}
	r := lab.Runner{PcapDir: filepath.Join(file, "sub")}.Run(context.Background(), s)
	all(verdict(lab.Error, false), errContains("lab: artifact directory: cannot use "+filepath.Join(file, "sub")+": not a directory"))(t, r)
}

// Artifacts are written under temporary names and renamed into place: a
// symlink planted at a final name is replaced, its target untouched; key
// logs and the key log directory the Runner creates are private; nothing
// else is left in the directories.
func TestRunnerArtifactsAreSafe(t *testing.T) {
	dir := t.TempDir()
	pcapDir, keyDir := filepath.Join(dir, "pcap"), filepath.Join(dir, "keys")
	if err := os.Mkdir(pcapDir, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	planted := filepath.Join(pcapDir, "test-safe.pcapng")
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	s := lab.Scenario{Name: "test/safe", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, e *lab.Env) error {
			e.Capture(e.World.NewSegment("lan", netsim.SegmentConfig{}))
			_, err := e.KeyLog.Write([]byte("CLIENT_RANDOM 00 11\n"))
			e.Evidence.Delivered("fe01", "delivered the canary")
			return err
		}}
	r := lab.Runner{PcapDir: pcapDir, KeyLogDir: keyDir}.Run(context.Background(), s)
	verdict(lab.Passed, true)(t, r)
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the planted symlink was followed: its target holds %q", b)
	}
	if fi, err := os.Lstat(planted); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s: %v, %v; want a regular file", planted, fi, err)
	}
	checkPcapInterfaces(t, planted, "lan")
	for path, want := range map[string]os.FileMode{keyDir: os.ModeDir | 0o700, r.KeyLog: 0o600, r.Pcap: 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode(), err, want)
		}
	}
	for d, want := range map[string]int{pcapDir: 1, keyDir: 1} {
		if ents, _ := os.ReadDir(d); len(ents) != want {
			t.Errorf("%s holds %d files, want %d (temporary files left behind?)", d, len(ents), want)
		}
	}
}

// devFull is an artifact on a full disk: every write fails with ENOSPC.
type devFull struct{ *os.File }

func (f devFull) Commit() error { return f.Close() }
func (f devFull) Abort()        { f.Close() }

// onFullDisk is a Runner.CreateArtifact that puts key logs on /dev/full
// and other artifacts where the default would.
func onFullDisk(t *testing.T) func(string, os.FileMode) (lab.ArtifactFile, error) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	return func(path string, perm os.FileMode) (lab.ArtifactFile, error) {
		if !strings.HasSuffix(path, ".keys") {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
			return devFull{f}, err
		}
		f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return devFull{f}, nil
	}
}

func TestNewCanary(t *testing.T) {
	// 8 bytes per token: the second read repeats the first, so it is retried.
	chunk := bytes.Repeat([]byte{0xab}, 8)
	rnd := bytes.NewReader(append(append(append([]byte{}, chunk...), chunk...), bytes.Repeat([]byte{1}, 8)...))
	var got []lab.Canary
	s := lab.Scenario{Name: "test/canary", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			env.NewCanary("alice")
			env.NewCanary("bob")
			got = env.Canaries()
			env.Evidence.Delivered("fe01", "delivered the canary")
			return nil
		}}
	r := lab.Runner{Rand: rnd}.Run(context.Background(), s)
	verdict(lab.Passed, true)(t, r)
	want := []lab.Canary{{Owner: "alice", Token: "CANARY-abababababababab"}, {Owner: "bob", Token: "CANARY-0101010101010101"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("canaries %v, want %v", got, want)
	}

	var real []lab.Canary
	s.Run = func(ctx context.Context, env *lab.Env) error {
		for range 100 {
			env.NewCanary("alice")
		}
		real = env.Canaries()
		return nil
	}
	lab.Runner{}.Run(context.Background(), s)
	seen := map[string]bool{}
	re := regexp.MustCompile(`^CANARY-[0-9a-f]{16}$`)
	for _, c := range real {
		if !re.MatchString(c.Token) || seen[c.Token] {
			t.Errorf("bad or repeated token %q", c.Token)
		}
		seen[c.Token] = true
	}
	if len(real) != 100 {
		t.Errorf("%d canaries, want 100", len(real))
	}
}

func TestFindCanaries(t *testing.T) {
	cs := []lab.Canary{{Owner: "a", Token: "CANARY-1"}, {Owner: "b", Token: "CANARY-2"}, {Owner: "c"}}
	found := lab.FindCanaries([]byte("xx CANARY-2 yy"), cs)
	if len(found) != 1 || found[0].Owner != "b" {
		t.Errorf("found %v, want b's", found)
	}
}

func ExampleRunner_Run() {
	s := lab.Scenario{
		Name:      "eavesdrop/demo",
		Labels:    []lab.Label{lab.LabelEavesdrop},
		Summary:   "a passive listener sees only ciphertext",
		Attacker:  "an eavesdropper on the LAN",
		Expected:  lab.Held,
		StoppedBy: lab.DefenseTLSOnly,
		Run: func(ctx context.Context, env *lab.Env) error {
			secret := env.NewCanary("alice")
			captured := []byte("\x17\x03\x03 ...ciphertext...") // what the tap saw
			env.Evidence.Reached("eavesdropper", lab.MilestoneInPosition, "captured alice's connection")
			env.Evidence.Refused("alice", lab.DefenseTLSOnly, "sent only TLS application data records")
			found := lab.FindCanaries(captured, []lab.Canary{secret})
			env.Evidence.CanariesObtained("eavesdropper", len(found), 1,
				lab.FormatBytes(len(captured))+" of captured TCP payload")
			env.Evidence.SetService(lab.ServiceIntact)
			return nil
		},
	}
	r := lab.Runner{}.Run(context.Background(), s)
	fmt.Println(r.Outcome(), r.OK, r.Service)
	fmt.Println(r.MainEvidence())
	// Output:
	// held (tls-only) true intact
	// alice: sent only TLS application data records
}

// A key log that cannot be written (a full disk) never reaches the TLS
// stacks, which would abort their handshakes: the handshake completes and
// the run is an Error naming the key log.
func TestRunnerKeyLogFullDisk(t *testing.T) {
	create := onFullDisk(t)
	dir := t.TempDir()
	var handshakeErr error
	s := lab.Scenario{Name: "test/keylog", Summary: "x", Expected: lab.Passed,
		Run: func(ctx context.Context, env *lab.Env) error {
			handshakeErr = pipeHandshake(env.KeyLog)
			env.Evidence.Delivered("fe01", "delivered the canary")
			return nil
		}}
	r := lab.Runner{KeyLogDir: dir, CreateArtifact: create}.Run(context.Background(), s)
	if handshakeErr != nil {
		t.Fatalf("the handshake saw the key log's failure: %v", handshakeErr)
	}
	all(verdict(lab.Error, false), errContains("lab: key log "+filepath.Join(dir, "test-keylog.keys")+": write /dev/full: "),
		errContains("no space left on device"))(t, r)
}

// pipeHandshake runs a TLS 1.3 handshake over net.Pipe, the client
// logging its secrets to keyLog, and returns the first handshake error.
func pipeHandshake(keyLog io.Writer) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "srv"}, DNSNames: []string{"srv"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	srv := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cli := tls.Client(c, &tls.Config{InsecureSkipVerify: true, KeyLogWriter: keyLog})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	return errors.Join(cli.Handshake(), <-done)
}

package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/scenarios"
)

// TestCapturesAnnotated runs real scenarios with --pcap --embed-keys and
// reads the captures with tshark, with no key log: the spoofed ARP
// replies, the forged DNS answer, the attacker's TLS answer and the
// refused handshakes carry their exact comments on the right frames, the
// refusing alert is decrypted from the embedded secrets, a baseline's SIP
// reads in clear (and does not without --embed-keys), and tshark finds
// nothing malformed and no bad checksum.
func TestCapturesAnnotated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real scenarios")
	}
	requireTshark(t)
	dir := t.TempDir()
	embedded, plain := filepath.Join(dir, "embedded"), filepath.Join(dir, "plain")
	catalog := scenarios.Catalog()
	exit(ExitOK)(t, run(catalog, "run", "--seed", "1", "--pcap", embedded, "--embed-keys",
		"mitm/self-signed", "dns/on-path-spoof", "baseline/client-register-im"))
	exit(ExitOK)(t, run(catalog, "run", "--seed", "1", "--pcap", plain, "baseline/client-register-im"))
	capture := func(d, name string) string { return filepath.Join(d, name+".pcapng") }

	t.Run("ARP spoofing MITM", func(t *testing.T) {
		f := capture(embedded, "mitm-self-signed")
		rows := tsharkFields(t, f, "frame.comment", "frame.comment", "arp.opcode", "arp.src.proto_ipv4", "arp.src.hw_mac", "tls.handshake.type", "tls.alert_message.desc")
		const mallory = "02:00:5e:00:00:14"
		spoofs := map[string]bool{}
		var rest []string
		for _, r := range rows {
			switch r[1] {
			case "2", "1":
				kind := map[string]string{"2": "ARP reply", "1": "gratuitous ARP"}[r[1]]
				if want := fmt.Sprintf("mallory: spoofed %s %s is-at %s", kind, r[2], r[3]); r[0] != want || r[3] != mallory {
					t.Errorf("ARP frame from %s claiming %s: comment %q, want %q", r[3], r[2], r[0], want)
				}
				spoofs[r[0]] = true
			default:
				rest = append(rest, strings.Join(r, "|"))
			}
		}
		for _, ip := range []string{"10.0.0.10", "10.0.0.11"} {
			for _, kind := range []string{"ARP reply", "gratuitous ARP"} {
				if want := "mallory: spoofed " + kind + " " + ip + " is-at " + mallory; !spoofs[want] {
					t.Errorf("no frame noted %q", want)
				}
			}
		}
		// Every poisoning frame is noted, in every round.
		if n := len(tsharkFields(t, f, "arp.src.hw_mac=="+mallory+" && arp.src.proto_ipv4!=10.0.0.66 && !frame.comment", "frame.number")); n != 0 {
			t.Errorf("%d of mallory's spoofed ARP frames carry no comment", n)
		}
		want := []string{
			// The ServerHello flight, decrypted from the embedded secrets.
			"mallory: answered 10.0.0.10's TLS handshake as 10.0.0.11:5061, presenting its self-signed certificate per SNI||||2,8|",
			// alice's alert, bad_certificate (42).
			"alice: refused the certificate (chain-validation): tls: failed to verify certificate: x509: certificate signed by unknown authority, " +
				"in the TLS handshake with pool01.contoso.com (10.0.0.11:5061); plaintext fallback is off|||||42",
		}
		if !slices.Equal(rest, want) {
			t.Errorf("other noted frames:\n%s\nwant:\n%s", strings.Join(rest, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("on-path DNS spoofing", func(t *testing.T) {
		rows := tsharkFields(t, capture(embedded, "dns-on-path-spoof"), "frame.comment", "frame.comment", "ip.src", "dns.id", "udp.dstport", "dns.a", "tls.alert_message.desc")
		// The forged answers (one, unless the resolver asked again), from
		// dns01's address, each to its query's ID and port.
		var rest [][]string
		forged := 0
		for _, r := range rows {
			if !strings.HasPrefix(r[0], "mallory: forged DNS answer") {
				rest = append(rest, r)
				continue
			}
			forged++
			id, err := strconv.ParseUint(r[2], 0, 16)
			if err != nil || r[1] != "10.0.0.53" || r[4] != "10.0.0.66" {
				t.Errorf("forged answer frame: %q (%v)", r, err)
			}
			if want := fmt.Sprintf("mallory: forged DNS answer pool01.contoso.com A 10.0.0.66 (query ID %d from 10.0.0.10:%s)", id, r[3]); r[0] != want {
				t.Errorf("forged answer: comment %q, want %q", r[0], want)
			}
		}
		if forged == 0 || len(rest) != 2 {
			t.Fatalf("%d forged answers and %d other noted frames, want some and 2: %q", forged, len(rest), rows)
		}
		if want := "mallory: answered 10.0.0.10's TLS handshake as 10.0.0.66:5061, presenting its certificate forged per SNI by the attacker's CA Mallory Root CA"; rest[0][0] != want || rest[0][1] != "10.0.0.66" {
			t.Errorf("attacker's handshake: %q, want comment %q from 10.0.0.66", rest[0], want)
		}
		if want := "alice: refused the certificate (chain-validation): tls: failed to verify certificate: x509: certificate signed by unknown authority, in the TLS handshake with pool01.contoso.com (10.0.0.66:5061)"; rest[1][0] != want || rest[1][1] != "10.0.0.10" || rest[1][5] != "42" {
			t.Errorf("refused handshake: %q, want comment %q on alice's bad_certificate alert", rest[1], want)
		}
	})

	t.Run("embedded secrets decrypt", func(t *testing.T) {
		const message = `sip.Method == "MESSAGE"`
		if n := len(tsharkFields(t, capture(embedded, "baseline-client-register-im"), message, "sip.Request-Line")); n == 0 {
			t.Error("no SIP MESSAGE decrypted from the capture written with --embed-keys")
		}
		if n := len(tsharkFields(t, capture(plain, "baseline-client-register-im"), message, "sip.Request-Line")); n != 0 {
			t.Errorf("%d SIP MESSAGEs read from the capture written without --embed-keys; the check proves nothing", n)
		}
		if n := len(tsharkFields(t, capture(plain, "baseline-client-register-im"), "frame.comment", "frame.comment")); n != 0 {
			t.Errorf("%d comments in a run without an attack or a refusal", n)
		}
	})

	t.Run("read cleanly", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(embedded, "*.pcapng"))
		if len(files) != 3 {
			t.Fatalf("captures %q, want 3", files)
		}
		for _, f := range files {
			out := tshark(t, "-r", f, "-o", "tls.keylog_file:", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-q", "-z", "expert")
			for _, bad := range []string{"Malformed", "malformed", "Checksum", "checksum", "Bad "} {
				if strings.Contains(out, bad) {
					t.Errorf("%s: tshark expert info mentions %q:\n%s", filepath.Base(f), bad, out)
				}
			}
		}
	})
}

// requireTshark skips the test when tshark is not installed, except in CI
// (CI=true), where its absence is a failure.
func requireTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not on PATH but CI=true: CI must install it (apt-get install -y tshark)")
		}
		t.Skip("tshark is not on PATH; install it (apt-get install tshark) to check the captures")
	}
}

// tshark runs tshark with args and returns its standard output; it fails
// the test on a non-zero exit or on anything on standard error but the
// notice tshark prints when run as root.
func tshark(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	const root = `Running as user "root" and group "root". This could be dangerous.`
	if s := strings.TrimSpace(strings.ReplaceAll(stderr.String(), root, "")); s != "" {
		t.Errorf("tshark %s complained:\n%s", strings.Join(args, " "), s)
	}
	return stdout.String()
}

// tsharkFields returns, for each frame of file matching filter, the given
// fields, read with no key log file (an empty tls.keylog_file overrides
// any the user's profile sets): what the capture alone says.
func tsharkFields(t *testing.T, file, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-o", "tls.keylog_file:", "-Y", filter, "-T", "fields", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var rows [][]string
	for line := range strings.Lines(tshark(t, args...)) {
		rows = append(rows, strings.Split(strings.TrimSuffix(line, "\n"), "|"))
	}
	return rows
}

// --embed-keys is documented, and without --pcap it is a usage error found
// before anything runs.
func TestEmbedKeysFlag(t *testing.T) {
	usage("tlslab help run", "tlslab: --embed-keys writes the TLS secrets into the captures: it needs --pcap DIR\n")(t,
		run(fakeCatalog(), "run", "--embed-keys", "--keylog", t.TempDir()))
	all(exit(ExitOK), stdoutHas("--embed-keys", "opens decrypted with no key log"))(t, run(fakeCatalog(), "run", "--help"))
	dir := t.TempDir()
	o := run(fakeCatalog(), "run", "--pcap", dir, "--embed-keys", "eavesdrop/tls")
	exit(ExitOK)(t, o)
	if _, err := os.Stat(filepath.Join(dir, "eavesdrop-tls.pcapng")); err != nil {
		t.Error(err)
	}
}

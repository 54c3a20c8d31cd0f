package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fileHas requires the file at path to hold each of subs.
func fileHas(t *testing.T, path string, subs ...string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	for _, s := range subs {
		if !strings.Contains(string(data), s) {
			t.Errorf("%s lacks %q", path, s)
		}
	}
	return string(data)
}

func TestShowHTML(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "arp.html")
	o := run(withWire(), "show", "baseline/arp", "--run", "--seed", "42", "--html", page)
	all(exit(ExitOK), stdoutLines("baseline/arp: passed; expected passed, as expected; service intact, seed 42"))(t, o)
	html := fileHas(t, page, `<svg class="ladder"`, `href="baseline-arp.pcapng"`, `href="baseline-arp.keys"`,
		"ARP who-has 10.0.0.20", "PASSED")
	// One arrow per event: the ARP request and reply, SYN, RST and two evidence lines.
	if n := strings.Count(html, `<a class="arrow `); n != 6 {
		t.Errorf("the ladder has %d arrows, want 6 (one per timeline event)", n)
	}
	for _, f := range []string{"baseline-arp.pcapng", "baseline-arp.keys"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the page's %s is missing: %v", f, err)
		}
	}
}

func TestShowHTMLCompare(t *testing.T) {
	page := filepath.Join(t.TempDir(), "cmp.html")
	o := run(withWire(), "show", "baseline/arp", "--run", "--seed", "7", "--html", page, "--compare", "arp-policy=static-only")
	exit(ExitOK)(t, o)
	fileHas(t, page, "As declared", "With arp-policy=static-only", `id="a-ladder"`, `id="b-ladder"`)
}

func TestHTMLUsage(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--html needs --run", []string{"show", "baseline/arp", "--html", page}, "--html applies only with --run"},
		{"--compare needs --html", []string{"show", "baseline/arp", "--run", "--compare", "tls-only=off"}, "--compare applies only with --html"},
		{"--compare without =", []string{"show", "baseline/arp", "--run", "--html", page, "--compare", "tls-only"}, `invalid --compare "tls-only"; want SWITCH=VALUE`},
		{"--compare unknown switch", []string{"show", "baseline/arp", "--run", "--html", page, "--compare", "tls=off"}, `unknown defense switch "tls" in --compare; want one of: chain-validation,`},
		{"--compare bad value", []string{"show", "baseline/arp", "--run", "--html", page, "--compare", "tls-only=of"}, `tls-only cannot be "of"; valid: on, off`},
		{"--html into a missing directory", []string{"show", "baseline/arp", "--run", "--html", filepath.Join(dir, "no", "p.html")}, "--html: cannot write"},
		{"run --html with --pcap", []string{"run", "baseline/arp", "--html", dir, "--pcap", dir}, "--html keeps each capture and key log beside its page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(withWire(), tt.args...)
			cmd := "tlslab help show"
			if tt.args[0] == "run" {
				cmd = "tlslab help run"
			}
			usage(cmd, tt.want)(t, o)
		})
	}
}

func TestRunHTML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pages")
	o := run(withWire(), "run", "baseline/arp", "mitm/self-signed", "--seed", "3", "-j", "2", "--html", dir)
	all(exit(ExitMismatch), stderrHas("tlslab: HTML pages in "+dir))(t, o) // the fake mitm/self-signed differs
	fileHas(t, filepath.Join(dir, "index.html"), `href="baseline-arp.html"`, `href="mitm-self-signed.html"`, "2 scenarios")
	fileHas(t, filepath.Join(dir, "baseline-arp.html"), `href="index.html"`, `<svg class="ladder"`)
	fileHas(t, filepath.Join(dir, "mitm-self-signed.html"), "NOT as expected")
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the pages' directory holds key logs: want mode 0700, got %v (%v)", fi.Mode().Perm(), err)
	}
}

func TestMatrixHTML(t *testing.T) {
	page := filepath.Join(t.TempDir(), "matrix.html")
	o := run(withWire(), "matrix", "baseline/arp", "--seed", "1", "--html", page)
	all(exit(ExitOK), stderrHas("tlslab: matrix page "+page))(t, o)
	fileHas(t, page, `<table class="matrix">`, `<th scope="row">baseline/arp</th>`, "chain-validation off", "passed")
	usage("tlslab help matrix", "--html: cannot write")(t, run(withWire(), "matrix", "baseline/arp", "--html", filepath.Join(page, "x", "y.html")))
}

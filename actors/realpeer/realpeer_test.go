package realpeer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tlslab/tlslab/actors/realpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"  ", "realpeer: command template, column 1: the command is empty"},
		{"openssl s_client -connect {adr}", "realpeer: command template, column 27: unknown placeholder {adr}; known: addr, host, port, sni, ca, crl, canary, proxy, target, cert, chain, key"},
		{"echo {canary", `realpeer: command template, column 6: "{" is not closed; write "{{" for a literal brace`},
		{"awk '}'", `realpeer: command template, column 6: "}" without "{"; write "}}" for a literal brace`},
	} {
		if _, err := realpeer.Parse(c.text); err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q): %v, want %q", c.text, err, c.want)
		}
	}
}

func TestExpandQuotes(t *testing.T) {
	tp, err := realpeer.Parse("printf %s {canary} {{x}} {sni} {canary}")
	if err != nil {
		t.Fatal(err)
	}
	if got := tp.Names(); strings.Join(got, ",") != "canary,sni" {
		t.Errorf("Names() = %v", got)
	}
	got, err := tp.Expand(map[string]string{"canary": "it's $(touch pwned)", "sni": "api.lan"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `printf %s 'it'\''s $(touch pwned)' {x} api.lan 'it'\''s $(touch pwned)'`; got != want {
		t.Errorf("Expand = %q, want %q", got, want)
	}
	if _, err := tp.Expand(map[string]string{"canary": "x"}); err == nil || err.Error() != "realpeer: command template: no value for {sni} here" {
		t.Errorf("Expand without sni: %v", err)
	}
	dir := t.TempDir()
	r := realpeer.Run(context.Background(), got, dir)
	if r.ExitCode != 0 || string(r.Output) != "it's $(touch pwned)api.lanit's $(touch pwned)" && !strings.HasPrefix(string(r.Output), "it's $(touch pwned)") {
		t.Errorf("ran %q: exit %d, output %q", got, r.ExitCode, r.Output)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a value ran as shell syntax")
	}
}

func TestRun(t *testing.T) {
	r := realpeer.Run(context.Background(), `cat <<< "hello"; echo oops >&2; exit 3`, t.TempDir())
	if r.ExitCode != 3 || string(r.Output) != "hello\noops\n" || r.Err != nil || r.Stopped {
		t.Errorf("got %+v", r)
	}
	r = realpeer.Run(context.Background(), "head -c 2000000 /dev/zero", t.TempDir())
	if len(r.Output) != realpeer.MaxOutput || !r.Truncated || r.ExitCode != 0 {
		t.Errorf("output %d bytes, truncated %v, exit %d", len(r.Output), r.Truncated, r.ExitCode)
	}
}

// TestStopKillsTheGroup stops a program whose child holds its output
// open: the whole group dies and Stop returns.
func TestStopKillsTheGroup(t *testing.T) {
	p, err := realpeer.Start(context.Background(), "sleep 60 & echo started; sleep 60", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Start returns once bash was exec'd, in its group: no wait needed.
	if err := syscall.Kill(-p.Pid(), 0); err != nil {
		t.Fatalf("no process group %d after Start: %v", p.Pid(), err)
	}
	r := p.Stop()
	if !r.Stopped || r.ExitCode != -1 || r.Err == nil || r.Err.Error() != "realpeer: stopped while running" {
		t.Errorf("got %+v", r)
	}
	// The background sleep holds the output pipe: Stop returning before
	// the 2 s grace for stuck pipes shows the whole group was killed (a
	// killed child may linger as a zombie until reaped, so the group id
	// itself proves nothing).
	if r.Duration >= 2*time.Second {
		t.Errorf("Stop took %v: the child holding the output was not killed", r.Duration)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if r := realpeer.Run(ctx, "sleep 60", t.TempDir()); !r.Stopped {
		t.Errorf("context end: %+v", r)
	}
}

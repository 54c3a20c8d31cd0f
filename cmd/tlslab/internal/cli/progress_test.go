package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

func TestProgressOnTerminal(t *testing.T) {
	var term bytes.Buffer
	p := &progress{w: &term, what: "cell", start: time.Now()}
	p.update(1, 720, lab.Result{Scenario: "mitm/self-signed", Verdict: lab.Held})
	p.update(2, 720, lab.Result{Scenario: "mitm/" + strings.Repeat("x", 100), Verdict: lab.Broken})
	p.clear()
	out := term.String()
	if !strings.HasPrefix(out, "\r[  1/720 cells] mitm/self-signed: held (") || !strings.Contains(out, " elapsed)\x1b[K\r[  2/720 cells] mitm/xxx") {
		t.Errorf("progress output %q", out)
	}
	for _, line := range strings.Split(out, "\r")[1:] {
		if n := len([]rune(strings.TrimSuffix(line, "\x1b[K"))); n > 79 {
			t.Errorf("line of %d runes overflows a terminal: %q", n, line)
		}
	}
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("the line is not erased at the end: %q", out)
	}
}

func TestProgressNotOnATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newProgress(context.Background(), f, "scenario", false)
	p.update(1, 1, lab.Result{Scenario: "a/b", Verdict: lab.Held})
	p.clear()
	if info, _ := f.Stat(); info.Size() != 0 {
		t.Errorf("wrote %d bytes of progress to a regular file", info.Size())
	}
}

// With --progress every finished run gets a line of its own, on anything.
func TestProgressLines(t *testing.T) {
	var log bytes.Buffer
	p := newProgress(context.Background(), &log, "scenario", true)
	p.update(1, 2, lab.Result{Scenario: "a/b", Verdict: lab.Held})
	p.update(2, 2, lab.Result{Scenario: "a/c", Verdict: lab.Broken})
	p.clear()
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "[1/2 scenarios] a/b: held (") || !strings.HasPrefix(lines[1], "[2/2 scenarios] a/c: broken (") ||
		strings.ContainsAny(log.String(), "\r\x1b") {
		t.Errorf("progress lines %q", log.String())
	}
}

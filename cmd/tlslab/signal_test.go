package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// tlslabBinary builds the real tlslab once per test binary.
var tlslabBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tlslab-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tlslab")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out: out, err: err}
	}
	return bin, nil
})

type buildError struct {
	out []byte
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := tlslabBinary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// A signal mid-run or mid-matrix stops tlslab cleanly: exit 128 + the
// signal, "interrupted" on stderr, the baseline to update untouched, no
// report file, and every capture and key log that was written complete.
// The signal is sent when the first run has finished (its --progress line
// on stderr), never after a sleep.
func TestSignalStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the tlslab binary")
	}
	bin, err := tlslabBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, tsharkErr := exec.LookPath("tshark")
	if tsharkErr != nil && os.Getenv("CI") == "true" {
		t.Fatal("tshark is not on PATH; CI must check the captures")
	}
	for _, tt := range []struct {
		cmd      string
		baseline string
		sig      syscall.Signal
		code     int
	}{
		{"run", "run.json", syscall.SIGINT, 130},
		{"run", "run.json", syscall.SIGTERM, 143},
		{"matrix", "matrix.json", syscall.SIGINT, 130},
		{"matrix", "matrix.json", syscall.SIGTERM, 143},
	} {
		t.Run(tt.cmd+"/"+tt.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			stored, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "testdata", "baselines", tt.baseline))
			if err != nil {
				t.Fatal(err)
			}
			base, report := filepath.Join(dir, tt.baseline), filepath.Join(dir, "report.md")
			os.WriteFile(base, stored, 0o644)
			pcap, keys := filepath.Join(dir, "pcap"), filepath.Join(dir, "keys")
			args := []string{tt.cmd, "--progress", "--update-baseline", base, "--output", report, "--format", "markdown"}
			if tt.cmd == "run" {
				args = append(args, "--parallel", "1", "--pcap", pcap, "--keylog", keys)
			}
			cmd := exec.Command(bin, args...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			errPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			sc := bufio.NewScanner(errPipe)
			signalled := false
			for sc.Scan() {
				stderr.WriteString(sc.Text() + "\n")
				if !signalled && strings.HasPrefix(sc.Text(), "[") {
					cmd.Process.Signal(tt.sig)
					signalled = true
				}
			}
			cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != tt.code || !strings.Contains(stderr.String(), "tlslab: interrupted after ") {
				t.Fatalf("exit %d, want %d, with 'interrupted' on stderr:\n%s", code, tt.code, stderr.String())
			}
			if now, _ := os.ReadFile(base); !bytes.Equal(now, stored) {
				t.Errorf("the baseline %s changed", base)
			}
			if _, err := os.Lstat(report); err == nil {
				t.Errorf("the report file %s was written", report)
			}
			if tt.cmd == "run" {
				checkArtifacts(t, pcap, keys, tsharkErr == nil)
			}
			for _, d := range []string{dir, pcap, keys} {
				if tmps, _ := filepath.Glob(filepath.Join(d, ".*")); len(tmps) > 0 {
					t.Errorf("temporary files left behind: %v", tmps)
				}
			}
		})
	}
}

// checkArtifacts checks that the captures and key logs pair up, that key
// logs are 0600 and not empty, and, with tshark, that every capture reads
// cleanly.
func checkArtifacts(t *testing.T, pcap, keys string, tshark bool) {
	t.Helper()
	captures, _ := filepath.Glob(filepath.Join(pcap, "*.pcapng"))
	keyLogs, _ := filepath.Glob(filepath.Join(keys, "*.keys"))
	if len(captures) == 0 || len(captures) != len(keyLogs) {
		t.Errorf("%d captures and %d key logs, want as many and some", len(captures), len(keyLogs))
	}
	for _, k := range keyLogs {
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", k, fi, err)
		}
	}
	if !tshark {
		t.Log("tshark not on PATH: captures not checked with it")
		return
	}
	for _, c := range captures {
		out, err := exec.Command("tshark", "-r", c).CombinedOutput()
		lower := strings.ToLower(string(out))
		if err != nil || strings.Contains(lower, "malformed") || strings.Contains(lower, "cut short") {
			t.Errorf("tshark -r %s: %v\n%s", c, err, out)
		}
	}
}

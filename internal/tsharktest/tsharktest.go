// Package tsharktest has tests read captures with tshark, a decoder nobody
// here wrote: find it (skipping locally without it, failing in CI), write
// a capture to a file, select frames and fields, and check that nothing
// is malformed or warned about. IPv4, TCP and UDP checksums are validated
// in every read (tshark leaves them unchecked by default).
package tsharktest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Require skips the test when tshark is not on PATH, except in CI
// (CI=true), where .ci/run installs it and its absence fails the test.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not on PATH but CI=true: CI must install it (apt-get install -y tshark)")
		}
		t.Skip("tshark is not on PATH; install it (apt-get install tshark) to check the captures")
	}
}

// WriteCapture writes a pcapng capture to name in a temporary directory of
// t and returns its path.
func WriteCapture(t testing.TB, name string, pcapng []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, pcapng, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// checksums makes tshark validate every IPv4, TCP and UDP checksum.
var checksums = []string{"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}

// rootNotice is what tshark prints on stderr when run as root.
const rootNotice = `Running as user "root" and group "root". This could be dangerous.`

// Fields returns, for each frame of file matching the display filter, the
// given fields joined by "|" (a field's several values by ","), in frame
// order. It fails the test when tshark fails, and reports anything tshark
// says on stderr.
func Fields(t testing.TB, file, filter string, fields ...string) []string {
	t.Helper()
	args := append([]string{"-r", file}, checksums...)
	args = append(args, "-Y", filter, "-T", "fields", "-E", "separator=|", "-E", "aggregator=,")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if s := strings.TrimSpace(strings.ReplaceAll(stderr.String(), rootNotice, "")); s != "" {
		t.Errorf("tshark %s complained:\n%s", strings.Join(args, " "), s)
	}
	var rows []string
	for line := range strings.Lines(stdout.String()) {
		rows = append(rows, strings.TrimSuffix(line, "\n"))
	}
	return rows
}

// CheckClean reports an error for every frame of file that tshark finds
// malformed or marks with an expert warning or error (a bad checksum
// among them). allowed, when not "", is a display filter for the frames
// a test expects a warning on (a reset it provokes).
func CheckClean(t testing.TB, file, allowed string) {
	t.Helper()
	filter := "_ws.malformed || _ws.expert.severity >= warning"
	if allowed != "" {
		filter = "(" + filter + ") && !(" + allowed + ")"
	}
	if bad := Fields(t, file, filter, "frame.number", "_ws.col.Protocol", "_ws.expert.message"); len(bad) > 0 {
		t.Errorf("tshark reports malformed frames or warnings in %s:\n%s", filepath.Base(file), strings.Join(bad, "\n"))
	}
}

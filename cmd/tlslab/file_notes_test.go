package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/cmd/tlslab/internal/cli"
	"github.com/tlslab/tlslab/scenarios"
)

// The real command line prints a scenario file's notes on stderr: show
// --file of a file that writes a YAML 1.1 boolean describes the scenario
// and names the line, the word and the one to write.
func TestShowFileNotes(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "examples", "forged-ca-trusted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Replace(example, []byte("  trusted_by_victim: true\n"), []byte("  trusted_by_victim: yes\n"), 1)
	path := filepath.Join(t.TempDir(), "yes.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	line := 1 + bytes.Count(data[:bytes.Index(data, []byte("trusted_by_victim: yes"))], []byte("\n"))
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"show", "--file", path}, &stdout, &stderr,
		cli.Lab{Catalog: scenarios.Catalog(), ParseFileNotes: parseFileNotes})
	want := "tlslab: " + path + ":" + strconv.Itoa(line) + `:22: attacker.trusted_by_victim: "yes" read as true; write true ("yes" is a YAML 1.1 boolean)` + "\n"
	if code != cli.ExitOK || stderr.String() != want || !strings.HasPrefix(stdout.String(), "training/forged-ca-trusted\n") {
		t.Errorf("exit %d, stderr %q (want %q), stdout:\n%s", code, stderr.String(), want, stdout.String())
	}
}

package scenarios

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

var updateGolden = flag.Bool("update", false, "rewrite the .err golden files of testdata/malformed that changed")

// exampleReasons is, per example, the exact reason its evidence must
// carry: the defense's refusal, or what alice accepted.
var exampleReasons = map[string]string{
	"forged-ca-trusted.yaml": `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, ` +
		`certificate CN=pool01.contoso.com issued by CN=Mallory Root CA,O=Mallory`,
	"expired-enterprise-cert.yaml":      "x509: certificate has expired or is not yet valid",
	"wrong-name-no-hostname-check.yaml": `alice: accepted the attacker as "pool01.contoso.com": completed the TLS 1.3 handshake with mallory, certificate CN=mallory.contoso.com,O=Contoso`,
	"rsa-mis-issued-revoked.yaml":       "reason keyCompromise (OCSP http://pki.contoso.com/ocsp), in the TLS handshake with pool01.contoso.com (10.0.0.11:5061)",
	"dns-hijack-mis-issued.yaml":        "mallory's machine 10.0.0.66:5061 completed the TLS handshake with certificate CN=pool01.contoso.com issued by CN=Contoso Issuing CA 01,O=Contoso",
}

// Every example loads, validates, declares what show needs, and runs to
// its expected verdict for the expected reason.
func TestFileExamples(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("examples", "*.yaml"))
	if err != nil || len(paths) < 4 {
		t.Fatalf("examples: %v, %d files", err, len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			reason, ok := exampleReasons[filepath.Base(path)]
			if !ok {
				t.Fatalf("no expected reason for %s in exampleReasons", path)
			}
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Topology == nil || s.Attacker == "" || s.Story == "" {
				t.Fatalf("Topology %v, Attacker %q, Story %q: want all set", s.Topology, s.Attacker, s.Story)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := lab.Runner{}.Run(ctx, s)
			if res.Err != nil {
				t.Fatalf("run: %v\nevidence:\n%s", res.Err, strings.Join(res.Evidence, "\n"))
			}
			if res.Verdict != s.Expected || !res.OK {
				t.Errorf("verdict %s, expected %s\nevidence:\n%s", res.Verdict, s.Expected, strings.Join(res.Evidence, "\n"))
			}
			if !slices.ContainsFunc(res.Evidence, func(l string) bool { return strings.Contains(l, reason) }) {
				t.Errorf("no evidence line contains %q\nevidence:\n%s", reason, strings.Join(res.Evidence, "\n"))
			}
		})
	}
}

// A file scenario is the catalog's: the same params give the same
// declaration.
func TestFileSameAsCatalog(t *testing.T) {
	data := []byte(`name: mitm/mis-issued-revoked-soft-fail-blocked
summary: x
attacker:
  position: arp
  certificate: {source: forged, issuer: contoso-issuing, revoked: true}
  block_revocation: true
defenses: {revocation: soft-fail}
expected: broken
`)
	s, err := ParseFile("same.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := mitmMisIssuedSoftBlocked.scenario()
	if s.Attacker != want.Attacker {
		t.Errorf("Attacker\n got %q\nwant %q", s.Attacker, want.Attacker)
	}
	if !reflect.DeepEqual(s.Topology, want.Topology) {
		t.Errorf("Topology %#v, want %#v", s.Topology, want.Topology)
	}
	if got, w := s.DefensesFor().Diff(lab.Hardened()), want.DefensesFor().Diff(lab.Hardened()); !slices.Equal(got, w) {
		t.Errorf("defenses %q, want %q", got, w)
	}
}

// Each malformed file yields one *FileError whose message is its golden
// NAME.err; go test -run TestFileMalformed -update rewrites those that
// changed.
func TestFileMalformed(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "malformed", "*.yaml"))
	if err != nil || len(paths) < 12 {
		t.Fatalf("malformed files: %v, %d files", err, len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseFile(filepath.Base(path), data)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T), want a *FileError", err, err)
			}
			got := []byte(fe.Error() + "\n")
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			want, _ := os.ReadFile(golden)
			if *updateGolden && !bytes.Equal(got, want) {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("message\n got %s\nwant %s", got, want)
			}
		})
	}
}

// Error formats what it knows.
func TestFileErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    FileError
		want string
	}{
		{FileError{File: "t.yaml", Line: 7, Column: 11, Field: "attacker.mode", Msg: "bad"}, "t.yaml:7:11: attacker.mode: bad"},
		{FileError{File: "t.yaml", Line: 3, Msg: "bad"}, "t.yaml:3: bad"},
		{FileError{File: "t.yaml", Msg: "the file is empty"}, "t.yaml: the file is empty"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// LoadFile names a file it cannot read.
func TestFileLoadMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	var fe *FileError
	if !errors.As(err, &fe) || !strings.HasSuffix(fe.Error(), "nope.yaml: cannot read the scenario file: no such file or directory") {
		t.Fatalf("got %v", err)
	}
}

// FuzzParseFile: no input panics, every failure is a *FileError with a
// position inside the file, and every note on a valid file has a position
// and a message.
func FuzzParseFile(f *testing.F) {
	for _, glob := range []string{"examples/*.yaml", "examples/*/*.yaml", "examples/catalog/*/*.yaml", "testdata/malformed/*.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, notes, err := ParseFileNotes("fuzz.yaml", data)
		if err == nil {
			if verr := s.Validate(); verr != nil {
				t.Fatalf("parsed a scenario that does not validate: %v", verr)
			}
			for _, n := range notes {
				if n.Line < 1 || n.Column < 1 || n.Msg == "" || n.File != "fuzz.yaml" {
					t.Fatalf("bad note %#v", n)
				}
			}
			return
		}
		if notes != nil {
			t.Fatalf("notes %v with the error %v", notes, err)
		}
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is %T, want *FileError", err, err)
		}
		if fe.Line < 0 || fe.Line > yamlLines(data) || fe.Column < 0 || fe.Msg == "" || strings.HasPrefix(fe.Msg, "internal error") {
			t.Fatalf("bad error %#v", fe)
		}
	})
}

// A file's impair: becomes the scenario's own impairments, which every run
// of it applies (and reports in Result.Impair).
func TestFileImpair(t *testing.T) {
	data := []byte(`name: training/lossy
summary: x
attacker:
  position: arp
  certificate: {source: self-signed}
expected: held
stopped_by: chain-validation
impair: "loss=2%; host=mallory,delay=5ms"
`)
	s, err := ParseFile("lossy.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Impair.String(), "loss=2%;host=mallory,delay=5ms"; got != want {
		t.Errorf("Impair %q, want %q", got, want)
	}
	res := lab.Runner{Seed: 1}.Run(t.Context(), s)
	if res.Impair != s.Impair.String() || res.Verdict != lab.Held {
		t.Errorf("run: impair %q verdict %s (%v); want %q, held", res.Impair, res.Verdict, res.Err, s.Impair.String())
	}
}

// yamlLines is how many lines YAML counts in data: a line break is \n,
// \r\n, a lone \r, U+0085, U+2028 or U+2029.
func yamlLines(data []byte) int {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return 1 + strings.Count(text, "\n") + strings.Count(text, "\r") + strings.Count(text, "\u0085") +
		strings.Count(text, "\u2028") + strings.Count(text, "\u2029")
}

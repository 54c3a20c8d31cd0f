package cli

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// fileLab is a lab whose scenario files hold a copy of the catalog's
// mitm/wrong-name, named training/wrong-name, with one deprecation note;
// bad.yaml is malformed. The catalog holds the same copy, so show NAME
// and show --file can be compared.
func fileLab(t *testing.T) Lab {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"wrong-name.yaml", "bad.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("name: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	catalog := withNameCheck()
	copied, err := catalog.Lookup("mitm/wrong-name")
	if err != nil {
		t.Fatal(err)
	}
	copied.Name = "training/wrong-name"
	parse := func(path string, _ []byte) (lab.Scenario, []string, error) {
		if filepath.Base(path) == "bad.yaml" {
			return lab.Scenario{}, nil, errors.New(path + ":37:2: invalid YAML: did not find expected key")
		}
		return copied, []string{path + `:6:3: attacker.trusted: deprecated key "trusted", renamed "trusted_by_victim"`}, nil
	}
	return Lab{Catalog: append(catalog, copied), ParseFileNotes: parse}
}

var simTime = regexp.MustCompile(`\+\d+\.\d{3}ms`)

// show --file describes and runs a file's scenario exactly as show NAME
// does a catalog one, printing the file's notes on stderr.
func TestShowFile(t *testing.T) {
	l := fileLab(t)
	const note = `tlslab: wrong-name.yaml:6:3: attacker.trusted: deprecated key "trusted", renamed "trusted_by_victim"` + "\n"
	for _, args := range [][]string{
		{},
		{"--format", "json"},
		{"--run", "--seed", "42"},
		{"--run", "--seed", "42", "--format", "markdown"},
	} {
		byName := runLab(l, append([]string{"show", "training/wrong-name"}, args...)...)
		byFile := runLab(l, append([]string{"show", "--file", "wrong-name.yaml"}, args...)...)
		exit(ExitOK)(t, byFile)
		// The fake scenarios record evidence at times that vary.
		byName.stdout = simTime.ReplaceAllString(byName.stdout, "+T")
		byFile.stdout = simTime.ReplaceAllString(byFile.stdout, "+T")
		if byFile.stdout != byName.stdout || byFile.code != byName.code || byName.stdout == "" {
			t.Errorf("show %v: --file printed\n%s\nexit %d; NAME printed\n%s\nexit %d", args, byFile.stdout, byFile.code, byName.stdout, byName.code)
		}
		if byFile.stderr != note || byName.stderr != "" {
			t.Errorf("show %v: stderr %q with --file, %q with NAME; want the note %q and nothing", args, byFile.stderr, byName.stderr, note)
		}
	}
	stdoutHas("training/wrong-name: held (hostname-check); expected held (hostname-check), as expected")(t,
		runLab(l, "show", "-f", "wrong-name.yaml", "--run"))

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "--file", "bad.yaml"}, "bad.yaml:37:2: invalid YAML: did not find expected key"},
		{[]string{"show", "--file", "bad.yaml", "--run"}, "bad.yaml:37:2: invalid YAML: did not find expected key"},
		{[]string{"show", "--file", "missing.yaml"}, "scenario file missing.yaml: "},
		{[]string{"show", "--file", "wrong-name.yaml", "mitm/wrong-name"}, `'tlslab show --file wrong-name.yaml' takes no scenario name, got "mitm/wrong-name"`},
		{[]string{"show"}, "'tlslab show' takes one scenario name, got 0; see 'tlslab list', or show a scenario file with --file FILE"},
		{[]string{"show", "--file", "wrong-name.yaml", "--seed", "3"}, "--seed applies only with --run"},
	} {
		usage("tlslab help show", tt.want)(t, runLab(l, tt.args...))
	}
	usage("tlslab help show", "--file is not supported by this build")(t, run(withNameCheck(), "show", "--file", "wrong-name.yaml"))
}

// run --file prints a file's notes on stderr and runs it.
func TestRunFileNotes(t *testing.T) {
	l := fileLab(t)
	l.Catalog = withNameCheck()
	o := runLab(l, "run", "--file", "wrong-name.yaml")
	all(exit(ExitOK), stdoutHas("training/wrong-name", "1 scenario: 1 matched"),
		stderrHas(`tlslab: wrong-name.yaml:6:3: attacker.trusted: deprecated key "trusted", renamed "trusted_by_victim"`+"\n"))(t, o)
}

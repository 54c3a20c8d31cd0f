package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The JUnit report of real runs (a match, a mismatch, an error)
// validates against the Jenkins xunit plugin's junit-10.xsd with xmllint;
// skipped when xmllint is missing, failing instead with CI=true.
func TestJUnitOutputValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint not installed (CI=true; .ci/run installs libxml2-utils)")
		}
		t.Skip("xmllint not installed")
	}
	o := run(append(withError(), withMismatch()[3]), "run", "--format", "junit", "--seed", "12648410257787539353")
	exit(ExitMismatch)(t, o)
	file := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(file, []byte(o.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	xsd := filepath.Join("..", "..", "..", "..", "lab", "report", "testdata", "junit-10.xsd")
	if out, err := exec.Command(xmllint, "--schema", xsd, "--noout", file).CombinedOutput(); err != nil {
		t.Errorf("xmllint --schema junit-10.xsd: %v\n%s\n%s", err, out, o.stdout)
	}
	stdoutHas("seed=12648410257787539353", "properties:")(t, o)
}

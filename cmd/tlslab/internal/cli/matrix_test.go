package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix/matrixtest"
)

// withNameCheck adds an attack that is broken exactly when the hostname
// check is off, as a MITM with a trusted certificate for the wrong name.
func withNameCheck() lab.Catalog {
	return append(fakeCatalog(), lab.Scenario{
		Name: "mitm/wrong-name", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS}, Summary: "a trusted certificate for the wrong name",
		Story: "mallory presents her own valid certificate", Attacker: "mallory on the LAN",
		Expected: lab.Held, StoppedBy: lab.DefenseHostnameCheck,
		Run: func(_ context.Context, env *lab.Env) error {
			env.Evidence.Reached("mallory", lab.MilestoneInPosition, "intercepted alice's connection to pool01.contoso.com")
			if env.Defenses.HostnameCheck {
				env.Evidence.Refused("alice", lab.DefenseHostnameCheck, "x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com")
				env.Evidence.SetService(lab.ServiceDenied)
			} else {
				env.Evidence.IdentityAccepted("alice", "pool01.contoso.com", "mallory's certificate")
				env.Evidence.SetService(lab.ServiceIntact)
			}
			return nil
		},
	})
}

// runLab runs the command line against l.
func runLab(l Lab, args ...string) outcome {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr, l)
	return outcome{code, stdout.String(), stderr.String()}
}

func TestMatrixCommand(t *testing.T) {
	// The report's layout is report.WriteMatrixTable's; this checks what the
	// command feeds it: every attack, every column, the defense that held.
	o := run(withNameCheck(), "matrix", "--parallel", "2")
	all(exit(ExitOK), stdoutHas("ATTACK", "HARDENED", "name-", "mitm/wrong-name", "eavesdrop/tls",
		"  name-      hostname-check off", "Attacks no single change affects (1): eavesdrop/plaintext"),
		stdoutLacks("baseline/tls"))(t, o)
	row := strings.Fields(matrixtest.Line(t, o.stdout, "mitm/wrong-name "))
	if row[1] != "H-:name" || row[3] != "B" {
		t.Errorf("mitm/wrong-name row %v: want hardened H-:name and name- B", row)
	}
	row = strings.Fields(matrixtest.Line(t, o.stdout, "eavesdrop/tls "))
	if row[1] != "H:tls-only" || row[9] != "B" {
		t.Errorf("eavesdrop/tls row %v: want hardened H:tls-only and tls-only- B", row)
	}

	md := run(withNameCheck(), "matrix", "mitm/wrong-name", "--format", "markdown")
	all(exit(ExitOK), stdoutHas("# Defense matrix",
		"| `mitm/wrong-name` | held (hostname-check), denied | held (hostname-check), denied | **broken, intact** |",
		"- `mitm/wrong-name` (held (hostname-check), service denied): hostname-check off → broken, service intact"))(t, md)

	js := run(withNameCheck(), "matrix", "-l", "mitm", "-o", "json")
	all(exit(ExitOK), stdoutHas(`"columns": [`, `"column": "hostname-check off"`, `"differs": true`,
		`"outcome": "held (hostname-check)"`))(t, js)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"matrix", "--format", "junit"}, `invalid --format "junit"; want table, markdown, json`},
		{[]string{"matrix", "--parallel", "0"}, "invalid --parallel 0; want 1 or more"},
		{[]string{"matrix", "baseline/tls", "--label", "eavesdrop"}, "no scenario among baseline/tls has all of the labels eavesdrop"},
		{[]string{"matrix", "--label", "baseline"}, "no attack scenario selected"},
	} {
		usage("tlslab help matrix", tt.want)(t, run(withNameCheck(), tt.args...))
	}
}

func TestBaselineFlags(t *testing.T) {
	dir := t.TempDir()
	runFile := filepath.Join(dir, "run.json")
	matrixFile := filepath.Join(dir, "matrix.json")

	all(exit(ExitOK), stderrHas("tlslab: wrote 4 cells to the baseline "+runFile))(t, run(withNameCheck(), "run", "--update-baseline", runFile))
	all(exit(ExitOK), stderrHas("tlslab: all 4 cells match the baseline "+runFile))(t, run(withNameCheck(), "run", "--baseline", runFile))

	// A changed outcome is named with was and now, and exits 1: here the
	// stored decisive defense is not the one that refuses now.
	stored, err := os.ReadFile(runFile)
	if err != nil {
		t.Fatal(err)
	}
	const cell = `"mitm/wrong-name": {"verdict": "held", "stopped_by": ["hostname-check"], "service": "denied"}`
	edited := strings.Replace(string(stored), cell, `"mitm/wrong-name": {"verdict": "held", "stopped_by": ["chain-validation"], "service": "denied"}`, 1)
	if edited == string(stored) {
		t.Fatalf("baseline lacks the cell %s:\n%s", cell, stored)
	}
	os.WriteFile(runFile, []byte(edited), 0o644)
	o := run(withNameCheck(), "run", "--baseline", runFile)
	all(exit(ExitMismatch), stdoutHas("4 scenarios: 4 matched"),
		stderrHas("tlslab: 1 of 4 cells differ from the baseline "+runFile+":\n"+
			"  mitm/wrong-name: was held (chain-validation), service denied, now held (hostname-check), service denied\n",
			"rerun with --update-baseline "+runFile))(t, o)
	// ... and so is a flipped verdict.
	os.WriteFile(runFile, []byte(strings.Replace(string(stored), cell, `"mitm/wrong-name": {"verdict": "broken", "stopped_by": [], "service": "intact"}`, 1)), 0o644)
	all(exit(ExitMismatch), stderrHas("\n  mitm/wrong-name: was broken, service intact, now held (hostname-check), service denied\n"))(t,
		run(withNameCheck(), "run", "--baseline", runFile))

	// A partial run updates its cells and keeps the rest.
	all(exit(ExitOK), stderrHas("wrote 4 cells"))(t, run(withNameCheck(), "run", "mitm/wrong-name", "--update-baseline", runFile))
	all(exit(ExitOK), stderrHas("all 4 cells match"))(t, run(withNameCheck(), "run", "--baseline", runFile))
	// A scenario the catalog lost is reported by a complete run only.
	all(exit(ExitMismatch), stderrHas("mitm/wrong-name: was held (hostname-check), service denied, now gone from the catalog"))(t, run(fakeCatalog(), "run", "--baseline", runFile))
	all(exit(ExitOK))(t, run(fakeCatalog(), "run", "eavesdrop/tls", "--baseline", runFile))

	// The matrix keeps its own kind of baseline.
	all(exit(ExitOK), stderrHas("wrote 81 cells"))(t, run(withNameCheck(), "matrix", "--update-baseline", matrixFile))
	all(exit(ExitOK), stderrHas("all 81 cells match"))(t, run(withNameCheck(), "matrix", "--baseline", matrixFile))
	usage("tlslab help run", `baseline `+matrixFile+`: line 3: "kind" is "matrix", but this command compares "run" baselines`)(t,
		run(withNameCheck(), "run", "--baseline", matrixFile))

	// A baseline of the older format, without stopped_by, says how to
	// rewrite it; a partial update refuses to merge into it.
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte("{\n  \"format\": \"tlslab-baseline/1\",\n  \"kind\": \"run\",\n  \"outcomes\": {\n    \"eavesdrop/tls\": \"held, service intact\"\n  }\n}\n"), 0o644)
	const oldMsg = `: line 2: "format" is "tlslab-baseline/1", an older format whose cells lack stopped_by (the defenses that stopped each attack); run 'make baselines' to rewrite the catalog's baselines, or 'tlslab run --update-baseline FILE' over the whole catalog for a file of your own`
	usage("tlslab help run", "tlslab: baseline "+old+oldMsg+"\n")(t, run(withNameCheck(), "run", "--baseline", old))
	usage("tlslab help run", "tlslab: --update-baseline: not merging this partial run into it: baseline "+old+oldMsg+"\n")(t,
		run(withNameCheck(), "run", "eavesdrop/tls", "--update-baseline", old))
	// A complete run rewrites it.
	all(exit(ExitOK), stderrHas("wrote 4 cells"))(t, run(withNameCheck(), "run", "--update-baseline", old))
	all(exit(ExitOK), stderrHas("all 4 cells match"))(t, run(withNameCheck(), "run", "--baseline", old))

	// Bad baseline files are usage errors, found before anything runs.
	garbled := filepath.Join(dir, "garbled.json")
	os.WriteFile(garbled, []byte("{\n  \"format\": \"tlslab-baseline/2\",\n  kind: run\n}"), 0o644)
	usage("tlslab help matrix", "baseline "+garbled+": line 3, column 3: invalid character 'k' looking for beginning of object key string")(t,
		run(withNameCheck(), "matrix", "--baseline", garbled))
	usage("tlslab help run", "baseline "+filepath.Join(dir, "none.json")+": no such file\n")(t,
		run(withNameCheck(), "run", "--baseline", filepath.Join(dir, "none.json")))
}

func TestRunReportsAndParallel(t *testing.T) {
	o := run(withNameCheck(), "run", "--parallel", "3", "--format", "junit")
	exit(ExitOK)(t, o)
	var doc struct {
		Tests int `xml:"tests,attr"`
		Cases []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal([]byte(o.stdout), &doc); err != nil {
		t.Fatalf("junit output is not XML: %v\n%s", err, o.stdout)
	}
	if doc.Tests != 4 || len(doc.Cases) != 4 || doc.Cases[3].Name != "mitm/wrong-name" {
		t.Errorf("junit: %+v", doc)
	}
	md := run(withNameCheck(), "run", "mitm/wrong-name", "--format", "markdown")
	all(exit(ExitOK), stdoutHas("## mitm/wrong-name", "mallory on the LAN", "x509: certificate is valid for mallory.contoso.com, not pool01.contoso.com"))(t, md)

	// Progress goes to terminals only: a buffer gets none of it.
	if strings.Contains(o.stderr, "\r") || strings.Contains(o.stderr, "\x1b[K") {
		t.Errorf("progress line written to a non-terminal: %q", o.stderr)
	}
	usage("tlslab help run", "invalid --parallel -1; want 1 or more")(t, run(fakeCatalog(), "run", "-j", "-1"))
}

func TestScenarioFiles(t *testing.T) {
	file := lab.Scenario{Name: "training/forged", Labels: []lab.Label{lab.LabelMITM, lab.LabelTLS}, Summary: "from a file",
		Attacker: "mallory", Expected: lab.Broken, Run: func(_ context.Context, env *lab.Env) error {
			env.Evidence.IdentityAccepted("alice", "pool01.contoso.com", "forged")
			return nil
		}}
	dir := t.TempDir()
	for _, name := range []string{"forged.yaml", "clash.yaml", "bad.yaml"} {
		os.WriteFile(filepath.Join(dir, name), []byte("name: x\n"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "again"), 0o755)
	os.WriteFile(filepath.Join(dir, "again", "forged.yaml"), nil, 0o644)
	t.Chdir(dir)
	load := func(path string, _ []byte) (lab.Scenario, error) {
		switch filepath.Base(path) {
		case "forged.yaml":
			return file, nil
		case "clash.yaml":
			return lab.Scenario{Name: "eavesdrop/tls"}, nil
		default:
			return lab.Scenario{}, errors.New(path + ":3:9: attacker.mode: unknown mode \"intercpt\"")
		}
	}
	l := Lab{Catalog: fakeCatalog(), ParseFile: load}
	all(exit(ExitOK), stdoutHas("training/forged", "1 scenario: 1 matched"), stdoutLacks("eavesdrop/tls"))(t, runLab(l, "run", "--file", "again/forged.yaml"))
	all(exit(ExitOK), stdoutHas("training/forged", "eavesdrop/tls", "2 scenarios: 2 matched"))(t, runLab(l, "run", "eavesdrop/tls", "-f", "forged.yaml"))
	all(exit(ExitOK), stdoutHas("training/forged"))(t, runLab(l, "matrix", "--file", "forged.yaml"))
	usage("tlslab help run", `bad.yaml:3:9: attacker.mode: unknown mode "intercpt"`)(t, runLab(l, "run", "--file", "bad.yaml"))
	usage("tlslab help run", `scenario file names "eavesdrop/tls", which is already a catalog scenario`)(t, runLab(l, "run", "--file", "clash.yaml"))
	usage("tlslab help run", `scenario files forged.yaml and again/forged.yaml both name "training/forged"`)(t,
		runLab(l, "run", "--file", "forged.yaml", "--file", "again/forged.yaml"))
	usage("tlslab help run", "--file is not supported by this build")(t, run(fakeCatalog(), "run", "--file", "forged.yaml"))
}

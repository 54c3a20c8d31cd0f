package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// Bad output paths and bad inputs are usage errors found before anything
// runs, at once and naming the file and the problem.
func TestBadPathsAndInputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	os.WriteFile(file, []byte("x"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	bigBaseline, bigScenario := filepath.Join(dir, "big.json"), filepath.Join(dir, "big.yaml")
	for path, size := range map[string]int64{bigBaseline: 16<<20 + 1, bigScenario: MaxScenarioFileSize + 1} {
		os.WriteFile(path, nil, 0o644)
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	}
	runBaseline := filepath.Join(dir, "run.json")
	exit(ExitOK)(t, run(fakeCatalog(), "run", "--update-baseline", runBaseline))
	missing := filepath.Join(dir, "missing", "out")
	parse := func(name string, _ []byte) (lab.Scenario, error) {
		return lab.Scenario{Name: "training/x", Summary: "x", Attacker: "m", Expected: lab.Broken, Labels: []lab.Label{lab.LabelMITM},
			Run: func(context.Context, *lab.Env) error { panic("ran") }}, nil
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("name: training/x\n"), 0o644)

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"pcap is a file", []string{"run", "--pcap", file}, "--pcap: " + file + " is a regular file, not a directory"},
		{"keylog under a file", []string{"run", "--keylog", filepath.Join(file, "k")}, "--keylog: cannot use " + filepath.Join(file, "k") + ": not a directory"},
		{"output is a directory", []string{"run", "--output", dir}, "--output: " + dir + " is a directory; want a file name"},
		{"output in a missing directory", []string{"matrix", "--output", missing}, "--output: cannot write " + missing + ": its directory " + filepath.Dir(missing) + ": no such file or directory"},
		{"update-baseline in a missing directory", []string{"run", "--update-baseline", missing}, "--update-baseline: cannot write " + missing},
		{"update-baseline of the other kind", []string{"matrix", "--update-baseline", runBaseline}, "--update-baseline: baseline " + runBaseline + `: line 3: "kind" is "run", but this command compares "matrix" baselines`},
		{"update-baseline on a device", []string{"run", "--update-baseline", "/dev/full"}, "--update-baseline: baseline /dev/full: is a character device, not a regular file"},
		{"baseline from a device", []string{"run", "--baseline", "/dev/zero"}, "baseline /dev/zero: is a character device, not a regular file"},
		{"baseline from a FIFO", []string{"matrix", "--baseline", fifo}, "baseline " + fifo + ": is a FIFO, not a regular file"},
		{"baseline is a directory", []string{"run", "--baseline", dir}, "baseline " + dir + ": is a directory, not a regular file"},
		{"baseline too big", []string{"run", "--baseline", bigBaseline}, "baseline " + bigBaseline + ": is 16777217 bytes, over the limit of 16 MiB"},
		{"scenario file from a device", []string{"run", "--file", "/dev/zero"}, "scenario file /dev/zero: is a character device, not a regular file"},
		{"scenario file from a FIFO", []string{"run", "--file", fifo}, "scenario file " + fifo + ": is a FIFO, not a regular file"},
		{"scenario file is a directory", []string{"matrix", "--file", dir}, "scenario file " + dir + ": is a directory, not a regular file"},
		{"scenario file too big", []string{"run", "--file", bigScenario}, "scenario file " + bigScenario + ": is 1048577 bytes, over the limit of 1 MiB"},
		{"labels leave no scenario file", []string{"run", "--label", "dns", "--file", good}, "no scenario selected: no scenario of --file " + good + " has all of the labels dns"},
		{"labels leave no scenario file in the matrix", []string{"matrix", "--label", "dns", "--file", good}, "no scenario selected: no scenario of --file " + good + " has all of the labels dns"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			o := runLab(Lab{Catalog: fakeCatalog(), ParseFile: parse}, tt.args...)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v, want under a second", d)
			}
			usage("tlslab help "+tt.args[0], tt.want)(t, o)
		})
	}
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Errorf("%s was changed: %q", file, b)
	}
	usage("tlslab help list", "tlslab: the catalog is empty\n")(t, run(lab.Catalog{}, "list"))
	usage("tlslab help run", "tlslab: the catalog is empty\n")(t, run(lab.Catalog{}, "run"))
}

// Output files replace a symlink planted at their name instead of writing
// through it; key logs are 0600 in a 0700 directory; no temporary file is
// left behind.
func TestOutputsDoNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	pcap, keys := filepath.Join(dir, "pcap"), filepath.Join(dir, "keys")
	os.Mkdir(pcap, 0o755)
	report, base := filepath.Join(dir, "report.json"), filepath.Join(dir, "run.json")
	planted := []string{filepath.Join(pcap, "eavesdrop-tls.pcapng"), report, base}
	for _, p := range planted {
		if err := os.Symlink(victim, p); err != nil {
			t.Fatal(err)
		}
	}
	o := run(fakeCatalog(), "run", "--pcap", pcap, "--keylog", keys, "--output", report, "--format", "json", "--update-baseline", base)
	all(exit(ExitOK), stderrHas("wrote 3 cells"))(t, o)
	if o.stdout != "" {
		t.Errorf("report on stdout although --output was given:\n%s", o.stdout)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("a planted symlink was followed: its target holds %q", b)
	}
	for _, p := range planted {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			t.Errorf("%s: %v, %v; want a regular file with content", p, fi, err)
		}
	}
	if b, _ := os.ReadFile(report); !bytes.Contains(b, []byte(`"scenario": "eavesdrop/tls"`)) {
		t.Errorf("report:\n%s", b)
	}
	if fi, err := os.Stat(keys); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want mode 0700", keys, fi, err)
	}
	keyLogs, _ := filepath.Glob(filepath.Join(keys, "*"))
	if len(keyLogs) != 3 {
		t.Errorf("key logs %v, want 3", keyLogs)
	}
	for _, k := range keyLogs {
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", k, fi, err)
		}
	}
	for _, d := range []string{dir, pcap, keys} {
		if tmps, _ := filepath.Glob(filepath.Join(d, ".*")); len(tmps) > 0 {
			t.Errorf("temporary files left behind: %v", tmps)
		}
	}
}

// stopper is a scenario that cancels the run with an *Interrupt for
// SIGTERM, as the signal would, and then waits to be stopped.
func stopper(cancel context.CancelCauseFunc) lab.Scenario {
	return lab.Scenario{Name: "mitm/stopper", Labels: []lab.Label{lab.LabelMITM}, Summary: "x", Attacker: "m",
		Expected: lab.Broken, Run: func(ctx context.Context, env *lab.Env) error {
			cancel(&Interrupt{Signal: syscall.SIGTERM})
			<-ctx.Done()
			return ctx.Err()
		}}
}

// An interrupted run reports what completed on stdout and writes no
// report file and no baseline.
func TestInterruptedRun(t *testing.T) {
	dir := t.TempDir()
	report, base := filepath.Join(dir, "report.txt"), filepath.Join(dir, "run.json")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cat := fakeCatalog()
	cat = lab.Catalog{cat[0], cat[1], stopper(cancel), cat[2]}
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"run", "--output", report, "--update-baseline", base}, &stdout, &stderr, Lab{Catalog: cat})
	o := outcome{code, stdout.String(), stderr.String()}
	all(exit(143), stdoutHas("baseline/tls", "eavesdrop/tls", "2 scenarios: 2 matched, 0 differed, 0 errors"),
		stdoutLacks("mitm/stopper", "eavesdrop/plaintext"),
		stderrHas("tlslab: interrupted after 2 of 4 scenarios; no report file or baseline written\n"))(t, o)
	if strings.Contains(o.stderr, "wrote") {
		t.Errorf("stderr: %s", o.stderr)
	}
	for _, p := range []string{report, base} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s written by an interrupted run", p)
		}
	}
}

// An interrupted matrix shows only its complete rows, so its findings are
// not made of stopped runs.
func TestInterruptedMatrix(t *testing.T) {
	base := filepath.Join(t.TempDir(), "matrix.json")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cat := append(withNameCheck(), stopper(cancel))
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"matrix", "-j", "1", "--update-baseline", base}, &stdout, &stderr, Lab{Catalog: cat})
	o := outcome{code, stdout.String(), stderr.String()}
	all(exit(143), stdoutHas("eavesdrop/tls", "mitm/wrong-name"), stdoutLacks("mitm/stopper", " ERR ", "FINDINGS", "decisive for no attack"),
		stderrHas("tlslab: interrupted after 81 of 108 cells; no report file or baseline written\n"))(t, o)
	if _, err := os.Lstat(base); err == nil {
		t.Errorf("%s written by an interrupted matrix", base)
	}
}

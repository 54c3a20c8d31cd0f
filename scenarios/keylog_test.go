package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// A key log that cannot be written (a full disk) is an error of the run,
// never a refusal: the TLS stacks do not see the failure, so the attack
// plays out as without a key log, and the Runner reports the write error.
// The key log goes to /dev/full through Runner.CreateArtifact, since the
// Runner never writes through a file it did not create.
func TestKeyLogOnFullDiskIsAnError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	full := func(path string, perm os.FileMode) (lab.ArtifactFile, error) {
		f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		return devFull{f}, err
	}
	for _, name := range []string{"mitm/self-signed", "mitm/stolen-key", "dns/rogue-server"} {
		s, err := Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		keys := filepath.Join(dir, lab.ArtifactBase(name)+".keys")
		res := lab.Runner{KeyLogDir: dir, CreateArtifact: full}.Run(context.Background(), s)
		if res.Verdict != lab.Error || res.Err == nil ||
			!strings.HasPrefix(res.Err.Error(), "lab: key log "+keys+": write ") || !strings.HasSuffix(res.Err.Error(), "no space left on device") {
			t.Errorf("%s with its key log on a full disk: %s, err %v; want error naming the key log", name, res.Outcome(), res.Err)
		}
		// The attack itself ran as without a key log: the same refusals
		// and compromises were seen.
		plain := lab.Runner{}.Run(context.Background(), s)
		if !plain.OK {
			t.Fatalf("%s without a key log: %s, want %s", name, plain.Outcome(), plain.ExpectedOutcome())
		}
		if got, want := defensesOf(res.Refusals), defensesOf(plain.Refusals); got != want || len(res.Compromises) != len(plain.Compromises) {
			t.Errorf("%s: refusals [%s] and %d compromises with the key log failing, [%s] and %d without: the failure reached the TLS stacks",
				name, got, len(res.Compromises), want, len(plain.Compromises))
		}
	}
}

// devFull is a key log on /dev/full: every write fails with ENOSPC.
type devFull struct{ *os.File }

func (f devFull) Commit() error { return f.Close() }
func (f devFull) Abort()        { f.Close() }

// defensesOf lists the refusals' defenses, in order.
func defensesOf(rs []lab.Refusal) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Defense
	}
	return strings.Join(names, " ")
}

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCommitReplacesPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	out := filepath.Join(dir, "out.keys")
	if err := os.Symlink(victim, out); err != nil {
		t.Fatal(err)
	}
	f, err := Create(out, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("secret")
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	fi, err := os.Lstat(out)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want a regular file of mode 0600", out, fi.Mode(), err)
	}
	if b, _ := os.ReadFile(out); string(b) != "secret" {
		t.Errorf("content %q", b)
	}
	leftovers(t, dir, "out.keys", "victim")
}

func TestAbortLeavesTheFinalName(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	os.WriteFile(out, []byte("old"), 0o644)
	f, err := Create(out, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("half")
	f.Abort()
	f.Abort()
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("content %q, want old", b)
	}
	leftovers(t, dir, "report.json")
}

func TestCommitOntoADirectoryFails(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "taken")
	os.Mkdir(out, 0o755)
	os.WriteFile(filepath.Join(out, "x"), nil, 0o644)
	err := WriteFile(out, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), out) {
		t.Errorf("err %v, want one naming %s", err, out)
	}
	leftovers(t, dir, "taken")
}

// leftovers fails unless dir holds exactly names.
func leftovers(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	if b, err := ReadRegular(small, 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadRegular(small): %q, %v", b, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{small + "x", small + "x: no such file"},
		{dir, dir + ": is a directory, not a regular file"},
		{fifo, fifo + ": is a FIFO, not a regular file"},
		{"/dev/zero", "/dev/zero: is a character device, not a regular file"},
	} {
		_, err := ReadRegular(tt.path, 1<<20)
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != tt.want {
			t.Errorf("ReadRegular(%s): %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := ReadRegular(small, 4); err == nil || err.Error() != small+": is 5 bytes, over the limit of 4 bytes" {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := ReadRegular(small+"x", 4); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap fs.ErrNotExist", err)
	}
}

func TestChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	keys := filepath.Join(dir, "a", "keys")
	if err := MakeDir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keys); fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", keys, fi.Mode().Perm())
	}
	if err := MakeDir(file, 0o755); err == nil || err.Error() != file+" is a regular file, not a directory" {
		t.Errorf("MakeDir(file): %v", err)
	}
	if err := CheckOutput(filepath.Join(dir, "new.json")); err != nil {
		t.Errorf("CheckOutput(new): %v", err)
	}
	if err := CheckOutput(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("CheckOutput(dir): %v", err)
	}
	if err := CheckOutput(filepath.Join(file, "x")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("CheckOutput(file/x): %v", err)
	}
	leftovers(t, dir, "a", "file")
}

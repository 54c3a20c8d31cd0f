package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MakeDir makes sure dir is a directory files can be created in: it creates
// it with perm (and any missing parents) when missing, then creates and
// removes a temporary file in it. A directory it creates gets exactly perm,
// whatever the umask; an existing one is left as it is. Errors name dir.
func MakeDir(dir string, perm fs.FileMode) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, perm); err != nil {
			return fmt.Errorf("cannot create the directory %s: %w", dir, unwrapPath(err))
		}
		if err := os.Chmod(dir, perm); err != nil {
			return fmt.Errorf("cannot set the mode of %s: %w", dir, unwrapPath(err))
		}
	case err != nil:
		return fmt.Errorf("cannot use %s: %w", dir, unwrapPath(err))
	case !fi.IsDir():
		return fmt.Errorf("%s is %s, not a directory", dir, kindOf(fi.Mode()))
	}
	return probe(dir)
}

// CheckOutput makes sure Create and Commit can write path: its directory
// exists and files can be created in it, and path is not a directory.
// Whatever else path is (missing, a file, a symlink), Commit replaces it.
// Errors name path.
func CheckOutput(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory; want a file name", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cannot write %s: its directory %s: %w", path, dir, unwrapPath(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("cannot write %s: %s is %s, not a directory", path, dir, kindOf(fi.Mode()))
	}
	if err := probe(dir); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// probe creates and removes a temporary file in dir.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".tlslab-probe-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %w", dir, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

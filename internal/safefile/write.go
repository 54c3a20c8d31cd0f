package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output file being written under a temporary name; Commit puts
// it in place, Abort throws it away. Exactly one of them should be called;
// calling either again does nothing.
type File struct {
	*os.File        // the temporary file; Name() is its temporary name
	path     string // the final name
	done     bool
}

// Create starts writing path: it creates a new temporary file in path's
// directory with mode perm (exactly perm, whatever the umask) and returns
// it. The directory must exist. Errors name path.
func Create(path string, perm fs.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, unwrapPath(err))
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("creating %s: %w", path, unwrapPath(err))
	}
	return &File{File: f, path: path}, nil
}

// Path is the final name the file is renamed to by Commit.
func (f *File) Path() string { return f.path }

// Commit closes the temporary file and renames it onto the final name. On
// any failure the temporary file is removed and the final name is left as
// it was; the error names the final name.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("writing %s: %w", f.path, unwrapPath(err))
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("putting %s in place: %w", f.path, unwrapPath(err))
	}
	return nil
}

// Abort closes and removes the temporary file; the final name is left as
// it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path as Create, Write and Commit do: path is
// either left as it was or replaced by a complete file of mode perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	return f.Commit()
}

// unwrapPath drops an *fs.PathError's operation and path (the temporary
// name, which means nothing to the reader) and keeps its cause.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

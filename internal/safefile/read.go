package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// InputError says why an input file cannot be read: it names the file
// and the problem ("is a FIFO, not a regular file", "is 2097152 bytes,
// over the limit of 1 MiB", or the operating system's reason).
type InputError struct {
	Path    string
	Problem string
	Err     error // the underlying error, if any (fs.ErrNotExist, ...)
}

func (e *InputError) Error() string { return e.Path + ": " + e.Problem }
func (e *InputError) Unwrap() error { return e.Err }

// ReadRegular reads the file at path (symlinks are followed) if it is a
// regular file of at most limit bytes. Anything else is refused with an
// *InputError before any content is read: a directory, a FIFO, a socket,
// a device, a file larger than limit (also one that grows past limit while
// being read). It never blocks on a FIFO and never reads more than
// limit+1 bytes.
func ReadRegular(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{Path: path, Problem: reason(err), Err: err}
	}
	if err := checkRegular(path, fi, limit); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should path have become a FIFO since Stat, opening it
	// does not wait for a writer; Fstat below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, &InputError{Path: path, Problem: reason(err), Err: err}
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, &InputError{Path: path, Problem: reason(err), Err: err}
	}
	if err := checkRegular(path, fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &InputError{Path: path, Problem: reason(err), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &InputError{Path: path, Problem: "grew over the limit of " + size(limit) + " while being read"}
	}
	return data, nil
}

func checkRegular(path string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &InputError{Path: path, Problem: "is " + kindOf(fi.Mode()) + ", not a regular file"}
	}
	if fi.Size() > limit {
		return &InputError{Path: path, Problem: fmt.Sprintf("is %d bytes, over the limit of %s", fi.Size(), size(limit))}
	}
	return nil
}

// kindOf names a file type for messages: "a directory", "a FIFO", ...
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	default:
		return "an irregular file"
	}
}

// size is n bytes for people: "512 bytes", "1 MiB", "1.5 KiB".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
}

// reason is err without the operation and path an *fs.PathError repeats,
// with the common cases in words.
func reason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return unwrapPath(err).Error()
}

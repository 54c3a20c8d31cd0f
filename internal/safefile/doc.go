// Package safefile writes output files so that nobody ever sees half of one
// and nothing is written through a name someone else prepared, and reads
// input files with bounded time and memory.
//
// Writing: [Create] makes a new temporary file in the target's directory
// (os.CreateTemp: a fresh random name opened with O_CREATE|O_EXCL, so it
// never follows a symlink or reuses an existing file) and [File.Commit]
// renames it onto the final name once it is complete. The rename replaces
// whatever the final name was, a planted symlink included, without
// following it; when the directory forbids replacing it (a sticky directory
// such as /tmp where another user owns the name), Commit fails naming the
// file and removes the temporary one. [File.Abort] removes the temporary
// file, so an interrupted writer leaves the final name untouched. Files are
// not fsynced: the guarantee is against interruption, not power loss.
//
// Reading: [ReadRegular] reads a regular file of at most a given size and
// refuses anything else (a FIFO, a device, a directory, a larger file)
// with an *[InputError] naming the file and the problem, without blocking
// and without reading more than the limit.
package safefile

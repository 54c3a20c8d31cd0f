package lab

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/netsim"
)

// Modes of the artifacts and of the directories the Runner creates.
const (
	PcapMode      fs.FileMode = 0o644
	PcapDirMode   fs.FileMode = 0o755
	KeyLogMode    fs.FileMode = 0o600 // key logs hold TLS secrets
	KeyLogDirMode fs.FileMode = 0o700
)

// ArtifactFile is an artifact being written by a run: Commit puts it in
// place when the run ends, Abort discards it (when the run could not
// start). The Runner calls exactly one of them.
type ArtifactFile interface {
	io.Writer
	Commit() error
	Abort()
}

// artifacts are the open files of one run.
type artifacts struct {
	pcapPath, keyLogPath string
	pcapFile, keyLog     ArtifactFile
	capture              *netsim.Capture
}

// ArtifactBase returns the file name stem used for a scenario's artifacts:
// the name with "/" (and "\") replaced by "-", e.g. "eavesdrop-tls".
func ArtifactBase(name string) string {
	return strings.NewReplacer("/", "-", `\`, "-").Replace(name)
}

func (r Runner) openArtifacts(name string) (*artifacts, error) {
	a := &artifacts{}
	base := ArtifactBase(name)
	if r.PcapDir != "" {
		path := filepath.Join(r.PcapDir, base+".pcapng")
		f, err := r.createIn(r.PcapDir, PcapDirMode, path, PcapMode)
		if err != nil {
			return nil, err
		}
		c, err := netsim.NewCaptureWith(f, netsim.CaptureOptions{Hold: true}) // so refusals can be noted
		if err != nil {
			f.Abort()
			return nil, fmt.Errorf("lab: pcap %s: %w", path, err)
		}
		a.pcapFile, a.pcapPath, a.capture = f, path, c
	}
	if r.KeyLogDir != "" {
		path := filepath.Join(r.KeyLogDir, base+".keys")
		f, err := r.createIn(r.KeyLogDir, KeyLogDirMode, path, KeyLogMode)
		if err != nil {
			if a.pcapFile != nil {
				a.pcapFile.Abort()
			}
			return nil, err
		}
		a.keyLog, a.keyLogPath = f, path
	}
	return a, nil
}

// createIn makes dir (mode dirPerm when it creates it) and starts the
// artifact path in it.
func (r Runner) createIn(dir string, dirPerm fs.FileMode, path string, perm fs.FileMode) (ArtifactFile, error) {
	if err := safefile.MakeDir(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("lab: artifact directory: %w", err)
	}
	create := r.CreateArtifact
	if create == nil {
		create = func(path string, perm fs.FileMode) (ArtifactFile, error) { return safefile.Create(path, perm) }
	}
	f, err := create(path, perm)
	if err != nil {
		return nil, fmt.Errorf("lab: creating artifact: %w", err)
	}
	return f, nil
}

// close flushes the capture (nil if none or already detached) and commits
// both files, returning the first error. A capture that did not close
// cleanly is discarded, not committed: a final name only ever holds a
// complete file.
func (a *artifacts) close(capture *netsim.Capture) error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	pcapOK := true
	if capture != nil {
		if err := capture.Close(); err != nil {
			keep(fmt.Errorf("lab: pcap %s: %w", a.pcapPath, err))
			pcapOK = false
		}
	}
	for _, f := range []ArtifactFile{a.pcapFile, a.keyLog} {
		switch {
		case f == nil:
		case f == a.pcapFile && !pcapOK:
			f.Abort()
		default:
			if err := f.Commit(); err != nil {
				keep(fmt.Errorf("lab: %w", err))
			}
		}
	}
	return first
}

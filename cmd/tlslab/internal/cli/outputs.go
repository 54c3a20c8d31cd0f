package cli

import (
	"errors"
	"io/fs"

	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
)

// outputFlags say where run and matrix put their report and how they show
// progress.
type outputFlags struct {
	output   string
	progress bool
	// embedKeys: each capture also carries the run's TLS secrets (run
	// only; see registerCapture).
	embedKeys bool
}

func (f *outputFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout, only when the run completes")
	fl.BoolVar(&f.progress, "progress", false, "print a line on stderr as each run finishes (default: a redrawn line on terminals only)")
}

// registerCapture adds the flags of the captures run writes with --pcap.
func (f *outputFlags) registerCapture(fl *pflag.FlagSet) {
	fl.BoolVar(&f.embedKeys, "embed-keys", false, "with --pcap, write each scenario's TLS secrets into its pcapng too, so it opens decrypted with no key log (the file then holds secrets)")
}

// checkOutputs makes sure, before anything runs, that every file the
// command will write can be written: the artifact directories (created
// if missing, the key log one 0700), the report file and the baseline to
// update, whose directories must exist. An existing --update-baseline file
// must be a baseline of kind; one that cannot be read is refused when a
// partial run would merge into it (a complete run rewrites it). The
// stored baseline, when one is merged into, is kept in sel.stored.
// --embed-keys needs --pcap.
func checkOutputs(sel *selection, f selectFlags, o outputFlags, pcapDir, keyLogDir string, kind baseline.Kind) error {
	if o.embedKeys && pcapDir == "" {
		return usagef("--embed-keys writes the TLS secrets into the captures: it needs --pcap DIR")
	}
	for _, d := range []struct {
		flag, dir string
		perm      fs.FileMode
	}{{"--pcap", pcapDir, lab.PcapDirMode}, {"--keylog", keyLogDir, lab.KeyLogDirMode}} {
		if d.dir == "" {
			continue
		}
		if err := safefile.MakeDir(d.dir, d.perm); err != nil {
			return usagef("%s: %v", d.flag, err)
		}
	}
	if o.output != "" {
		if err := safefile.CheckOutput(o.output); err != nil {
			return usagef("--output: %v", err)
		}
	}
	if f.updateBaseline == "" {
		return nil
	}
	if err := safefile.CheckOutput(f.updateBaseline); err != nil {
		return usagef("--update-baseline: %v", err)
	}
	old, err := baseline.Read(f.updateBaseline, kind)
	var (
		ke *baseline.KindError
		ie *safefile.InputError
	)
	switch {
	case err == nil:
		sel.stored = &old
	case errors.Is(err, fs.ErrNotExist):
	case errors.As(err, &ke), errors.As(err, &ie):
		return usagef("--update-baseline: %v", err)
	case !sel.complete:
		return usagef("--update-baseline: not merging this partial run into it: %v", err)
	}
	return nil
}

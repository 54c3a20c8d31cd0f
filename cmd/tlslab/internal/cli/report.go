package cli

import (
	"fmt"
	"io"

	"github.com/tlslab/tlslab/internal/safefile"
)

// writeReport writes a report with write: to the --output file when one
// was given and the run completed (under a temporary name, renamed into
// place when complete, mode 0644), else to stdout. The report of an
// interrupted run always goes to stdout, so no report file ever holds an
// incomplete run.
func (st *state) writeReport(o outputFlags, complete bool, write func(io.Writer) error) error {
	if o.output == "" || !complete {
		if err := write(st.stdout); err != nil {
			return &runtimeError{err: fmt.Errorf("writing the report: %w", err)}
		}
		return nil
	}
	f, err := safefile.Create(o.output, 0o644)
	if err != nil {
		return &runtimeError{err: fmt.Errorf("writing the report: %w", err)}
	}
	if err := write(f); err != nil {
		f.Abort()
		return &runtimeError{err: fmt.Errorf("writing the report %s: %w", o.output, err)}
	}
	if err := f.Commit(); err != nil {
		return &runtimeError{err: fmt.Errorf("writing the report: %w", err)}
	}
	return nil
}

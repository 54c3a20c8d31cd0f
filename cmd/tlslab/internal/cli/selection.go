package cli

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/netsim"
)

// selectFlags pick scenarios and say how to run them; run and matrix share
// them.
type selectFlags struct {
	labels         []string
	skip           []string // --skip patterns (see registerSkip)
	files          []string
	timeout        time.Duration
	seed           uint64
	parallel       int
	baseline       string
	updateBaseline string
	impair         string
}

func (f *selectFlags) register(fl *pflag.FlagSet, defaultParallel int) {
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "only scenarios with this label, or without it when written '!L' (repeat or comma-separate; all must hold)")
	registerSkip(fl, &f.skip)
	fl.StringArrayVarP(&f.files, "file", "f", nil, "also run the scenario in this YAML scenario `FILE` (repeatable); without NAMEs, only the files")
	fl.DurationVar(&f.timeout, "timeout", lab.DefaultTimeout, "deadline per scenario run")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for the simulated networks (0: random; each result reports its seed)")
	fl.IntVarP(&f.parallel, "parallel", "j", defaultParallel, "run `N` scenarios at once, each in its own simulated network")
	fl.StringVar(&f.baseline, "baseline", "", "compare the outcomes with the baseline `FILE`; exit 1 naming every cell that changed")
	fl.StringVar(&f.updateBaseline, "update-baseline", "", "write the outcomes to the baseline `FILE` (cells not run are kept unless the whole catalog ran)")
	fl.StringVar(&f.impair, "impair", "", "impair every run's network, e.g. `SPEC` \"loss=2%,reorder=1%,delay=2ms\" (every segment) or \"host=mallory,loss=100%\"; rules separated by ';'")
}

// impairSpec parses --impair; a bad spec is a usage error naming the
// item, its position and the keys there are.
func (f selectFlags) impairSpec() (netsim.ImpairSpec, error) {
	spec, err := netsim.ParseImpairSpec(f.impair)
	if err != nil {
		return netsim.ImpairSpec{}, usagef("invalid --impair: %v", err)
	}
	return spec, nil
}

// matrixParallel is the matrix's default --parallel: one run per CPU.
func matrixParallel() int { return runtime.NumCPU() }

// selection is what the flags and arguments picked.
type selection struct {
	scenarios []lab.Scenario
	// complete: the whole catalog, nothing filtered, so a baseline check
	// also reports stored cells that no longer exist.
	complete bool
	baseline *baseline.Baseline // the stored baseline to compare with, if --baseline
	// stored is the existing --update-baseline file a partial run merges
	// into (read by checkOutputs); nil when there is none.
	stored *baseline.Baseline
	impair netsim.ImpairSpec // --impair, for every run
}

// MaxScenarioFileSize is the largest scenario file --file reads, 1 MiB;
// the examples are about 2 KiB.
const MaxScenarioFileSize = 1 << 20

// pick validates the shared flags, loads scenario files and the baseline (so
// bad input fails before anything runs), and selects the scenarios: names
// (glob patterns stand for every catalog scenario they match), then the
// --label filter ('!L' leaves L out), then --skip. A selection of nothing,
// and a name or --skip pattern that matches nothing, is a usage error
// naming the filters.
func (st *state) pick(names []string, f selectFlags, kind baseline.Kind) (selection, error) {
	if f.timeout <= 0 {
		return selection{}, usagef("invalid --timeout %v; want a positive duration such as 10s", f.timeout)
	}
	if f.parallel < 1 {
		return selection{}, usagef("invalid --parallel %d; want 1 or more", f.parallel)
	}
	labels, err := parseLabels(f.labels)
	if err != nil {
		return selection{}, err
	}
	impair, err := f.impairSpec()
	if err != nil {
		return selection{}, err
	}
	if err := st.validCatalog(); err != nil {
		return selection{}, err
	}
	sel := selection{impair: impair}
	if f.baseline != "" {
		b, err := baseline.Read(f.baseline, kind)
		if err != nil {
			return selection{}, usagef("%v", err)
		}
		sel.baseline = &b
	}
	fromFiles, err := st.loadFiles(f.files)
	if err != nil {
		return selection{}, err
	}
	if len(names) > 0 || len(fromFiles) == 0 {
		sel.scenarios, err = st.catalog.Select(names, labels.with)
		if err != nil {
			return selection{}, selectionError(err)
		}
	}
	for _, s := range fromFiles {
		if _, err := st.catalog.Lookup(s.Name); err == nil {
			return selection{}, usagef("scenario file names %q, which is already a catalog scenario; choose another name", s.Name)
		}
		if hasAll(s, labels.with) {
			sel.scenarios = append(sel.scenarios, s)
		}
	}
	universe := append(slices.Clone([]lab.Scenario(st.catalog)), fromFiles...)
	if sel.scenarios, err = exclude(sel.scenarios, universe, labels, f.skip); err != nil {
		return selection{}, err
	}
	sel.complete = len(names) == 0 && labels.empty() && len(f.skip) == 0 && len(fromFiles) == 0
	if len(sel.scenarios) == 0 {
		return selection{}, nothingSelected(names, labels, f.skip, f.files)
	}
	return sel, nil
}

// nothingSelected is the usage error of a selection of nothing, naming
// the filters that left nothing.
func nothingSelected(names []string, labels labelFilter, skip, files []string) error {
	var filters []string
	if len(names) > 0 {
		filters = append(filters, strings.Join(names, " "))
	}
	if !labels.empty() {
		filters = append(filters, labels.describe())
	}
	for _, p := range skip {
		filters = append(filters, "--skip "+p)
	}
	switch {
	case len(labels.with) > 0 && len(labels.without) == 0 && len(skip) == 0 && len(files) > 0 && len(names) == 0:
		var ls []string
		for _, l := range labels.with {
			ls = append(ls, string(l))
		}
		return usagef("no scenario selected: no scenario of --file %s has all of the labels %s", strings.Join(files, ", "), strings.Join(ls, ", "))
	case len(filters) > 0:
		return usagef("no scenario selected by %s", strings.Join(filters, " "))
	default:
		return usagef("no scenario selected: the catalog is empty")
	}
}

func hasAll(s lab.Scenario, labels []lab.Label) bool {
	for _, l := range labels {
		if !s.HasLabel(l) {
			return false
		}
	}
	return true
}

// loadFiles loads every --file; a missing or malformed file is a usage
// error whose message names the file, line and field. The notes on a
// valid file (a deprecated key, a YAML 1.1 boolean) go to stderr, each
// "tlslab: FILE:LINE:COL: FIELD: MSG". Only regular files
// of at most MaxScenarioFileSize are read: a FIFO, a device, a directory
// or a larger file is refused at once, naming it and the problem.
func (st *state) loadFiles(paths []string) ([]lab.Scenario, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if st.parseFile == nil {
		return nil, usagef("--file is not supported by this build")
	}
	var out []lab.Scenario
	seen := map[string]string{}
	for _, p := range paths {
		data, err := safefile.ReadRegular(p, MaxScenarioFileSize)
		if err != nil {
			return nil, usagef("scenario file %v", err)
		}
		s, notes, err := st.parseFile(p, data)
		if err != nil {
			return nil, usagef("%v", err)
		}
		for _, n := range notes {
			fmt.Fprintf(st.stderr, "tlslab: %s\n", n)
		}
		if other, dup := seen[s.Name]; dup {
			return nil, usagef("scenario files %s and %s both name %q", other, p, s.Name)
		}
		seen[s.Name] = p
		out = append(out, s)
	}
	return out, nil
}

// settleBaseline compares now with the stored baseline (when --baseline was
// given) and writes --update-baseline; call it only for a complete run. It reports on stderr and returns
// whether any cell changed.
func (st *state) settleBaseline(sel selection, f selectFlags, now baseline.Baseline) (changed bool, err error) {
	if sel.baseline != nil {
		changes := sel.baseline.Compare(now, sel.complete)
		if len(changes) == 0 {
			fmt.Fprintf(st.stderr, "tlslab: all %d cells match the baseline %s\n", len(now.Outcomes), f.baseline)
		} else {
			fmt.Fprintf(st.stderr, "tlslab: %d of %d cells differ from the baseline %s:\n", len(changes), len(now.Outcomes), f.baseline)
			for _, c := range changes {
				fmt.Fprintf(st.stderr, "  %s\n", c)
			}
			fmt.Fprintf(st.stderr, "(if the change is intended, rerun with --update-baseline %s)\n", f.baseline)
		}
		changed = len(changes) > 0
	}
	if f.updateBaseline != "" {
		stored := baseline.Baseline{Kind: now.Kind}
		if sel.stored != nil {
			stored = *sel.stored
		}
		merged := stored.Merge(now, sel.complete)
		if err := baseline.Write(f.updateBaseline, merged); err != nil {
			return changed, &runtimeError{err: err}
		}
		fmt.Fprintf(st.stderr, "tlslab: wrote %d cells to the baseline %s\n", len(merged.Outcomes), f.updateBaseline)
	}
	return changed, nil
}

package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/timeline"
	"github.com/tlslab/tlslab/lab/viewer"
)

// htmlRunFlags is run's --html: one page per scenario and an index.
type htmlRunFlags struct{ html string }

func (f *htmlRunFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.html, "html", "", "write one self-contained HTML page per scenario (ladder diagram, annotated frames, topology, verdict), an index.html, and each capture and key log, into `DIR`")
}

// runAll runs scenarios as runner.RunAll does. With --html each one is
// recorded and drawn into f.html, with its capture and key log, and the
// index is written last; pages of runs an interruption stopped are not
// written. With timelines (the Markdown handout), each run's timeline is
// returned too, by scenario name.
func (st *state) runAll(ctx context.Context, runner lab.Runner, scenarios []lab.Scenario, f htmlRunFlags, pcapDir, keyLogDir string, timelines bool) ([]lab.Result, map[string]timeline.Events, error) {
	var record func(ctx context.Context, runner lab.Runner, s lab.Scenario) (lab.Result, timeline.Events, error)
	switch {
	case f.html != "":
		if pcapDir != "" || keyLogDir != "" {
			return nil, nil, usagef("--html keeps each capture and key log beside its page in %s; drop --pcap and --keylog", f.html)
		}
		if err := safefile.MakeDir(f.html, 0o700); err != nil { // key logs hold secrets
			return nil, nil, usagef("--html: %v", err)
		}
		record = func(ctx context.Context, runner lab.Runner, s lab.Scenario) (lab.Result, timeline.Events, error) {
			return recordPage(ctx, runner, s, f.html)
		}
	case timelines:
		record = func(ctx context.Context, runner lab.Runner, s lab.Scenario) (lab.Result, timeline.Events, error) {
			res, tl := timeline.Record(ctx, runner, s)
			return res, tl, nil
		}
	default:
		return runner.RunAll(ctx, scenarios), nil, nil
	}
	results, tls, err := recordAll(ctx, runner, scenarios, record)
	if err != nil || f.html == "" || ctx.Err() != nil {
		return results, tls, err
	}
	ix := viewer.NewIndex("tlslab run", results, viewer.PageFile)
	if err := writeHTML(filepath.Join(f.html, "index.html"), func(b *bytes.Buffer) error { return viewer.WriteIndex(b, ix) }); err != nil {
		return nil, nil, &runtimeError{err: err}
	}
	fmt.Fprintf(st.stderr, "tlslab: HTML pages in %s (open %s)\n", f.html, filepath.Join(f.html, "index.html"))
	return results, tls, nil
}

// recordAll runs record for each scenario, runner.Parallel at a time,
// reporting progress as runner.RunAll does, and returns the results and
// timelines in the order given. The error is the first record failed
// with (not a run's own error, which is in its result).
func recordAll(ctx context.Context, runner lab.Runner, scenarios []lab.Scenario,
	record func(context.Context, lab.Runner, lab.Scenario) (lab.Result, timeline.Events, error)) ([]lab.Result, map[string]timeline.Events, error) {
	results := make([]lab.Result, len(scenarios))
	events := make([]timeline.Events, len(scenarios))
	errs := make([]error, len(scenarios))
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	progress, workers := runner.Progress, min(max(runner.Parallel, 1), max(len(scenarios), 1))
	runner.Progress, runner.Parallel = nil, 0 // each worker runs one scenario at a time
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i], events[i], errs[i] = record(ctx, runner, scenarios[i])
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(scenarios), results[i])
					mu.Unlock()
				}
			}
		})
	}
	for i := range scenarios {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, &runtimeError{err: err}
		}
	}
	tls := make(map[string]timeline.Events, len(scenarios))
	for i, s := range scenarios {
		tls[s.Name] = events[i]
	}
	return results, tls, nil
}

// recordPage runs s with its timeline and frames and writes its page into
// dir, unless an interruption stopped it.
func recordPage(ctx context.Context, runner lab.Runner, s lab.Scenario, dir string) (lab.Result, timeline.Events, error) {
	rec, err := viewer.Record(ctx, runner, s, dir)
	if err != nil {
		return lab.Result{}, nil, err
	}
	if wasInterrupted(ctx, rec.Result) {
		return rec.Result, rec.Events, nil
	}
	page := viewer.NewPage(rec, dir)
	page.Index = "index.html"
	path := filepath.Join(dir, viewer.PageFile(s.Name))
	return rec.Result, rec.Events, writeHTML(path, func(b *bytes.Buffer) error { return viewer.WritePage(b, page) })
}

// writeHTML renders a page and writes it to path, complete or not at all.
func writeHTML(path string, render func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	if err := safefile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// htmlShowFlags are show's --html and --compare.
type htmlShowFlags struct {
	html    string
	compare string
}

func (f *htmlShowFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.html, "html", "", "with --run, write the run as one self-contained HTML page to `FILE` (its capture and key log beside it)")
	fl.StringVar(&f.compare, "compare", "", "with --html, run twice with the same seed, as declared and with `SWITCH=VALUE`, and draw both side by side with the first difference marked")
}

// check validates the flags before anything runs.
func (f htmlShowFlags) check(run bool) error {
	if f.html != "" && !run {
		return usagef("--html applies only with --run")
	}
	if f.compare != "" && f.html == "" {
		return usagef("--compare applies only with --html")
	}
	if f.html != "" {
		if err := safefile.CheckOutput(f.html); err != nil {
			return usagef("--html: %v", err)
		}
	}
	if f.compare != "" {
		if _, err := parseSwitch(f.compare); err != nil {
			return err
		}
	}
	return nil
}

// switchChange is one defense switch set to one value.
type switchChange struct {
	sw    lab.DefenseSwitch
	value string
}

func (c switchChange) String() string { return c.sw.Name + "=" + c.value }

// apply sets the switch; its value was checked by parseSwitch.
func (c switchChange) apply(d *lab.Defenses) { _ = c.sw.Set(d, c.value) }

// parseSwitch reads "SWITCH=VALUE" with a switch of lab.Switches and one
// of its values.
func parseSwitch(s string) (switchChange, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return switchChange{}, usagef("invalid --compare %q; want SWITCH=VALUE, e.g. hostname-check=off", s)
	}
	sw, found := lab.SwitchNamed(name)
	if !found {
		var names []string
		for _, x := range lab.Switches() {
			names = append(names, x.Name)
		}
		return switchChange{}, usagef("unknown defense switch %q in --compare; want one of: %s", name, strings.Join(names, ", "))
	}
	if err := sw.Set(new(lab.Defenses), value); err != nil {
		return switchChange{}, usagef("invalid --compare %q: %s cannot be %q; valid: %s", s, name, value, strings.Join(sw.Values, ", "))
	}
	return switchChange{sw: sw, value: value}, nil
}

// showHTML runs s and writes its page (or, with --compare, the
// comparison page) to f.html, then prints the verdict line as --run does.
func (st *state) showHTML(cmd *cobra.Command, s lab.Scenario, runner lab.Runner, f htmlShowFlags) (lab.Result, error) {
	ctx := cmd.Context()
	dir := filepath.Dir(f.html)
	rec, err := viewer.Record(ctx, runner, s, dir)
	if err != nil {
		return lab.Result{}, &runtimeError{err: err}
	}
	if wasInterrupted(ctx, rec.Result) {
		return rec.Result, nil
	}
	if f.compare == "" {
		page := viewer.NewPage(rec, dir)
		err = writeHTML(f.html, func(b *bytes.Buffer) error { return viewer.WritePage(b, page) })
		if err == nil {
			fmt.Fprintf(st.stderr, "tlslab: page %s\n", f.html)
		}
		return rec.Result, wrapRuntime(err)
	}
	change, _ := parseSwitch(f.compare)
	changed := runner
	changed.Seed = rec.Result.Seed
	changed.Override = change.apply
	right, err := viewer.Record(ctx, changed, renamed(s, change), dir)
	if err != nil {
		return lab.Result{}, &runtimeError{err: err}
	}
	if wasInterrupted(ctx, right.Result) {
		return right.Result, nil
	}
	right.Scenario = s
	c := viewer.NewComparison(rec, right, change.String(), dir)
	if err := writeHTML(f.html, func(b *bytes.Buffer) error { return viewer.WriteCompare(b, c) }); err != nil {
		return rec.Result, &runtimeError{err: err}
	}
	fmt.Fprintf(st.stderr, "tlslab: comparison page %s (%s: %s)\n", f.html, change, right.Result.Outcome())
	return rec.Result, nil
}

// renamed is s under a name that keeps the changed run's capture and key
// log apart from the declared run's: "mitm/self-signed,chain-validation=off".
func renamed(s lab.Scenario, c switchChange) lab.Scenario {
	s.Name += "," + c.String()
	return s
}

func wrapRuntime(err error) error {
	if err == nil {
		return nil
	}
	return &runtimeError{err: err}
}

// htmlMatrixFlags is matrix's --html: the grid as one page.
type htmlMatrixFlags struct{ html string }

func (f *htmlMatrixFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.html, "html", "", "also write the matrix as one self-contained HTML page to `FILE` (cells whose outcome differs from the hardened one marked)")
}

func (f htmlMatrixFlags) check() error {
	if f.html == "" {
		return nil
	}
	if err := safefile.CheckOutput(f.html); err != nil {
		return usagef("--html: %v", err)
	}
	return nil
}

// write writes the page of a complete matrix, when --html asked for it.
func (f htmlMatrixFlags) write(st *state, m matrix.Result) error {
	if f.html == "" {
		return nil
	}
	p := viewer.NewMatrixPage(m)
	if err := writeHTML(f.html, func(b *bytes.Buffer) error { return viewer.WriteMatrix(b, p) }); err != nil {
		return &runtimeError{err: err}
	}
	fmt.Fprintf(st.stderr, "tlslab: matrix page %s\n", f.html)
	return nil
}

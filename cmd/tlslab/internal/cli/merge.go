package cli

import (
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/report"
)

type mergeFlags struct {
	format         string
	baseline       string
	updateBaseline string
	output         string
}

func newMergeCmd(st *state) *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{
		Use:   "merge [--format table|json|junit|markdown] [--baseline FILE] [--update-baseline FILE] [--output FILE] SHARD.json...",
		Short: "Combine the JSON reports of run or matrix shards into one report",
		Long: `Combine the JSON reports of 'run --shard K/N --format json' (or of
'matrix --shard K/N --format json') into the report the whole run would have
written, in the whole selection's order, and judge it as the whole run would:
--baseline compares every scenario (or cell) with a stored baseline, and
--update-baseline writes one. The matrix's findings, decisive defenses and
backups are computed on the merged whole, not taken from the shards. Reports
written without --shard can be merged too, in the order given, when no
scenario is in two of them.

Every shard of the same N must be given, each once, all of one selection and
one kind (run or matrix); a shard of nothing still writes its report and is
merged like the others. Anything else is a usage error naming the files.

Formats: table (default), json, junit and markdown for runs; table, json and
markdown for the matrix. JUnit and markdown take each scenario's story from
this build's catalog.

Exit status: as the whole run or matrix would exit: 0 when every verdict
matches its expectation (the matrix: every cell ran) and the baseline, if
given; 1 when any differs or errored (the matrix: a cell's run failed, a held
cell credits a switched-off defense) or differs from the baseline; 2 for usage
errors.`,
		Example: `  tlslab merge shard-1.json shard-2.json shard-3.json
  tlslab merge --format junit --output report.xml shards/*.json
  tlslab merge --baseline scenarios/testdata/baselines/matrix.json matrix-*.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.merge(args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "o", "table", "output format: table, json, junit (runs only) or markdown")
	fl.StringVar(&f.baseline, "baseline", "", "compare the merged outcomes with the baseline `FILE`; exit 1 naming every cell that changed")
	fl.StringVar(&f.updateBaseline, "update-baseline", "", "write the merged outcomes to the baseline `FILE`")
	fl.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	return cmd
}

func (st *state) merge(paths []string, f mergeFlags) error {
	files, err := readShardFiles(paths)
	if err != nil {
		return err
	}
	kind, formats := baseline.KindRun, runFormats
	if files[0].kind == report.KindMatrix {
		kind, formats = baseline.KindMatrix, matrixFormats
	}
	format := strings.ToLower(f.format)
	if !slices.Contains(formats, format) {
		return usagef("invalid --format %q for %s reports; want %s", f.format, files[0].kind, strings.Join(formats, ", "))
	}
	order, err := checkShards(files)
	if err != nil {
		return err
	}
	sf := selectFlags{baseline: f.baseline, updateBaseline: f.updateBaseline}
	sel := selection{complete: files[0].shard != nil && files[0].shard.WholeCatalog}
	if f.baseline != "" {
		b, err := baseline.Read(f.baseline, kind)
		if err != nil {
			return usagef("%v", err)
		}
		sel.baseline = &b
	}
	out := outputFlags{output: f.output}
	if err := checkOutputs(&sel, sf, out, "", "", kind); err != nil {
		return err
	}
	if kind == baseline.KindMatrix {
		return st.mergeMatrix(files, order, format, sel, sf, out)
	}
	return st.mergeRun(files, order, format, sel, sf, out)
}

// mergeRun writes the merged run report of files, its results in order,
// and sets the exit code as run would.
func (st *state) mergeRun(files []shardFile, order []string, format string, sel selection, sf selectFlags, out outputFlags) error {
	byName := map[string]lab.Result{}
	for _, f := range files {
		for _, r := range f.run.Results {
			byName[r.Scenario] = r
		}
	}
	results := make([]lab.Result, 0, len(order))
	scenarios := make([]lab.Scenario, 0, len(order))
	for _, name := range order {
		r := byName[name]
		results = append(results, r)
		scenarios = append(scenarios, st.scenarioOf(name, r.Labels))
	}
	err := st.writeReport(out, true, func(w io.Writer) error {
		switch format {
		case "json":
			return report.WriteJSON(w, results)
		case "junit":
			return report.WriteJUnit(w, scenarios, results)
		case "markdown":
			return report.WriteMarkdown(w, scenarios, results)
		default:
			return report.WriteTable(w, results)
		}
	})
	if err != nil {
		return err
	}
	changed, err := st.settleBaseline(sel, sf, baseline.OfRun(results))
	if err != nil {
		return err
	}
	if changed || !lab.Summarize(results).OK() {
		st.code = ExitMismatch
	}
	return nil
}

// mergeMatrix writes the merged matrix report of files, its rows in
// order, with findings and decisive defenses of the whole, and sets the
// exit code as matrix would.
func (st *state) mergeMatrix(files []shardFile, order []string, format string, sel selection, sf selectFlags, out outputFlags) error {
	m, err := st.matrixOf(files, order)
	if err != nil {
		return err
	}
	err = st.writeReport(out, true, func(w io.Writer) error {
		switch format {
		case "markdown":
			return report.WriteMatrixMarkdown(w, m)
		case "json":
			return report.WriteMatrixJSON(w, m)
		default:
			return report.WriteMatrixTable(w, m)
		}
	})
	if err != nil {
		return err
	}
	changed, err := st.settleBaseline(sel, sf, baseline.OfMatrix(m))
	if err != nil {
		return err
	}
	if changed || m.RunErrors() > 0 || len(m.CreditViolations()) > 0 {
		st.code = ExitMismatch
	}
	return nil
}

// matrixOf rebuilds the matrix of files, its rows in order. Every file
// must have the same columns: "hardened", then changes this build knows.
func (st *state) matrixOf(files []shardFile, order []string) (matrix.Result, error) {
	columns := files[0].matrix.Columns
	for _, f := range files[1:] {
		if !slices.Equal(f.matrix.Columns, columns) {
			return matrix.Result{}, usagef("%s and %s have different columns; merge matrices run by one build", files[0].path, f.path)
		}
	}
	if len(columns) == 0 || columns[0] != matrix.HardenedColumn {
		return matrix.Result{}, usagef("%s: the first column is not %q", files[0].path, matrix.HardenedColumn)
	}
	known := map[string]matrix.Change{}
	for _, c := range matrix.Changes() {
		known[c.Name()] = c
	}
	m := matrix.Result{Changes: []matrix.Change{}}
	for _, name := range columns[1:] {
		c, ok := known[name]
		if !ok {
			return matrix.Result{}, usagef("%s: unknown column %q; merge with the build that ran the matrix", files[0].path, name)
		}
		m.Changes = append(m.Changes, c)
	}
	rows := map[string]report.MatrixRow{}
	for _, f := range files {
		for _, r := range f.matrix.Rows {
			rows[r.Scenario] = r
		}
	}
	for _, name := range order {
		r, ok := rows[name]
		if !ok {
			continue // a report's selection may name an attack it left out: none here
		}
		row := matrix.Row{Scenario: st.scenarioOf(name, r.Cells[0].Result.Labels), Hardened: r.Cells[0].Result}
		for j, c := range r.Cells[1:] {
			row.Cells = append(row.Cells, matrix.Cell{Change: m.Changes[j], Applies: c.Applies, Result: c.Result})
		}
		m.Rows = append(m.Rows, row)
	}
	return m, nil
}

// scenarioOf is the catalog's scenario name, or, for a scenario this
// build's catalog lacks (one from --file), one carrying only its name and
// labels.
func (st *state) scenarioOf(name string, labels []lab.Label) lab.Scenario {
	if s, err := st.catalog.Lookup(name); err == nil {
		return s
	}
	return lab.Scenario{Name: name, Labels: labels}
}

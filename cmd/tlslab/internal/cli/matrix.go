package cli

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/baseline"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/report"
)

type matrixFlags struct {
	selectFlags
	outputFlags
	shardFlags
	htmlMatrixFlags
	format string
}

var matrixFormats = []string{"table", "markdown", "json"}

func newMatrixCmd(st *state) *cobra.Command {
	var f matrixFlags
	cmd := &cobra.Command{
		Use:   "matrix [NAME...] [--label L]... [--file FILE]... [--format table|markdown|json] [--output FILE]",
		Short: "Run every attack with the hardened defaults, then with each defense changed alone",
		Long: `Run every attack scenario (all but the baselines, or the NAMEs given) once with
the hardened defaults, ignoring the scenario's own defense changes, and once per
column with a single defense switch changed: each switch of the hardened
defaults switched off or weakened, and DNSSEC validation and static ARP switched
on. Each cell is a full run in a fresh simulated network, judged from its
evidence. The table shows attacks as rows and defenses as columns, each cell
held (naming the defense that decided it) or broken, with the victim's service
intact or denied; a cell that differs from the hardened column marks a defense
the attack depends on. Cells for switches that do not bear on an attack are run
too and shown as n/a when they changed nothing.

--baseline FILE compares every cell (its verdict, the defenses that stopped the
attack, in order, and the service) with a stored matrix baseline and names each
cell that changed; --update-baseline FILE writes one.

A cell is error when its run failed, or when its evidence was inconclusive: the
attack was not carried out, or no defense that is on was seen refusing it (a
defense switched off is never credited). The findings after the table name the
inconclusive cells where a decisive defense has no backup, any held cell that
credits the switch its column turned off, and any defense decisive for no attack.

--shard K/N runs only the K-th of N shards of the attacks, for spreading the
matrix over several machines: a whole row (an attack with every column) goes to
the shard a hash of the attack's name picks, the same shard 'run --shard'
gives that scenario, whatever else is selected. A shard that holds no attack
runs nothing and succeeds (a CI job matrix may have more shards than attacks).
Write each shard with --format json and combine them with 'tlslab merge',
which computes the findings and decisive defenses on the whole matrix; a
shard's own are of its rows alone.

--output FILE writes the report to FILE (under a temporary name, renamed into
place when complete) instead of stdout. SIGINT (Ctrl-C) or SIGTERM stops the
matrix: the rows whose every cell completed are shown on stdout as a table
without findings (whatever the format), and no report file or baseline is
written.

Exit status: 0 when every cell ran to a verdict or an inconclusive outcome (and
matches the baseline, if given), 1 when a cell's run failed, a held cell
credits a switched-off defense, or a cell differs from the baseline, 2 for
usage errors (bad flags, input files or output paths, a run baseline given
as a matrix one), 130 after SIGINT and 143 after SIGTERM.`,
		Example: `  tlslab matrix
  tlslab matrix --label mitm
  tlslab matrix --format markdown --output docs/defense-matrix.md
  tlslab matrix --baseline scenarios/testdata/baselines/matrix.json
  tlslab matrix --seed 7 --shard 1/3 --format json --output matrix-1.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.matrix(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	f.selectFlags.register(fl, matrixParallel())
	fl.StringVarP(&f.format, "format", "o", "table", "output format: table, markdown or json")
	f.outputFlags.register(fl)
	f.shardFlags.register(fl)
	f.htmlMatrixFlags.register(fl)
	return cmd
}

func (st *state) matrix(cmd *cobra.Command, names []string, f matrixFlags) error {
	format := strings.ToLower(f.format)
	if !slices.Contains(matrixFormats, format) {
		return usagef("invalid --format %q; want %s", f.format, strings.Join(matrixFormats, ", "))
	}
	shard, err := f.shardFlags.parse()
	if err != nil {
		return err
	}
	sel, err := st.pick(names, f.selectFlags, baseline.KindMatrix)
	if err != nil {
		return err
	}
	attacks := sel.scenarios
	if len(names) == 0 {
		// Named baselines run if asked for; otherwise the matrix is for attacks.
		attacks = matrix.Attacks(attacks)
	}
	if len(attacks) == 0 {
		return usagef("no attack scenario selected (the matrix leaves out baseline scenarios unless named)")
	}
	var shardInfo *report.Shard
	attacks, shardInfo = st.applyShard(shard, &sel, attacks, sel.complete)

	if err := checkOutputs(&sel, f.selectFlags, f.outputFlags, "", "", baseline.KindMatrix); err != nil {
		return err
	}
	if err := f.htmlMatrixFlags.check(); err != nil {
		return err
	}

	ctx := cmd.Context()
	bar := newProgress(ctx, st.stderr, "cell", f.progress)
	m := matrix.Runner{Cells: lab.Runner{Timeout: f.timeout, Seed: f.seed, Parallel: f.parallel, Progress: bar.update, Impair: sel.impair}}
	res := m.Run(ctx, attacks)
	bar.clear()

	shown, done, total := res, cellCount(res), cellCount(res)
	if ctx.Err() != nil {
		shown, done = completedRows(ctx, res)
	}
	complete := done == total
	if complete || len(shown.Rows) > 0 {
		err = st.writeReport(f.outputFlags, complete, func(w io.Writer) error {
			if !complete {
				// Judging the matrix as a whole from some of its rows
				// would make false findings: only the grid.
				return report.WriteMatrixGrid(w, shown)
			}
			switch format {
			case "markdown":
				return report.WriteMatrixMarkdown(w, shown)
			case "json":
				return report.WriteMatrixShardJSON(w, shown, shardInfo)
			default:
				return report.WriteMatrixTable(w, shown)
			}
		})
		if err != nil {
			return err
		}
	}
	if !complete {
		st.interrupted(ctx, done, total, "cells")
		return nil
	}
	if err := f.htmlMatrixFlags.write(st, res); err != nil {
		return err
	}
	changed, err := st.settleBaseline(sel, f.selectFlags, baseline.OfMatrix(res))
	if err != nil {
		return err
	}
	if changed || res.RunErrors() > 0 || len(res.CreditViolations()) > 0 {
		st.code = ExitMismatch
	}
	return nil
}

// cellCount is the number of cells of m, hardened ones included.
func cellCount(m matrix.Result) int {
	n := 0
	for _, r := range m.Rows {
		n += 1 + len(r.Cells)
	}
	return n
}

// completedRows returns m with only the rows whose every cell completed,
// so that its findings are not made of runs ctx's cancellation stopped,
// and the number of cells that completed, in any row.
func completedRows(ctx context.Context, m matrix.Result) (matrix.Result, int) {
	out := m
	out.Rows = nil
	done := 0
	for _, r := range m.Rows {
		whole := !wasInterrupted(ctx, r.Hardened)
		if whole {
			done++
		}
		for _, c := range r.Cells {
			if wasInterrupted(ctx, c.Result) {
				whole = false
			} else {
				done++
			}
		}
		if whole {
			out.Rows = append(out.Rows, r)
		}
	}
	return out, done
}

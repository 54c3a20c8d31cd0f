package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/internal/safefile"
	"github.com/tlslab/tlslab/lab/report"
)

// MaxReportFileSize is the largest JSON report 'tlslab merge' reads, 256
// MiB.
const MaxReportFileSize = 256 << 20

// shardFile is one JSON report given to merge, read.
type shardFile struct {
	path   string
	kind   report.Kind
	shard  *report.Shard // nil for an unsharded report
	run    report.RunReport
	matrix report.MatrixReport
}

// names are the scenarios the file holds, in its order.
func (f shardFile) names() []string {
	var out []string
	if f.kind == report.KindRun {
		for _, r := range f.run.Results {
			out = append(out, r.Scenario)
		}
		return out
	}
	for _, r := range f.matrix.Rows {
		out = append(out, r.Scenario)
	}
	return out
}

// shardName is "shard 2/3" or "not a shard".
func (f shardFile) shardName() string {
	if f.shard == nil {
		return "not a shard"
	}
	return fmt.Sprintf("shard %d/%d", f.shard.Index, f.shard.Count)
}

// readShardFiles reads every path as a run or matrix JSON report. A file
// that cannot be read or parsed, or reports of both kinds, are usage
// errors naming the files.
func readShardFiles(paths []string) ([]shardFile, error) {
	var files []shardFile
	for _, p := range paths {
		data, err := safefile.ReadRegular(p, MaxReportFileSize)
		if err != nil {
			return nil, usagef("report file %v", err)
		}
		kind, err := report.DetectKind(data)
		if err != nil {
			return nil, usagef("%s: %v", p, err)
		}
		f := shardFile{path: p, kind: kind}
		if kind == report.KindRun {
			f.run, err = report.ReadJSON(data)
			f.shard = f.run.Shard
		} else {
			f.matrix, err = report.ReadMatrixJSON(data)
			f.shard = f.matrix.Shard
		}
		if err != nil {
			return nil, usagef("%s: not a valid %s report: %v", p, kind, err)
		}
		if len(files) > 0 && files[0].kind != kind {
			return nil, usagef("cannot merge a %s report (%s) with a %s report (%s)", files[0].kind, files[0].path, kind, p)
		}
		files = append(files, f)
	}
	return files, nil
}

// checkShards makes sure files are shards of one run that fit together:
// all shards of the same N (or all unsharded), of the same selection, no
// shard twice and, when sharded, none missing; each file holding only
// scenarios of its shard and no scenario in two files. It returns the
// order of the merged report: the shards' selection, or for unsharded
// reports the files' own order. Every error is a usage error naming the
// files.
func checkShards(files []shardFile) ([]string, error) {
	first := files[0]
	byIndex := map[int]string{}
	for _, f := range files {
		switch {
		case (f.shard == nil) != (first.shard == nil) || (f.shard != nil && f.shard.Count != first.shard.Count):
			return nil, usagef("shards of different N: %s is %s, %s is %s", first.path, first.shardName(), f.path, f.shardName())
		case f.shard == nil:
			continue
		case !slices.Equal(f.shard.Of, first.shard.Of):
			return nil, usagef("%s and %s are shards of different selections (their \"of\" lists differ); shard one selection with one catalog", first.path, f.path)
		case f.shard.Index < 1 || f.shard.Index > f.shard.Count:
			return nil, usagef("%s: invalid %s", f.path, f.shardName())
		}
		if other, dup := byIndex[f.shard.Index]; dup {
			return nil, usagef("overlapping shards: %s and %s are both %s", other, f.path, f.shardName())
		}
		byIndex[f.shard.Index] = f.path
	}
	if first.shard != nil {
		var missing []string
		for k := 1; k <= first.shard.Count; k++ {
			if _, ok := byIndex[k]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", k, first.shard.Count))
			}
		}
		if len(missing) > 0 {
			return nil, usagef("missing shard %s: a merge needs every shard (a shard of nothing still writes its report)", strings.Join(missing, ", "))
		}
	}
	seen := map[string]string{}
	var order []string
	for _, f := range files {
		for _, name := range f.names() {
			if other, dup := seen[name]; dup {
				return nil, usagef("overlapping reports: %s is in both %s and %s", name, other, f.path)
			}
			seen[name] = f.path
			order = append(order, name)
			if f.shard == nil {
				continue
			}
			if !slices.Contains(f.shard.Of, name) {
				return nil, usagef("%s: %s is not in the shard's selection", f.path, name)
			}
			if k := shardOf(name, f.shard.Count); k != f.shard.Index {
				return nil, usagef("%s: %s belongs to shard %d/%d, not %s", f.path, name, k, f.shard.Count, f.shardName())
			}
		}
	}
	if first.shard == nil {
		return order, nil
	}
	for _, name := range first.shard.Of {
		if _, ok := seen[name]; !ok {
			return nil, usagef("%s is selected but in no shard: %s (an interrupted run?)", name, byIndex[shardOf(name, first.shard.Count)])
		}
	}
	return first.shard.Of, nil
}

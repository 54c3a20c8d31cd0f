package cli

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/report"
)

// shardFlags hold --shard K/N, which run and matrix share. They are kept
// apart from selectFlags: sharding applies after the selection.
type shardFlags struct {
	shard string
}

// shardHelp is the --shard flag's usage, shared by run and matrix.
const shardHelp = "run only shard `K/N` of the selection (1 <= K <= N), picked by a hash of each scenario's name; a shard of nothing succeeds when N > 1 (combine the shards' JSON with 'tlslab merge')"

func (f *shardFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.shard, "shard", "", shardHelp)
}

// shardSpec is a parsed --shard: shard Index of Count, 1-based. The zero
// value means no sharding.
type shardSpec struct {
	Index, Count int
}

// parse parses --shard; a malformed value, a K outside 1..N or an N below
// 1 is a usage error naming the problem.
func (f shardFlags) parse() (shardSpec, error) {
	if f.shard == "" {
		return shardSpec{}, nil
	}
	ks, ns, ok := strings.Cut(f.shard, "/")
	if !ok {
		return shardSpec{}, usagef("invalid --shard %q; want K/N, such as 2/4", f.shard)
	}
	k, kerr := strconv.Atoi(strings.TrimSpace(ks))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case kerr != nil || nerr != nil:
		return shardSpec{}, usagef("invalid --shard %q; want K/N with whole numbers K and N, such as 2/4", f.shard)
	case n < 1:
		return shardSpec{}, usagef("invalid --shard %q: N is %d; want 1 or more shards", f.shard, n)
	case k < 1 || k > n:
		return shardSpec{}, usagef("invalid --shard %q: K is %d; want a shard from 1 to %d (K is 1-based)", f.shard, k, n)
	}
	return shardSpec{Index: k, Count: n}, nil
}

// On reports whether sharding was asked for.
func (s shardSpec) On() bool { return s.Count > 0 }

// String is "K/N".
func (s shardSpec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// shardOf is the 1-based shard of count that scenario name belongs to:
// 1 + FNV-1a-64(name) mod count. It depends on the name alone, so a
// scenario (and, in the matrix, its whole row) lands in the same shard
// whatever else is selected, on every machine.
//
// Balance: each name falls in a shard with probability 1/count, so a
// selection of S scenarios gives each shard S/count on average, give or
// take about sqrt(S/count); no scheme that ignores the rest of the
// selection can do better in general. The matrix shards whole rows rather
// than cells: a row's cells are compared with its hardened cell, every
// row costs the same number of cells, and each shard's report (and exit
// status) then stays meaningful on its own.
func shardOf(name string, count int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return 1 + int(h.Sum64()%uint64(count))
}

// Has reports whether scenario name belongs to this shard; every name
// belongs when sharding is off.
func (s shardSpec) Has(name string) bool {
	return !s.On() || shardOf(name, s.Count) == s.Index
}

// applyShard narrows all (the selection, for the matrix its attacks) to
// shard s and returns it with what 'tlslab merge' needs in the report: the
// shard and the names of the whole selection, in order; whole says
// whether the selection was the whole catalog. A sharded selection is
// never complete (sel.complete is cleared, so a baseline check compares
// only the shard's cells). It tells people on stderr when the shard holds
// nothing. With sharding off it returns all and nil.
func (st *state) applyShard(s shardSpec, sel *selection, all []lab.Scenario, whole bool) ([]lab.Scenario, *report.Shard) {
	if !s.On() {
		return all, nil
	}
	info := &report.Shard{Index: s.Index, Count: s.Count, Of: []string{}, WholeCatalog: whole}
	var kept []lab.Scenario
	for _, sc := range all {
		info.Of = append(info.Of, sc.Name)
		if s.Has(sc.Name) {
			kept = append(kept, sc)
		}
	}
	sel.complete = false
	if len(kept) == 0 {
		fmt.Fprintf(st.stderr, "tlslab: shard %s holds none of the %d scenarios selected; nothing to run\n", s, len(all))
	}
	return kept, info
}

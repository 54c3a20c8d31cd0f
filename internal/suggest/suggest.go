// Package suggest finds the names a user most likely meant: the closest
// scenario names for an unknown one, and the one correction offered for a
// misspelt command, flag or scenario-file key ("did you mean ...?").
// Every such suggestion in tlslab comes from here, so they all rank and
// judge alike.
package suggest

import (
	"sort"
	"strings"
)

// Closest returns up to n of candidates nearest to name by Levenshtein
// distance, nearest first, ties in alphabetical order. When name has no
// "/", it is also compared with each candidate's family and short name
// (plus one for the missing half), so "tls" suggests "eavesdrop/tls".
func Closest(name string, candidates []string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	all := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		d := Levenshtein(name, c)
		if !strings.Contains(name, "/") {
			if family, short, ok := strings.Cut(c, "/"); ok {
				d = min(d, Levenshtein(name, family)+1, Levenshtein(name, short)+1)
			}
		}
		all = append(all, scored{c, d})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].dist != all[j].dist {
			return all[i].dist < all[j].dist
		}
		return all[i].name < all[j].name
	})
	out := []string{}
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].name)
	}
	return out
}

// Typo returns the candidate got is most likely a misspelling of: the
// closest one (see Closest), if it is within two edits of got, ignoring
// case, or within two thirds of its own length for longer names. It
// returns false when got is empty or nothing is that near.
func Typo(got string, candidates []string) (string, bool) {
	best := Closest(got, candidates, 1)
	if len(best) == 0 || got == "" {
		return "", false
	}
	d := Levenshtein(strings.ToLower(got), strings.ToLower(best[0]))
	if d > max(2, len([]rune(best[0]))*2/3) {
		return "", false
	}
	return best[0], true
}

// Levenshtein returns the edit distance between a and b: the fewest
// single-rune insertions, deletions and substitutions turning a into b.
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

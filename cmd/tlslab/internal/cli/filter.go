package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlslab/tlslab/internal/suggest"
	"github.com/tlslab/tlslab/lab"
)

// labelFilter is what the --label values ask for: labels every scenario
// must carry, and labels ("!dns") no scenario may carry.
type labelFilter struct {
	with, without []lab.Label
}

// registerSkip adds --skip PATTERN (repeatable) to fl; run, matrix and
// list share it.
func registerSkip(fl *pflag.FlagSet, skip *[]string) {
	fl.StringArrayVar(skip, "skip", nil, "leave out scenarios whose name matches `PATTERN` (a name or a glob such as 'dns/*'; repeatable)")
}

// parseLabels turns --label values (each may hold several, comma-separated)
// into a labelFilter: "dns" keeps only scenarios with the label, "!dns"
// drops those with it. An unknown label is a usage error naming it, the
// closest known label and every valid one; "-dns" is refused with the
// spelling that excludes.
func parseLabels(values []string) (labelFilter, error) {
	var f labelFilter
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			name, negated := strings.CutPrefix(s, "!")
			if strings.HasPrefix(s, "-") {
				return labelFilter{}, usagef("invalid --label %q: to leave out scenarios with a label write --label '!%s' (quoted for the shell)", s, strings.TrimLeft(s, "-"))
			}
			l, err := lab.ParseLabel(name)
			if err != nil {
				msg := fmt.Sprintf("unknown label %q in --label; valid labels: %s", name, strings.Join(labelNames(), ", "))
				if best, ok := suggest.Typo(name, labelNames()); ok {
					msg += fmt.Sprintf("; did you mean %q?", best)
				}
				return labelFilter{}, usagef("%s (write '!L' to leave label L out)", msg)
			}
			if negated {
				f.without = append(f.without, l)
			} else {
				f.with = append(f.with, l)
			}
		}
	}
	return f, nil
}

func labelNames() []string {
	var names []string
	for _, l := range lab.KnownLabels() {
		names = append(names, string(l))
	}
	return names
}

// empty reports whether the filter filters nothing.
func (f labelFilter) empty() bool { return len(f.with) == 0 && len(f.without) == 0 }

// describe is the filter as the command line spelt it, "--label mitm,!dns".
func (f labelFilter) describe() string {
	var ls []string
	for _, l := range f.with {
		ls = append(ls, string(l))
	}
	for _, l := range f.without {
		ls = append(ls, "!"+string(l))
	}
	return "--label " + strings.Join(ls, ",")
}

// exclude drops from picked the scenarios --label '!L' and --skip leave
// out. universe is every scenario the patterns may name (the catalog and
// the --file scenarios); a skip pattern that matches none of it, or is
// malformed, is a usage error naming it.
func exclude(picked, universe []lab.Scenario, labels labelFilter, skip []string) ([]lab.Scenario, error) {
	out, err := lab.Exclude(picked, universe, labels.without, skip)
	if err != nil {
		return nil, selectionError(err)
	}
	return out, nil
}

// patternError is the usage error of a name pattern that matched nothing
// or is malformed, or nil when err is neither.
func patternError(err error) error {
	var nm *lab.NoMatchError
	var bp *lab.BadPatternError
	if errors.As(err, &nm) || errors.As(err, &bp) {
		return usagef("%s (see 'tlslab list')", strings.TrimPrefix(err.Error(), "lab: "))
	}
	return nil
}

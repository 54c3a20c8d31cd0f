package lab

import (
	"fmt"
	"path"
	"strings"
)

// IsPattern reports whether a scenario name given on a command line is a
// glob pattern: it holds one of path.Match's metacharacters * ? [ or \.
// Scenario names never do.
func IsPattern(name string) bool { return strings.ContainsAny(name, `*?[\`) }

// NoMatchError is returned for a glob pattern (a name to select, or a
// --skip pattern) that matches no scenario.
type NoMatchError struct {
	Pattern string
	Flag    string // "--skip" for a skip pattern, "" for a name
}

func (e *NoMatchError) Error() string {
	if e.Flag != "" {
		return fmt.Sprintf("lab: %s pattern %q matches no scenario", e.Flag, e.Pattern)
	}
	return fmt.Sprintf("lab: pattern %q matches no scenario", e.Pattern)
}

// BadPatternError is returned for a malformed glob pattern, such as "mitm/[".
type BadPatternError struct {
	Pattern string
	Flag    string // "--skip" for a skip pattern, "" for a name
}

func (e *BadPatternError) Error() string {
	where := "pattern"
	if e.Flag != "" {
		where = e.Flag + " pattern"
	}
	return fmt.Sprintf(`lab: malformed %s %q; want path.Match syntax: * matches within a family or a name ("mitm/*", "*/self-signed"), ? one character, [a-z] a class`, where, e.Pattern)
}

// matchPattern reports whether name matches pattern with path.Match
// semantics: * and ? never match the "/" between family and name.
func matchPattern(pattern, name string) (bool, error) {
	ok, err := path.Match(pattern, name)
	if err != nil {
		return false, &BadPatternError{Pattern: pattern}
	}
	return ok, nil
}

// Exclude returns the scenarios of ss, in order, that carry none of
// labels and whose name matches none of the skip patterns (path.Match
// syntax; a plain name skips that scenario). Every skip pattern must be
// well formed and match a scenario of universe (the catalog and any
// scenario files), or Exclude fails with a *BadPatternError or
// *NoMatchError naming it: a typo never silently skips nothing. Unknown
// labels give an *UnknownLabelError. An empty result is not an error here.
func Exclude(ss []Scenario, universe []Scenario, labels []Label, skip []string) ([]Scenario, error) {
	for _, l := range labels {
		if !l.Known() {
			return nil, &UnknownLabelError{Label: string(l)}
		}
	}
	for _, p := range skip {
		found := false
		for _, s := range universe {
			ok, err := matchPattern(p, s.Name)
			if err != nil {
				return nil, &BadPatternError{Pattern: p, Flag: "--skip"}
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			if _, err := path.Match(p, ""); err != nil {
				return nil, &BadPatternError{Pattern: p, Flag: "--skip"}
			}
			return nil, &NoMatchError{Pattern: p, Flag: "--skip"}
		}
	}
	var out []Scenario
next:
	for _, s := range ss {
		for _, l := range labels {
			if s.HasLabel(l) {
				continue next
			}
		}
		for _, p := range skip {
			if ok, _ := matchPattern(p, s.Name); ok {
				continue next
			}
		}
		out = append(out, s)
	}
	return out, nil
}

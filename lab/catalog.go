package lab

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/internal/suggest"
)

// Catalog is an ordered list of scenarios. Order is the order people see in
// listings and the order scenarios run when no names are given.
type Catalog []Scenario

// Validate checks every scenario with [Scenario.Validate] and that names are
// unique. It returns every problem found, joined.
func (c Catalog) Validate() error {
	var errs []error
	seen := make(map[string]bool, len(c))
	for _, s := range c {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("lab: scenario %q is in the catalog twice", s.Name))
		}
		seen[s.Name] = true
	}
	return errors.Join(errs...)
}

// Names returns the scenario names in catalog order.
func (c Catalog) Names() []string {
	names := make([]string, len(c))
	for i, s := range c {
		names[i] = s.Name
	}
	return names
}

// UnknownScenarioError is returned for a name that is not in the catalog.
// Closest holds up to three known names nearest to it (see [Closest]).
type UnknownScenarioError struct {
	Name    string
	Closest []string
}

func (e *UnknownScenarioError) Error() string {
	if len(e.Closest) == 0 {
		return fmt.Sprintf("lab: unknown scenario %q; the catalog is empty", e.Name)
	}
	return fmt.Sprintf("lab: unknown scenario %q; closest: %s", e.Name, strings.Join(e.Closest, ", "))
}

// Lookup returns the scenario with exactly this name, or an
// *UnknownScenarioError listing the closest known names.
func (c Catalog) Lookup(name string) (Scenario, error) {
	for _, s := range c {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, &UnknownScenarioError{Name: name, Closest: suggest.Closest(name, c.Names(), 3)}
}

// Select chooses scenarios to run.
//
// With no names, it starts from the whole catalog in catalog order, less
// the scenarios with an opt-in label (Label.OptIn: bridge, whose real
// programs a machine may lack) unless labels name it; with
// names, from those scenarios in the order given (duplicates dropped), failing
// with an *UnknownScenarioError on the first unknown name. A name that is a
// glob pattern (see [IsPattern]) stands for every scenario it matches with
// path.Match, in catalog order ("mitm/*", "*/self-signed"); a pattern that
// matches nothing is a *NoMatchError, a malformed one a *BadPatternError,
// both naming it. It then keeps only
// the scenarios that carry every one of labels (labels narrow, they never
// widen). An unknown label gives an *UnknownLabelError; an empty result is an
// error too, so a typo in a filter never looks like a clean run of nothing.
func (c Catalog) Select(names []string, labels []Label) ([]Scenario, error) {
	for _, l := range labels {
		if !l.Known() {
			return nil, &UnknownLabelError{Label: string(l)}
		}
	}
	var picked []Scenario
	if len(names) == 0 {
		for _, s := range c {
			if optedOut(s, labels) {
				continue
			}
			picked = append(picked, s)
		}
	} else {
		seen := make(map[string]bool, len(names))
		for _, name := range names {
			matched, err := c.lookupAll(name)
			if err != nil {
				return nil, err
			}
			for _, s := range matched {
				if !seen[s.Name] {
					seen[s.Name] = true
					picked = append(picked, s)
				}
			}
		}
	}
	out := picked[:0]
	for _, s := range picked {
		if hasAll(s, labels) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, emptySelection(len(c), names, labels)
	}
	return out, nil
}

// optedOut reports whether s carries an opt-in label (Label.OptIn) that
// labels do not name: a selection without names leaves it out.
func optedOut(s Scenario, labels []Label) bool {
	for _, l := range s.Labels {
		if l.OptIn() && !slices.Contains(labels, l) {
			return true
		}
	}
	return false
}

// lookupAll is the scenario named name, or for a glob pattern every
// scenario it matches, in catalog order.
func (c Catalog) lookupAll(name string) ([]Scenario, error) {
	if !IsPattern(name) {
		s, err := c.Lookup(name)
		if err != nil {
			return nil, err
		}
		return []Scenario{s}, nil
	}
	var out []Scenario
	for _, s := range c {
		ok, err := matchPattern(name, s.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		if _, err := matchPattern(name, ""); err != nil {
			return nil, err
		}
		return nil, &NoMatchError{Pattern: name}
	}
	return out, nil
}

func hasAll(s Scenario, labels []Label) bool {
	for _, l := range labels {
		if !s.HasLabel(l) {
			return false
		}
	}
	return true
}

func emptySelection(catalogSize int, names []string, labels []Label) error {
	if catalogSize == 0 {
		return errors.New("lab: the catalog is empty")
	}
	ls := make([]string, len(labels))
	for i, l := range labels {
		ls[i] = string(l)
	}
	among := "in the catalog"
	if len(names) > 0 {
		among = "among " + strings.Join(names, ", ")
	}
	return fmt.Errorf("lab: no scenario %s has all of the labels %s", among, strings.Join(ls, ", "))
}

package scenarios

import (
	"context"
	"slices"

	"github.com/tlslab/tlslab/lab"
)

// header is what every scenario of every family declares about itself: its
// catalog entry and the defenses it changes. A family's params embed it and
// add only their own fields; header.scenario turns them into a lab.Scenario.
type header struct {
	name     string
	labels   []lab.Label
	summary  string
	story    string
	expected lab.Verdict
	// stoppedBy is, when expected is held, the decisive defense: the one
	// that refuses first. "" otherwise.
	stoppedBy string
	// defenses changes the hardened defaults (lab.Scenario.Defenses): the
	// catalog's variants and tests set it; nil changes nothing.
	defenses func(*lab.Defenses)
}

// scenario declares h as a lab scenario with the family's attacker text
// (for handouts; "" for a baseline without one), its declared topology and
// its run. The labels are copied, so the scenario shares nothing mutable
// with the declaration.
func (h header) scenario(attacker string, topology lab.Topology, run func(context.Context, *lab.Env) error) lab.Scenario {
	return lab.Scenario{
		Name:      h.name,
		Labels:    slices.Clone(h.labels),
		Summary:   h.summary,
		Story:     h.story,
		Expected:  h.expected,
		StoppedBy: h.stoppedBy,
		Attacker:  attacker,
		Defenses:  h.defenses,
		Topology:  topology,
		Run:       run,
	}
}

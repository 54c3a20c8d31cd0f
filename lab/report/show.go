package report

import (
	"bufio"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tlslab/tlslab/lab"
)

// showWidth is the line width WriteShow wraps prose to.
const showWidth = 100

// WriteShow describes a scenario before it runs, for people (tlslab
// show): its name, summary, labels and expected outcome in the form of
// lab.Result.ExpectedOutcome, which names the declared decisive defense
// (lab.Scenario.StoppedBy) when held is expected ("expected: held
// (chain-validation)", "expected: broken", "expected: passed"); its story;
// what the attacker does (lab.Scenario.Attacker), when it has one; the
// declared topology as the scenario builds it, its changes to the preset
// included (options, segments, routers, hosts with NICs, addresses and
// names, the attacker's machine, CAs, certificates and their issuers, trust
// stores, DNS zones, users); and every defense switch of Settings, with a "*" on
// the ones the scenario changed from lab.Hardened. d is the set of defenses to
// show, normally s.DefensesFor(). It returns the first write error.
func WriteShow(w io.Writer, s lab.Scenario, d lab.Defenses) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("%s\n", s.Name)
	p("  %s\n", s.Summary)
	expected := lab.Result{Expected: s.Expected}
	if s.Expected == lab.Held {
		expected.ExpectedStoppedBy = s.StoppedBy
	}
	p("  labels: %s\n  expected: %s\n", orDash(joinLabels(s.Labels, ", ")), expected.ExpectedOutcome())

	p("\nStory\n")
	for _, line := range wrap(s.Story, showWidth-2) {
		p("  %s\n", line)
	}
	if s.Attacker != "" {
		p("\nAttacker\n")
		for _, line := range wrap(s.Attacker, showWidth-2) {
			p("  %s\n", line)
		}
	}

	if s.Topology == nil {
		p("\nTopology\n  not declared: the scenario builds its own world (see the story)\n")
	} else {
		writeTopology(bw, s.Topology.Describe(d))
	}

	p("\nDefenses (* = changed by this scenario from the hardened defaults)\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	base := lab.Hardened().Settings()
	for i, set := range d.Settings() {
		mark, value := " ", set.Value
		if set.Value != base[i].Value {
			mark, value = "*", fmt.Sprintf("%s (hardened: %s)", set.Value, base[i].Value)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, set.Name, value, set.Doc)
	}
	tw.Flush()
	return bw.Flush()
}

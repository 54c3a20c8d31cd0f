// Package matrixtest provides synthetic attacks and column picks for
// testing code that runs or reads the defense matrix, without building a
// simulated network.
package matrixtest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
)

// positioningDefenses refuse the attacker's attempt to get on the path,
// before it is in position.
var positioningDefenses = []string{lab.DefenseARPPolicy, lab.DefenseDNSSECValidation, lab.DefenseDNSRandomization}

// Layered is an attack stopped by the first of defenses that is on in the
// run: its victim records that defense's refusal and loses service. A
// positioning defense (ARP policy, DNSSEC validation, DNS randomization)
// refuses the attempt; the others refuse once the attacker is in
// position. With none on, the victim accepts the attacker (broken, service
// intact) or, when silent, nothing more is observed: no compromise and no
// refusal, an inconclusive run.
//
// Its catalogued defenses are all off and it expects broken, so a matrix
// that honoured a scenario's own configuration would show it.
func Layered(name string, labels []lab.Label, silent bool, defenses ...string) lab.Scenario {
	return lab.Scenario{
		Name: name, Labels: labels, Summary: "s", Attacker: "mallory", Expected: lab.Broken,
		Defenses: func(d *lab.Defenses) { *d = lab.Defenses{} },
		Run: func(_ context.Context, env *lab.Env) error {
			ev := env.Evidence
			ev.Reached("mallory", lab.MilestoneAttempted, "spoofing alice")
			inPosition := false
			for _, d := range defenses {
				if !inPosition && !slices.Contains(positioningDefenses, d) {
					ev.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
					inPosition = true
				}
				if env.Defenses.On(d) {
					ev.Refused("alice", d, "refused by %s", d)
					ev.SetService(lab.ServiceDenied)
					return nil
				}
			}
			if !inPosition {
				ev.Reached("mallory", lab.MilestoneInPosition, "intercepting alice")
			}
			if !silent {
				ev.IdentityAccepted("alice", "pool01", "weak")
				ev.SetService(lab.ServiceIntact)
			}
			return nil
		},
	}
}

// Columns returns the columns of matrix.Changes with the given names
// ("hostname-check off"), in the order given; it fails t at a name no
// column has.
func Columns(t testing.TB, names ...string) []matrix.Change {
	t.Helper()
	var out []matrix.Change
	for _, n := range names {
		i := slices.IndexFunc(matrix.Changes(), func(c matrix.Change) bool { return c.Name() == n })
		if i < 0 {
			t.Fatalf("no column %q", n)
		}
		out = append(out, matrix.Changes()[i])
	}
	return out
}

// FindingLines returns the findings as reports print them, one string each.
func FindingLines(fs []matrix.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

// EveryDefenseDecisive is a matrix without changed columns whose base has
// every defense switch on (DNSSEC validation and static ARP included) and
// one held row per switch, decided by it: no honesty check finds anything.
func EveryDefenseDecisive() matrix.Result {
	m := matrix.Result{Changes: []matrix.Change{}}
	for _, d := range lab.DefenseNames() {
		m.Rows = append(m.Rows, matrix.Row{Scenario: lab.Scenario{Name: "x/" + d},
			Hardened: lab.Result{Verdict: lab.Held, StoppedBy: []string{d}, Service: lab.ServiceDenied}})
	}
	all := lab.Hardened()
	for _, c := range matrix.Changes() {
		if c.Strengthens {
			c.Apply(&all)
		}
	}
	m.Base = &all
	return m
}

// Line returns the line of text that starts with prefix, such as a
// scenario's row of a written matrix ("mitm/name "); it fails t when
// there is none.
func Line(t testing.TB, text, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in:\n%s", prefix, text)
	return ""
}

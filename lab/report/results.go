package report

import (
	"fmt"
	"strings"

	"github.com/tlslab/tlslab/lab"
)

// joinLabels is labels joined by sep: "mitm,tls".
func joinLabels(labels []lab.Label, sep string) string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = string(l)
	}
	return strings.Join(names, sep)
}

// matchWord is the MATCH column: "yes", "error" or "NO".
func matchWord(r lab.Result) string {
	switch {
	case r.OK:
		return "yes"
	case r.Verdict == lab.Error:
		return "error"
	default:
		return "NO"
	}
}

// refusalRole says what the verdict made of refusal i of r: "decisive"
// for the first credited refusal, "" for a later credited one, and "not
// credited" for one the verdict did not count (its switch was off, the
// attack had not reached the point it stops, or the verdict is not held).
func refusalRole(r lab.Result, i int) string {
	if !r.Refusals[i].Credited {
		return "not credited"
	}
	for _, f := range r.Refusals[:i] {
		if f.Credited {
			return ""
		}
	}
	return "decisive"
}

// serviceOf is r.Service, or ServiceUnknown when it was left "".
func serviceOf(r lab.Result) lab.Availability {
	if r.Service == "" {
		return lab.ServiceUnknown
	}
	return r.Service
}

// replayCommand is the command line that reruns r's scenario with its seed.
func replayCommand(r lab.Result) string {
	cmd := fmt.Sprintf("tlslab run %s --seed %d", shellQuote(r.Scenario), r.Seed)
	if r.Source != "" {
		cmd = fmt.Sprintf("tlslab run --file %s --seed %d", shellQuote(r.Source), r.Seed)
	}
	if r.Impair != "" {
		cmd += " --impair " + shellQuote(r.Impair)
	}
	return cmd
}

// scenariosByName indexes scenarios by name; the first of duplicates wins.
func scenariosByName(scenarios []lab.Scenario) map[string]lab.Scenario {
	m := make(map[string]lab.Scenario, len(scenarios))
	for _, s := range scenarios {
		if _, dup := m[s.Name]; !dup {
			m[s.Name] = s
		}
	}
	return m
}

package report

import (
	"io"

	"github.com/tlslab/tlslab/lab"
)

// jsonListed is one scenario of WriteListJSON. stopped_by is the declared
// decisive defense (lab.Scenario.StoppedBy), "" unless held is expected.
type jsonListed struct {
	Name      string      `json:"name"`
	Labels    []lab.Label `json:"labels"`
	Summary   string      `json:"summary"`
	Expected  lab.Verdict `json:"expected"`
	StoppedBy string      `json:"stopped_by"`
}

func newJSONListed(s lab.Scenario) jsonListed {
	l := jsonListed{Name: s.Name, Labels: append([]lab.Label{}, s.Labels...), Summary: s.Summary, Expected: s.Expected}
	if s.Expected == lab.Held {
		l.StoppedBy = s.StoppedBy
	}
	return l
}

// WriteListJSON writes scenarios (tlslab list --format json) as an
// indented JSON array, one object per scenario in order: name, labels
// ([] when none), summary, expected and stopped_by.
func WriteListJSON(w io.Writer, scenarios []lab.Scenario) error {
	out := make([]jsonListed, 0, len(scenarios))
	for _, s := range scenarios {
		out = append(out, newJSONListed(s))
	}
	return encodeJSON(w, out)
}

// jsonShown is the document of WriteShowJSON.
type jsonShown struct {
	jsonListed
	// ExpectedOutcome is lab.Result.ExpectedOutcome: "held (chain-validation)".
	ExpectedOutcome string            `json:"expected_outcome"`
	Attacker        string            `json:"attacker"`
	Story           string            `json:"story"`
	Defenses        []jsonShownSwitch `json:"defenses"`
}

// jsonShownSwitch is one defense switch as the scenario runs with it.
type jsonShownSwitch struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Hardened string `json:"hardened"` // the value in lab.Hardened
	Changed  bool   `json:"changed"`  // the scenario changes it from the hardened defaults
	Doc      string `json:"doc"`
}

// WriteShowJSON writes the description of s (tlslab show --format json)
// as one indented JSON object: the fields of WriteListJSON, then
// expected_outcome, attacker, story, and every defense switch of d
// (normally s.DefensesFor()) with its hardened value and whether the
// scenario changed it. The topology is only in WriteShow's text.
func WriteShowJSON(w io.Writer, s lab.Scenario, d lab.Defenses) error {
	doc := jsonShown{jsonListed: newJSONListed(s), Attacker: s.Attacker, Story: s.Story, Defenses: []jsonShownSwitch{}}
	expected := lab.Result{Expected: s.Expected, ExpectedStoppedBy: doc.StoppedBy}
	doc.ExpectedOutcome = expected.ExpectedOutcome()
	base := lab.Hardened().Settings()
	for i, set := range d.Settings() {
		doc.Defenses = append(doc.Defenses, jsonShownSwitch{Name: set.Name, Value: set.Value, Hardened: base[i].Value,
			Changed: set.Value != base[i].Value, Doc: set.Doc})
	}
	return encodeJSON(w, doc)
}

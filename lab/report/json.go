package report

import (
	"encoding/json"
	"io"

	"github.com/tlslab/tlslab/lab"
)

// ResultsSchemaVersion is the schema_version of the document WriteJSON
// writes, described by docs/schema/results.schema.json. A change that
// removes or retypes a field bumps the number.
const ResultsSchemaVersion = "tlslab-results/1"

// jsonReport is the document WriteJSON writes:
//
//	{"schema_version": "tlslab-results/1", "results": [ {...}, ... ],
//	 "summary": {"total": 2, "matched": 2, "differed": 0, "errors": 0, "ok": true}}
type jsonReport struct {
	SchemaVersion string       `json:"schema_version"`
	Results       []jsonResult `json:"results"`
	Summary       jsonSummary  `json:"summary"`
}

// jsonSummary is Summary plus whether every result matched.
type jsonSummary struct {
	lab.Summary
	OK bool `json:"ok"`
}

// jsonResult is one Result as JSON. Slices are never null; pcap and keylog are
// "" when not requested; error is omitted when there was none.
//
// stopped_by is lab.Result.StoppedBy: for a held verdict the defenses credited
// with refusals, in the order they first refused, the decisive one first;
// [] otherwise. seed is a decimal string: a 64-bit seed does not survive
// a JSON number in jq or JavaScript, and a rounded one replays another
// world. expected_stopped_by is lab.Result.ExpectedStoppedBy, the
// scenario's declared decisive defense when held is expected, and always
// present: "" when there is none. refusals lists every refusal recorded,
// credited or not, in order; milestones every milestone the attack
// reached, in order.
type jsonResult struct {
	Scenario          string          `json:"scenario"`
	Labels            []lab.Label     `json:"labels"`
	Verdict           lab.Verdict     `json:"verdict"`
	StoppedBy         []string        `json:"stopped_by"`
	Expected          lab.Verdict     `json:"expected"`
	ExpectedStoppedBy string          `json:"expected_stopped_by"`
	OK                bool            `json:"ok"`
	Service           string          `json:"service"`
	MainEvidence      string          `json:"main_evidence"`
	Evidence          []string        `json:"evidence"`
	Compromises       []string        `json:"compromises"` // kinds, in order: "canary", "identity", "injection"
	Refusals          []jsonRefusal   `json:"refusals"`
	Milestones        []jsonMilestone `json:"milestones"`
	DurationMS        float64         `json:"duration_ms"`
	Seed              uint64          `json:"seed,string"`
	Impair            string          `json:"impair,omitempty"` // the network's impairments (tlslab run --impair syntax)
	Pcap              string          `json:"pcap"`
	KeyLog            string          `json:"keylog"`
	Error             string          `json:"error,omitempty"`
}

// jsonRefusal is one Refusal: the defense switch (a lab.DefenseNames name),
// the host that enforced it, the exact reason it gave, and whether the
// verdict credited it (the first credited refusal is the decisive one).
type jsonRefusal struct {
	Defense  string `json:"defense"`
	Host     string `json:"host"`
	Reason   string `json:"reason"`
	Credited bool   `json:"credited"`
}

// jsonMilestone is one MilestoneReached: the milestone and the actor that
// reached it.
type jsonMilestone struct {
	Milestone lab.Milestone `json:"milestone"`
	Actor     string        `json:"actor"`
}

// newJSONReport converts results for WriteJSON.
func newJSONReport(results []lab.Result) jsonReport {
	rep := jsonReport{SchemaVersion: ResultsSchemaVersion, Results: make([]jsonResult, 0, len(results))}
	for _, r := range results {
		jr := jsonResult{
			Scenario:          r.Scenario,
			Labels:            append([]lab.Label{}, r.Labels...),
			Verdict:           r.Verdict,
			StoppedBy:         append([]string{}, r.StoppedBy...),
			Expected:          r.Expected,
			ExpectedStoppedBy: r.ExpectedStoppedBy,
			OK:                r.OK,
			Service:           string(r.Service),
			MainEvidence:      r.MainEvidence(),
			Evidence:          append([]string{}, r.Evidence...),
			Compromises:       []string{},
			Refusals:          make([]jsonRefusal, 0, len(r.Refusals)),
			Milestones:        make([]jsonMilestone, 0, len(r.Milestones)),
			DurationMS:        float64(r.Duration.Microseconds()) / 1000,
			Seed:              r.Seed,
			Impair:            r.Impair,
			Pcap:              r.Pcap,
			KeyLog:            r.KeyLog,
		}
		for _, c := range r.Compromises {
			jr.Compromises = append(jr.Compromises, string(c.Kind))
		}
		for _, f := range r.Refusals {
			jr.Refusals = append(jr.Refusals, jsonRefusal{Defense: f.Defense, Host: f.Host, Reason: f.Reason, Credited: f.Credited})
		}
		for _, m := range r.Milestones {
			jr.Milestones = append(jr.Milestones, jsonMilestone{Milestone: m.Milestone, Actor: m.Actor})
		}
		if r.Err != nil {
			jr.Error = r.Err.Error()
		}
		rep.Results = append(rep.Results, jr)
	}
	s := lab.Summarize(results)
	rep.Summary = jsonSummary{Summary: s, OK: s.OK()}
	return rep
}

// WriteJSON writes results as one indented JSON object (see jsonReport),
// followed by a newline. Strings are not HTML-escaped: evidence such as
// "10.0.0.10:49152 -> 10.0.0.20:5061" appears as written.
func WriteJSON(w io.Writer, results []lab.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(newJSONReport(results))
}

package lab

import (
	"encoding/json"
	"io"
)

// JSONReport is the document WriteJSON writes:
//
//	{"results": [ {...}, ... ], "summary": {"total": 2, "matched": 2, "differed": 0, "errors": 0, "ok": true}}
type JSONReport struct {
	Results []JSONResult `json:"results"`
	Summary JSONSummary  `json:"summary"`
}

// JSONSummary is Summary plus whether every result matched.
type JSONSummary struct {
	Summary
	OK bool `json:"ok"`
}

// JSONResult is one Result as JSON. Slices are never null; pcap and keylog are
// "" when not requested; error is omitted when there was none.
//
// stopped_by is Result.StoppedBy: for a held verdict the defenses credited
// with refusals, in the order they first refused, the decisive one first;
// [] otherwise. expected_stopped_by is Result.ExpectedStoppedBy, the
// scenario's declared decisive defense when held is expected, and always
// present: "" when there is none. refusals lists every refusal recorded,
// credited or not, in order; milestones every milestone the attack
// reached, in order.
type JSONResult struct {
	Scenario          string          `json:"scenario"`
	Labels            []Label         `json:"labels"`
	Verdict           Verdict         `json:"verdict"`
	StoppedBy         []string        `json:"stopped_by"`
	Expected          Verdict         `json:"expected"`
	ExpectedStoppedBy string          `json:"expected_stopped_by"`
	OK                bool            `json:"ok"`
	Service           string          `json:"service"`
	MainEvidence      string          `json:"main_evidence"`
	Evidence          []string        `json:"evidence"`
	Compromises       []string        `json:"compromises"` // kinds, in order: "canary", "identity", "injection"
	Refusals          []JSONRefusal   `json:"refusals"`
	Milestones        []JSONMilestone `json:"milestones"`
	DurationMS        float64         `json:"duration_ms"`
	Seed              uint64          `json:"seed"`
	Pcap              string          `json:"pcap"`
	KeyLog            string          `json:"keylog"`
	Error             string          `json:"error,omitempty"`
}

// JSONRefusal is one Refusal: the defense switch (a DefenseNames name),
// the host that enforced it, the exact reason it gave, and whether the
// verdict credited it (the first credited refusal is the decisive one).
type JSONRefusal struct {
	Defense  string `json:"defense"`
	Host     string `json:"host"`
	Reason   string `json:"reason"`
	Credited bool   `json:"credited"`
}

// JSONMilestone is one MilestoneReached: the milestone and the actor that
// reached it.
type JSONMilestone struct {
	Milestone Milestone `json:"milestone"`
	Actor     string    `json:"actor"`
}

// NewJSONReport converts results for WriteJSON.
func NewJSONReport(results []Result) JSONReport {
	rep := JSONReport{Results: make([]JSONResult, 0, len(results))}
	for _, r := range results {
		jr := JSONResult{
			Scenario:          r.Scenario,
			Labels:            append([]Label{}, r.Labels...),
			Verdict:           r.Verdict,
			StoppedBy:         append([]string{}, r.StoppedBy...),
			Expected:          r.Expected,
			ExpectedStoppedBy: r.ExpectedStoppedBy,
			OK:                r.OK,
			Service:           string(r.Service),
			MainEvidence:      r.MainEvidence(),
			Evidence:          append([]string{}, r.Evidence...),
			Compromises:       []string{},
			Refusals:          make([]JSONRefusal, 0, len(r.Refusals)),
			Milestones:        make([]JSONMilestone, 0, len(r.Milestones)),
			DurationMS:        float64(r.Duration.Microseconds()) / 1000,
			Seed:              r.Seed,
			Pcap:              r.Pcap,
			KeyLog:            r.KeyLog,
		}
		for _, c := range r.Compromises {
			jr.Compromises = append(jr.Compromises, string(c.Kind))
		}
		for _, f := range r.Refusals {
			jr.Refusals = append(jr.Refusals, JSONRefusal{Defense: f.Defense, Host: f.Host, Reason: f.Reason, Credited: f.Credited})
		}
		for _, m := range r.Milestones {
			jr.Milestones = append(jr.Milestones, JSONMilestone{Milestone: m.Milestone, Actor: m.Actor})
		}
		if r.Err != nil {
			jr.Error = r.Err.Error()
		}
		rep.Results = append(rep.Results, jr)
	}
	s := Summarize(results)
	rep.Summary = JSONSummary{Summary: s, OK: s.OK()}
	return rep
}

// WriteJSON writes results as one indented JSON object (see JSONReport),
// followed by a newline. Strings are not HTML-escaped: evidence such as
// "10.0.0.10:49152 -> 10.0.0.20:5061" appears as written.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewJSONReport(results))
}

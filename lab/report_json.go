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
type JSONResult struct {
	Scenario     string   `json:"scenario"`
	Labels       []Label  `json:"labels"`
	Verdict      Verdict  `json:"verdict"`
	Expected     Verdict  `json:"expected"`
	OK           bool     `json:"ok"`
	Service      string   `json:"service"`
	MainEvidence string   `json:"main_evidence"`
	Evidence     []string `json:"evidence"`
	Compromises  []string `json:"compromises"` // kinds, in order: "canary", "identity", "injection"
	DurationMS   float64  `json:"duration_ms"`
	Seed         uint64   `json:"seed"`
	Pcap         string   `json:"pcap"`
	KeyLog       string   `json:"keylog"`
	Error        string   `json:"error,omitempty"`
}

// NewJSONReport converts results for WriteJSON.
func NewJSONReport(results []Result) JSONReport {
	rep := JSONReport{Results: make([]JSONResult, 0, len(results))}
	for _, r := range results {
		jr := JSONResult{
			Scenario:     r.Scenario,
			Labels:       append([]Label{}, r.Labels...),
			Verdict:      r.Verdict,
			Expected:     r.Expected,
			OK:           r.OK,
			Service:      string(r.Service),
			MainEvidence: r.MainEvidence(),
			Evidence:     append([]string{}, r.Evidence...),
			Compromises:  []string{},
			DurationMS:   float64(r.Duration.Microseconds()) / 1000,
			Seed:         r.Seed,
			Pcap:         r.Pcap,
			KeyLog:       r.KeyLog,
		}
		for _, c := range r.Compromises {
			jr.Compromises = append(jr.Compromises, string(c.Kind))
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

package report

import (
	"encoding/json"
	"errors"
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
	// Shard is present only in the report of a sharded run (run --shard).
	Shard *Shard `json:"shard,omitempty"`
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
	Compromises       []string        `json:"compromises"` // kinds, in order: "canary", "identity", "injection", "credential"
	Refusals          []jsonRefusal   `json:"refusals"`
	Milestones        []jsonMilestone `json:"milestones"`
	DurationMS        float64         `json:"duration_ms"`
	Seed              uint64          `json:"seed,string"`
	Impair            string          `json:"impair,omitempty"` // the network's impairments (tlslab run --impair syntax)
	Pcap              string          `json:"pcap"`
	KeyLog            string          `json:"keylog"`
	PeerLogs          []string        `json:"peer_logs,omitempty"` // the real programs' output files (--peer-logs)
	Error             string          `json:"error,omitempty"`
	// CompromiseDetails are the compromises in full, in the order of
	// compromises; with the lines below they let tlslab merge rebuild
	// the result.
	CompromiseDetails []jsonCompromise `json:"compromise_details"`
	// ErrorReason is the lab.InconclusiveError's reason when the error is
	// an inconclusive verdict, omitted otherwise (a run that failed).
	ErrorReason string `json:"error_reason,omitempty"`
}

// jsonCompromise is one lab.Compromise: its kind, who lost something, and
// its evidence line.
type jsonCompromise struct {
	Kind  string `json:"kind"`
	Actor string `json:"actor"`
	Line  string `json:"line"`
}

// jsonRefusal is one Refusal: the defense switch (a lab.DefenseNames name),
// the host that enforced it, the exact reason it gave, and whether the
// verdict credited it (the first credited refusal is the decisive one).
type jsonRefusal struct {
	Defense  string `json:"defense"`
	Host     string `json:"host"`
	Reason   string `json:"reason"`
	Credited bool   `json:"credited"`
	Line     string `json:"line"` // the refusal's evidence line
}

// jsonMilestone is one MilestoneReached: the milestone and the actor that
// reached it.
type jsonMilestone struct {
	Milestone lab.Milestone `json:"milestone"`
	Actor     string        `json:"actor"`
	Line      string        `json:"line"` // the milestone's evidence line
}

// newJSONReport converts results for WriteJSON.
func newJSONReport(results []lab.Result) jsonReport {
	rep := jsonReport{SchemaVersion: ResultsSchemaVersion, Results: make([]jsonResult, 0, len(results))}
	for _, r := range results {
		rep.Results = append(rep.Results, newJSONResult(r))
	}
	s := lab.Summarize(results)
	rep.Summary = jsonSummary{Summary: s, OK: s.OK()}
	return rep
}

// newJSONResult converts one result.
func newJSONResult(r lab.Result) jsonResult {
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
		PeerLogs:          r.PeerLogs,
		CompromiseDetails: make([]jsonCompromise, 0, len(r.Compromises)),
	}
	for _, c := range r.Compromises {
		jr.Compromises = append(jr.Compromises, string(c.Kind))
		jr.CompromiseDetails = append(jr.CompromiseDetails, jsonCompromise{Kind: string(c.Kind), Actor: c.Actor, Line: c.Line})
	}
	for _, f := range r.Refusals {
		jr.Refusals = append(jr.Refusals, jsonRefusal{Defense: f.Defense, Host: f.Host, Reason: f.Reason, Credited: f.Credited, Line: f.Line})
	}
	for _, m := range r.Milestones {
		jr.Milestones = append(jr.Milestones, jsonMilestone{Milestone: m.Milestone, Actor: m.Actor, Line: m.Line})
	}
	if r.Err != nil {
		jr.Error = r.Err.Error()
		var ie *lab.InconclusiveError
		if errors.As(r.Err, &ie) {
			jr.ErrorReason = ie.Reason
		}
	}
	return jr
}

// WriteJSON writes results as one indented JSON object (see jsonReport),
// followed by a newline. Strings are not HTML-escaped: evidence such as
// "10.0.0.10:49152 -> 10.0.0.20:5061" appears as written.
func WriteJSON(w io.Writer, results []lab.Result) error {
	return WriteShardJSON(w, results, nil)
}

// WriteShardJSON is WriteJSON for shard s of a run (see Shard); nil s
// writes exactly what WriteJSON does.
func WriteShardJSON(w io.Writer, results []lab.Result, s *Shard) error {
	rep := newJSONReport(results)
	rep.Shard = s
	return encodeJSON(w, rep)
}

// encodeJSON writes v indented, not HTML-escaped, with a newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

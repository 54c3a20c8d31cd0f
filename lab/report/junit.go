package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tlslab/tlslab/lab"
)

// junitSuiteName is the name of the one test suite WriteJUnit writes, and the
// prefix of every test case's class name ("tlslab.mitm").
const junitSuiteName = "tlslab"

// WriteJUnit writes results as JUnit XML for CI test reporters (Jenkins,
// GitLab, GitHub Actions report actions): a <testsuites> root holding one
// <testsuite name="tlslab"> with one <testcase> per result, in order.
//
// A test case is named after the scenario, with class name "tlslab.<family>"
// and its Duration in seconds as time. A verdict that differs from the
// expected one (lab.Result.OK false; for held, a different decisive defense
// counts) is a <failure type="verdict-mismatch"> whose message compares
// lab.Result.ExpectedOutcome with lab.Result.Outcome: "expected held (revocation),
// got held (chain-validation)". An Error verdict is an <error
// type="scenario-error"> whose message is the error, such as
// "inconclusive: no defense observed". Their bodies hold the main evidence
// (lab.Result.MainEvidence) first, then every evidence line. Every test case
// carries a <system-out> with the scenario's
// summary, the outcome with the expected one, the service, the seed with
// the command that replays it ("not recorded" when 0), the pcap and key
// log paths when set, every refusal (the defense, "decisive" or "not
// credited" where that applies, and its evidence line), the evidence
// lines, and last a "properties:" block of "  name=value" lines: verdict,
// stopped_by (the defenses of lab.Result.StoppedBy, comma-separated, when
// there are any), expected, expected_stopped_by (when the scenario
// declares one), service and seed (and labels when it has any). The
// document validates against the Jenkins xunit plugin's junit-10.xsd,
// which allows <properties> on a testsuite but not on a testcase.
// The counts and times of the suite are totals over results; time is the
// sum of the durations, not the wall-clock time of a parallel run.
//
// scenarios supplies the one-line summary that opens each system-out,
// looked up by lab.Result.Scenario; a result whose scenario is missing goes
// without, so scenarios may be nil.
//
// Text is escaped by encoding/xml; characters XML 1.0 forbids (NUL and the
// other C0 controls except tab, newline and carriage return, surrogates,
// U+FFFE and U+FFFF) are dropped and invalid UTF-8 becomes U+FFFD. It
// returns the first write error.
func WriteJUnit(w io.Writer, scenarios []lab.Scenario, results []lab.Result) error {
	return WriteJUnitWith(w, scenarios, results, JUnitOptions{})
}

// JUnitOptions adapt WriteJUnitWith's document to a suite that is not
// tlslab's own catalog run by the CLI.
type JUnitOptions struct {
	// Suite names the testsuite and prefixes each class name; "" means
	// "tlslab".
	Suite string
	// Replay returns the command that replays a result, shown beside its
	// seed; nil means the tlslab CLI's ("tlslab run <name> --seed N").
	Replay func(lab.Result) string
}

// WriteJUnitWith is WriteJUnit with the suite name and replay command of
// opts.
func WriteJUnitWith(w io.Writer, scenarios []lab.Scenario, results []lab.Result, opts JUnitOptions) error {
	if opts.Suite == "" {
		opts.Suite = junitSuiteName
	}
	if opts.Replay == nil {
		opts.Replay = replayCommand
	}
	byName := scenariosByName(scenarios)
	suite := junitSuite{Name: opts.Suite, Tests: len(results)}
	var total time.Duration
	for _, r := range results {
		tc := newJUnitCase(r, byName[r.Scenario], opts)
		switch {
		case tc.Error != nil:
			suite.Errors++
		case tc.Failure != nil:
			suite.Failures++
		}
		total += r.Duration
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = junitSeconds(total)
	doc := junitSuites{
		Name: opts.Suite, Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite},
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func newJUnitCase(r lab.Result, s lab.Scenario, opts JUnitOptions) junitCase {
	tc := junitCase{
		ClassName: xmlText(opts.Suite + "." + lab.Scenario{Name: r.Scenario}.Family()),
		Name:      xmlText(r.Scenario),
		Time:      junitSeconds(r.Duration),
		SystemOut: junitText{xmlText(junitSystemOut(r, s.Summary, opts.Replay))},
	}
	switch {
	case r.Verdict == lab.Error:
		msg := "scenario error"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		tc.Error = &junitProblem{Message: xmlText(msg), Type: "scenario-error", Body: xmlText(junitDetail(r))}
	case !r.OK:
		msg := fmt.Sprintf("expected %s, got %s", r.ExpectedOutcome(), r.Outcome())
		tc.Failure = &junitProblem{Message: xmlText(msg), Type: "verdict-mismatch", Body: xmlText(junitDetail(r))}
	}
	return tc
}

// junitDetail is the body of a failure or error: the main evidence, then
// every line.
func junitDetail(r lab.Result) string {
	var b strings.Builder
	b.WriteString(r.MainEvidence())
	b.WriteString("\n")
	writeJUnitEvidence(&b, r.Evidence)
	return b.String()
}

func junitSystemOut(r lab.Result, summary string, replay func(lab.Result) string) string {
	var b strings.Builder
	if summary != "" {
		fmt.Fprintf(&b, "%s\n", summary)
	}
	fmt.Fprintf(&b, "verdict: %s, expected %s, match: %s\n", r.Outcome(), r.ExpectedOutcome(), matchWord(r))
	fmt.Fprintf(&b, "service: %s\n", serviceOf(r))
	if r.Seed == 0 {
		b.WriteString("seed: not recorded\n")
	} else {
		fmt.Fprintf(&b, "seed: %d (replay: %s)\n", r.Seed, replay(r))
	}
	if r.Pcap != "" {
		fmt.Fprintf(&b, "pcap: %s\n", r.Pcap)
	}
	if r.KeyLog != "" {
		fmt.Fprintf(&b, "keylog: %s\n", r.KeyLog)
	}
	if len(r.Refusals) > 0 {
		b.WriteString("refusals:\n")
		for i, f := range r.Refusals {
			role := ""
			if rr := refusalRole(r, i); rr != "" {
				role = " (" + rr + ")"
			}
			fmt.Fprintf(&b, "  %s%s: %s\n", f.Defense, role, f.Line)
		}
	}
	writeJUnitEvidence(&b, r.Evidence)
	writeJUnitProperties(&b, r)
	return b.String()
}

// writeJUnitProperties ends a system-out with the test case's properties,
// one "  name=value" line each under "properties:". junit-10.xsd allows
// <properties> only on a testsuite, so they travel in the system-out.
func writeJUnitProperties(b *strings.Builder, r lab.Result) {
	b.WriteString("properties:\n")
	prop := func(name, value string) { fmt.Fprintf(b, "  %s=%s\n", name, value) }
	prop("verdict", string(r.Verdict))
	if len(r.StoppedBy) > 0 {
		prop("stopped_by", strings.Join(r.StoppedBy, ","))
	}
	prop("expected", string(r.Expected))
	if r.ExpectedStoppedBy != "" {
		prop("expected_stopped_by", r.ExpectedStoppedBy)
	}
	prop("service", string(serviceOf(r)))
	prop("seed", fmt.Sprint(r.Seed))
	if len(r.Labels) > 0 {
		prop("labels", joinLabels(r.Labels, ","))
	}
}

func writeJUnitEvidence(b *strings.Builder, lines []string) {
	if len(lines) == 0 {
		b.WriteString("evidence: none recorded\n")
		return
	}
	b.WriteString("evidence:\n")
	for _, l := range lines {
		fmt.Fprintf(b, "  %s\n", l)
	}
}

package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/matrix"
	"github.com/tlslab/tlslab/lab/timeline"
)

// markdownTitle is the level-1 heading that opens WriteMarkdown's handout.
const markdownTitle = "tlslab handout"

// WriteMarkdown writes results as a training handout in GitHub-flavoured
// Markdown: the title, the summary line (lab.Summarize), an index table
// (scenario linked to its section, verdict as lab.Result.Outcome, expected as
// lab.Result.ExpectedOutcome, match, service), then one level-2 section per
// result, in order, headed by the scenario name: its one-line summary and
// labels, the story, the attacker's position ("no attacker" when
// lab.Scenario.Attacker is ""), the defense switches that bear on the
// attack (a column of the defense matrix, matrix.Changes, applies to its
// labels, or the scenario changed it, or it refused) with the ones the
// scenario changes from lab.Hardened in bold and listed by
// lab.Defenses.Diff and each refusing one's part (decisive, refused too,
// not credited), the others named in one line, the decisive defense, the outcome ("held (chain-validation)") with the expected
// one, whether they match, the service and the seed that replays the run;
// when any defense refused, "Stopped by": every refusal in the order seen,
// each with its defense, marked "(decisive)" on the first refusal by the
// decisive defense (lab.Result.StoppedBy[0]) and "(not credited)" on one by a
// defense the verdict did not credit, and its exact evidence line
// (lab.Refusal.Line); then the main evidence and every evidence line in a
// fenced code block, and the capture files (lab.Result.Pcap, lab.Result.KeyLog)
// with how to open them in Wireshark.
//
// The defenses shown are the scenario's own, s.DefensesFor(); a
// Runner.Override is not recorded in a Result and so not shown.
// scenarios supplies story, attacker and defenses, looked up by
// lab.Result.Scenario (the first of duplicate names wins); a result whose
// scenario is missing gets a section saying so, so scenarios may be nil.
//
// Links in the index use the anchors GitHub generates for the headings
// (lowercase, spaces to '-', punctuation other than '-' and '_' dropped,
// "-1", "-2" ... appended to repeats): "mitm/self-signed" links to
// "#mitmself-signed". Prose is escaped so that '|', '*', '_', '`', '<' and
// the like in names, stories or evidence print as written and cannot break
// the table; control characters other than tab and newline are dropped.
// It returns the first write error.
func WriteMarkdown(w io.Writer, scenarios []lab.Scenario, results []lab.Result) error {
	return WriteHandout(w, scenarios, results, HandoutOptions{})
}

// HandoutOptions add to a handout what a run of the results alone does
// not hold. The zero value adds nothing: WriteMarkdown.
type HandoutOptions struct {
	// Matrix, when set, adds to each attack's section which single
	// defense changes altered its outcome: its row of the matrix, matched
	// by scenario name (see writeMarkdownMattered).
	Matrix *matrix.Result
	// Timelines, by scenario name, add to a section the run's timeline
	// (timeline.Write's lines) and a sequence diagram of its messages
	// between hosts (Mermaid, which GitHub draws; see writeMarkdownPicture).
	Timelines map[string]timeline.Events
}

// WriteHandout writes the handout of WriteMarkdown with what opts add.
func WriteHandout(w io.Writer, scenarios []lab.Scenario, results []lab.Result, opts HandoutOptions) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	byName := scenariosByName(scenarios)

	var slugs ghSlugger
	slugs.slug(markdownTitle)
	anchors := make([]string, len(results))
	for i, r := range results {
		anchors[i] = slugs.slug(mdHeading(r.Scenario))
	}

	p("# %s\n\n%s\n\n", mdText(markdownTitle), mdText(lab.Summarize(results).String()))
	if len(results) > 0 {
		p("| Scenario | Verdict | Expected | Match | Service |\n")
		p("| --- | --- | --- | --- | --- |\n")
		for i, r := range results {
			p("| [%s](#%s) | %s | %s | %s | %s |\n", mdText(mdHeading(r.Scenario)), anchors[i],
				mdText(r.Outcome()), mdText(r.ExpectedOutcome()), matchWord(r), mdText(string(serviceOf(r))))
		}
	}
	for _, r := range results {
		s, known := byName[r.Scenario]
		var row *matrix.Row
		if opts.Matrix != nil {
			for i := range opts.Matrix.Rows {
				if opts.Matrix.Rows[i].Scenario.Name == r.Scenario {
					row = &opts.Matrix.Rows[i]
					break
				}
			}
		}
		writeMarkdownSection(bw, r, s, known, row, opts.Timelines[r.Scenario])
	}
	return bw.Flush()
}

func writeMarkdownSection(w io.Writer, r lab.Result, s lab.Scenario, known bool, row *matrix.Row, events timeline.Events) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\n## %s\n\n", mdText(mdHeading(r.Scenario)))
	if !known {
		p("This scenario is not in the list the report was given: its story, attacker and defenses are unknown.\n\n")
	} else {
		p("%s\n\n", mdText(orDash(s.Summary)))
	}
	if len(r.Labels) > 0 {
		labels := make([]string, len(r.Labels))
		for i, l := range r.Labels {
			labels[i] = mdText(string(l))
		}
		p("Labels: %s\n\n", strings.Join(labels, ", "))
	}

	if known {
		paras := mdParagraphs(s.Story)
		if len(paras) == 0 {
			paras = []string{"No story written."}
		}
		p("**Story.** %s\n", mdText(paras[0]))
		for _, para := range paras[1:] {
			p("\n%s\n", mdText(para))
		}
		attacker := "no attacker"
		if mdPlain(s.Attacker) != "" {
			attacker = s.Attacker
		}
		p("\n**Attacker:** %s\n\n", mdText(attacker))
		writeMarkdownDefenses(w, s, r, row)
	}

	p("**Verdict:** %s, expected %s: %s. Service: %s. ",
		mdText(r.Outcome()), mdText(r.ExpectedOutcome()), markdownMatch(r), mdText(string(serviceOf(r))))
	if r.Seed == 0 {
		p("Seed not recorded.\n\n")
	} else {
		p("Seed %d, replay with %s.\n\n", r.Seed, mdCode(replayCommand(r)))
	}

	if len(r.Refusals) > 0 {
		p("**Stopped by** (every refusal seen, in order):\n\n")
		for i, f := range r.Refusals {
			role := ""
			if rr := refusalRole(r, i); rr != "" {
				role = " (" + rr + ")"
			}
			p("- %s: %s\n", mdText(f.Defense+role), mdCode(f.Line))
		}
		p("\n")
	}

	if r.Verdict == lab.Error || len(r.Evidence) > 0 {
		p("**Main evidence:** %s\n\n", mdCode(r.MainEvidence()))
	}
	if len(events) > 0 {
		writeMarkdownPicture(w, events)
		writeMarkdownTimeline(w, events)
	}
	if len(r.Evidence) == 0 {
		p("**Evidence:** no lines recorded.\n\n")
	} else {
		p("**Evidence** (every line, in the order recorded):\n\n")
		writeMarkdownFence(w, r.Evidence)
	}

	writeMarkdownCaptures(w, r)
}

func markdownMatch(r lab.Result) string {
	switch {
	case r.OK:
		return "matches"
	case r.Verdict == lab.Error:
		return "**error**, no trustworthy observation"
	default:
		return "**differs from the expectation**"
	}
}

func writeMarkdownCaptures(w io.Writer, r lab.Result) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	const keyLogPref = "Preferences > Protocols > TLS > (Pre)-Master-Secret log filename"
	switch {
	case r.Pcap == "" && r.KeyLog == "":
		p("**Capture files:** no capture requested (run with %s).\n", mdCode("--pcap DIR --keylog DIR"))
		return
	case r.KeyLog == "":
		p("**Capture files:**\n\n- packet capture: %s\n\n", mdCode(r.Pcap))
		p("Open it in Wireshark (%s); without a key log (%s) the TLS records stay encrypted.\n",
			mdCode("wireshark -r "+shellQuote(r.Pcap)), mdCode("--keylog DIR"))
	case r.Pcap == "":
		p("**Capture files:**\n\n- TLS key log: %s\n\n", mdCode(r.KeyLog))
		p("In Wireshark the key log goes in %s; it decrypts a capture of the same run (%s).\n",
			keyLogPref, mdCode("--pcap DIR"))
	default:
		p("**Capture files:**\n\n- packet capture: %s\n- TLS key log: %s\n\n", mdCode(r.Pcap), mdCode(r.KeyLog))
		p("Open the capture in Wireshark and set the key log in %s to see the decrypted traffic, or run %s.\n",
			keyLogPref, mdCode("wireshark -o "+shellQuote("tls.keylog_file:"+r.KeyLog)+" -r "+shellQuote(r.Pcap)))
	}
}

// writeMarkdownFence writes lines as a fenced code block whose fence is
// longer than any run of backticks in them, so nothing inside can close it.
func writeMarkdownFence(w io.Writer, lines []string) {
	var body strings.Builder
	for _, l := range lines {
		l = strings.ReplaceAll(xmlText(l), "\r\n", "\n")
		body.WriteString(strings.ReplaceAll(l, "\r", "\n"))
		body.WriteByte('\n')
	}
	fence := strings.Repeat("`", max(3, longestRun(body.String(), '`')+1))
	fmt.Fprintf(w, "%stext\n%s%s\n\n", fence, body.String(), fence)
}

package lab

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MarkdownTitle is the level-1 heading that opens WriteMarkdown's handout.
const MarkdownTitle = "tlslab handout"

// WriteMarkdown writes results as a training handout in GitHub-flavoured
// Markdown: the title, the summary line (Summarize), an index table
// (scenario linked to its section, verdict as Result.Outcome, expected as
// Result.ExpectedOutcome, match, service), then one level-2 section per
// result, in order, headed by the scenario name: its one-line summary and
// labels, the story, the attacker's position ("no attacker" when
// Scenario.Attacker is ""), every defense switch of Defenses.Settings with
// the ones the scenario changes from Hardened in bold and listed by
// Defenses.Diff, the outcome ("held (chain-validation)") with the expected
// one, whether they match, the service and the seed that replays the run;
// when any defense refused, "Stopped by": every refusal in the order seen,
// each with its defense, marked "(decisive)" on the first refusal by the
// decisive defense (Result.StoppedBy[0]) and "(not credited)" on one by a
// defense the verdict did not credit, and its exact evidence line
// (Refusal.Line); then the main evidence and every evidence line in a
// fenced code block, and the capture files (Result.Pcap, Result.KeyLog)
// with how to open them in Wireshark.
//
// The defenses shown are the scenario's own, s.DefensesFor(); a
// Runner.Override is not recorded in a Result and so not shown.
// scenarios supplies story, attacker and defenses, looked up by
// Result.Scenario (the first of duplicate names wins); a result whose
// scenario is missing gets a section saying so, so scenarios may be nil.
//
// Links in the index use the anchors GitHub generates for the headings
// (lowercase, spaces to '-', punctuation other than '-' and '_' dropped,
// "-1", "-2" ... appended to repeats): "mitm/self-signed" links to
// "#mitmself-signed". Prose is escaped so that '|', '*', '_', '`', '<' and
// the like in names, stories or evidence print as written and cannot break
// the table; control characters other than tab and newline are dropped.
// It returns the first write error.
func WriteMarkdown(w io.Writer, scenarios []Scenario, results []Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	byName := scenariosByName(scenarios)

	var slugs ghSlugger
	slugs.slug(MarkdownTitle)
	anchors := make([]string, len(results))
	for i, r := range results {
		anchors[i] = slugs.slug(mdHeading(r.Scenario))
	}

	p("# %s\n\n%s\n\n", mdText(MarkdownTitle), mdText(Summarize(results).String()))
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
		writeMarkdownSection(bw, r, s, known)
	}
	return bw.Flush()
}

func writeMarkdownSection(w io.Writer, r Result, s Scenario, known bool) {
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
		writeMarkdownDefenses(w, s.DefensesFor())
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

	if r.Verdict == Error || len(r.Evidence) > 0 {
		p("**Main evidence:** %s\n\n", mdCode(r.MainEvidence()))
	}
	if len(r.Evidence) == 0 {
		p("**Evidence:** no lines recorded.\n\n")
	} else {
		p("**Evidence** (every line, in the order recorded):\n\n")
		writeMarkdownFence(w, r.Evidence)
	}

	writeMarkdownCaptures(w, r)
}

func markdownMatch(r Result) string {
	switch {
	case r.OK:
		return "matches"
	case r.Verdict == Error:
		return "**error**, no trustworthy observation"
	default:
		return "**differs from the expectation**"
	}
}

func writeMarkdownDefenses(w io.Writer, d Defenses) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	base := Hardened()
	if diff := d.Diff(base); len(diff) == 0 {
		p("**Defenses:** the hardened defaults, unchanged.\n\n")
	} else {
		changes := make([]string, len(diff))
		for i, c := range diff {
			changes[i] = mdText(c)
		}
		p("**Defenses:** changed from the hardened defaults (in bold below): %s.\n\n", strings.Join(changes, "; "))
	}
	baseSet := base.Settings()
	for i, set := range d.Settings() {
		if set.Value != baseSet[i].Value {
			p("- **%s: %s** (hardened: %s) — %s\n", mdText(set.Name), mdText(set.Value), mdText(baseSet[i].Value), mdText(set.Doc))
		} else {
			p("- %s: %s — %s\n", mdText(set.Name), mdText(set.Value), mdText(set.Doc))
		}
	}
	p("\n")
}

func writeMarkdownCaptures(w io.Writer, r Result) {
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

// mdHeading is the text of a scenario's heading: its name on one line, or
// a placeholder for an empty one.
func mdHeading(name string) string {
	if h := mdPlain(name); h != "" {
		return h
	}
	return "unnamed scenario"
}

// mdPlain puts s on one line: characters XML forbids (control characters)
// dropped, runs of white space turned into one space.
func mdPlain(s string) string {
	return strings.Join(strings.Fields(xmlText(s)), " ")
}

// mdParagraphs splits s at blank lines into paragraphs, each on one line.
func mdParagraphs(s string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(xmlText(s), "\r\n", "\n"), "\n\n") {
		if para = mdPlain(para); para != "" {
			out = append(out, para)
		}
	}
	return out
}

// mdText is s as inline Markdown that renders as s (after mdPlain): every
// character GFM could read as markup is backslash-escaped, and so is a
// leading one that could open a list or a setext underline.
func mdText(s string) string {
	s = mdPlain(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune("\\`*_[]<|~&$#", r):
			b.WriteByte('\\')
		case i == 0 && strings.ContainsRune("-+=>", r):
			b.WriteByte('\\')
		case (r == '.' || r == ')') && i > 0 && allDigits(s[:i]):
			b.WriteByte('\\') // "1." would start an ordered list
		}
		b.WriteRune(r)
	}
	return b.String()
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// mdCode is s as a code span that renders as s with line breaks turned
// into spaces (as CommonMark does): the backtick fence is longer than any
// run inside, and a space pads each side when s starts or ends with a
// backtick or with spaces on both sides, since CommonMark strips one.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(xmlText(s))
	if s == "" {
		return "(empty)"
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.TrimLeft(s, " ") != "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c rune) int {
	longest, n := 0, 0
	for _, r := range s {
		if r == c {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and "-_./:=@%+,".
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:=@%+,", r)))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ghSlugger generates the anchors GitHub gives headings (github-slugger):
// the heading's text in lower case, each space turned into '-', everything
// but letters, marks, numbers, '-' and '_' dropped; a repeat of an earlier
// anchor gets "-1", "-2" ... appended. Feed it every heading in document
// order. The zero value is ready to use.
type ghSlugger struct {
	seen map[string]int
}

func (g *ghSlugger) slug(heading string) string {
	if g.seen == nil {
		g.seen = make(map[string]int)
	}
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	orig := b.String()
	slug := orig
	for {
		if _, dup := g.seen[slug]; !dup {
			break
		}
		g.seen[orig]++
		slug = fmt.Sprintf("%s-%d", orig, g.seen[orig])
	}
	g.seen[slug] = 0
	return slug
}

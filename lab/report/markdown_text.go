package report

import (
	"fmt"
	"strings"
	"unicode"
)

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

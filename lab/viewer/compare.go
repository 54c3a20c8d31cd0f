package viewer

import (
	"io"
	"regexp"
	"strings"

	"github.com/tlslab/tlslab/lab/timeline"
)

// Comparison is one scenario run twice with the same seed, with the
// defenses as declared (Left) and with one switch changed (Right), drawn
// side by side with their events aligned: an event both runs had sits on
// the same row in both ladders, an event only one had faces a gap.
type Comparison struct {
	Title    string
	Scenario string
	Change   string // "hostname-check=off"
	Left     *Page
	Right    *Page
	// FirstLeft and FirstRight are the arrow IDs of the first event each
	// run had that the other did not ("" when none): where they part.
	FirstLeft, FirstRight string
}

// Differ reports whether the runs differ at all.
func (c *Comparison) Differ() bool { return c.FirstLeft != "" || c.FirstRight != "" }

// NewComparison builds the comparison of left (as declared) and right
// (with change): it aligns their ladders row against row and marks the
// first event of each that the other run did not have.
func NewComparison(left, right *Recording, change, pageDir string) *Comparison {
	c := &Comparison{
		Title:    left.Scenario.Name + " with " + change + " — tlslab comparison",
		Scenario: left.Scenario.Name,
		Change:   change,
		Left:     NewPage(left, pageDir),
		Right:    NewPage(right, pageDir),
	}
	ka, kb := keys(left.Events), keys(right.Events)
	rowsA, rowsB := align(ka, kb)
	place(&c.Left.Ladder, rowsA)
	place(&c.Right.Ladder, rowsB)
	i, j := FirstDifference(left.Events, right.Events)
	if i >= 0 {
		c.Left.Ladder.Arrows[i].Differs = true
		c.FirstLeft = c.Left.Ladder.Arrows[i].ID
	}
	if j >= 0 {
		c.Right.Ladder.Arrows[j].Differs = true
		c.FirstRight = c.Right.Ladder.Arrows[j].ID
	}
	return c
}

// FirstDifference returns the index in a of the first event b does not
// have, and the index in b of the first event a does not have (-1 when
// none); evidence lines are passed over. Events are compared by host, kind and text, with what changes
// from run to run whatever the defenses (times, ephemeral ports, validity
// dates, repeat counts) left out; the n-th occurrence of an event in a
// pairs with the n-th in b, so events the two runs merely ordered
// differently (two hosts answering at once) are no difference.
func FirstDifference(a, b timeline.Events) (int, int) {
	ka, kb := keys(a), keys(b)
	count := func(ks []string) map[string]int {
		m := make(map[string]int)
		for _, k := range ks {
			m[k]++
		}
		return m
	}
	ca, cb := count(ka), count(kb)
	first := func(ks []string, other map[string]int) int {
		seen := make(map[string]int)
		for i, k := range ks {
			if ks[i] == "" {
				continue
			}
			seen[k]++
			if seen[k] > other[k] {
				return i
			}
		}
		return -1
	}
	return first(ka, cb), first(kb, ca)
}

// keys are the events' comparison keys; an evidence line's is "": the
// first difference is sought among what the wire and the TLS stacks
// showed, not among the scenario's own account of it (which describes
// the same handshake differently once it ended otherwise).
func keys(events timeline.Events) []string {
	ks := make([]string, len(events))
	for i, e := range events {
		if e.Kind != timeline.Evidence {
			ks[i] = eventKey(e)
		}
	}
	return ks
}

// maxAligned bounds the events per side aligned by longest common
// subsequence; longer timelines are laid row against row.
const maxAligned = 3000

// align returns the rows of a side-by-side layout of a and b: rowsA[i] is
// the row of a[i], rowsB[j] that of b[j]. The events of a longest common
// subsequence share rows; between two of them, what only one side had
// faces what only the other had, row by row, and the longer run faces
// gaps.
func align(a, b []string) (rowsA, rowsB []int) {
	rowsA, rowsB = make([]int, len(a)), make([]int, len(b))
	if len(a) > maxAligned || len(b) > maxAligned {
		for i := range rowsA {
			rowsA[i] = i
		}
		for j := range rowsB {
			rowsB[j] = j
		}
		return rowsA, rowsB
	}
	// lcs[i][j]: the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	// Walk the common subsequence; between two shared events, the events
	// only a has and those only b has face each other row by row.
	i, j, row := 0, 0, 0
	for i < len(a) || j < len(b) {
		if i < len(a) && j < len(b) && a[i] == b[j] {
			rowsA[i], rowsB[j] = row, row
			i, j, row = i+1, j+1, row+1
			continue
		}
		onlyA, onlyB := 0, 0
		for i < len(a) || j < len(b) {
			if i < len(a) && j < len(b) && a[i] == b[j] {
				break
			}
			if j >= len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]) {
				rowsA[i] = row + onlyA
				i, onlyA = i+1, onlyA+1
			} else {
				rowsB[j] = row + onlyB
				j, onlyB = j+1, onlyB+1
			}
		}
		row += max(onlyA, onlyB)
	}
	return rowsA, rowsB
}

// place puts the arrows of l on the given rows.
func place(l *Ladder, rows []int) {
	last := -1
	for i := range l.Arrows {
		l.Arrows[i].Y = ladderHeadH + 18 + rows[i]*ladderRowH
		last = max(last, rows[i])
	}
	l.Height = ladderHeadH + 18 + (last+1)*ladderRowH
	l.setReminders()
}

// height of the taller ladder, so both sides scroll alike.
func (c *Comparison) height() int { return max(c.Left.Ladder.Height, c.Right.Ladder.Height) }

var (
	offsetRE   = regexp.MustCompile(`[+-]\d+\.\d{3}ms`)
	ephemeral  = regexp.MustCompile(`:(49[1-9]\d\d|5\d{4}|6\d{4})\b`)
	dateRE     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	repeatedRE = regexp.MustCompile(` \[repeated [^\]]*\]`)
)

func eventKey(e timeline.Event) string {
	t := repeatedRE.ReplaceAllString(e.Text, "")
	t = offsetRE.ReplaceAllString(t, "")
	t = dateRE.ReplaceAllString(t, "")
	t = ephemeral.ReplaceAllString(t, ":*")
	return strings.Join([]string{e.Host, string(e.Kind), t}, "|")
}

// WriteCompare writes c as one self-contained HTML page.
func WriteCompare(w io.Writer, c *Comparison) error {
	h := c.height()
	c.Left.Ladder.Height, c.Right.Ladder.Height = h, h
	c.Left.Ladder.setReminders()
	c.Right.Ladder.setReminders()
	return templates.ExecuteTemplate(w, "compare", c)
}

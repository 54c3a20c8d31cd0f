package viewer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab/timeline"
)

// Ladder is a run's sequence diagram: one lane per host, one arrow per
// timeline event, top to bottom in time. Coordinates are SVG pixels.
type Ladder struct {
	Lanes         []Lane
	Arrows        []Arrow
	Width, Height int
	LaneTop       int // where lifelines start, below the lane headers
	TextX         int // where the event texts start, right of the lanes
	// Reminders are the y of rows where the lane names are repeated,
	// every laneReminder rows, so a long ladder scrolled down still says
	// whose lifeline is whose.
	Reminders []int
}

// laneReminder is how many rows pass between repeats of the lane names.
const laneReminder = 20

// Lane is one host's lifeline.
type Lane struct {
	Name     string
	X        int
	Attacker bool // a host the scenario added to the declared world
}

// Arrow is one timeline event: from the lane of the host that sent the
// frame to the lane of the host it was sent to, or a mark on one lane
// (Self) for an event without a receiver (a certificate check, an
// evidence line).
type Arrow struct {
	ID       string // "e1", the element's id and the detail's key
	Number   int    // 1-based position in the timeline
	At       string // "+12.345ms"
	Host     string
	Kind     string
	Text     string // the event's text, in full
	Label    string // what the arrow itself says: "TLS ClientHello"
	Marks    []string
	Frame    int  // the frame's number in the capture, 0 for none
	Attacker bool // sent by an attacker's host
	Y        int
	X1, X2   int
	Self     bool
	// Differs marks, in a comparison, the first event where the two runs
	// part.
	Differs bool
}

// Class is the arrow's CSS classes: its kind, its marks, attacker.
func (a Arrow) Class() string {
	c := []string{"arrow", "k-" + a.Kind}
	for _, m := range a.Marks {
		c = append(c, "m-"+m)
	}
	if a.Attacker {
		c = append(c, "attacker")
	}
	if a.Differs {
		c = append(c, "differs")
	}
	return strings.Join(c, " ")
}

// AriaLabel reads the arrow for a screen reader.
func (a Arrow) AriaLabel() string {
	s := fmt.Sprintf("%d. %s %s: %s", a.Number, a.At, a.Host, a.Text)
	if a.Frame > 0 {
		s += fmt.Sprintf(" (frame %d)", a.Frame)
	}
	return s
}

// TextY is the baseline of the arrow's row text.
func (a Arrow) TextY() int { return a.Y + 4 }

// LabelX centres the arrow's label above it.
func (a Arrow) LabelX() int {
	if a.Self {
		return a.X1 + 12
	}
	return (a.X1 + a.X2) / 2
}

// Tip is the end of the arrow line, short of the lane so the head shows.
func (a Arrow) Tip() int {
	if a.X2 > a.X1 {
		return a.X2 - 2
	}
	return a.X2 + 2
}

// Geometry of the ladder, in SVG pixels.
const (
	ladderTimeW  = 86  // the time column
	ladderLaneW  = 132 // one lane
	ladderHeadH  = 58  // lane headers
	ladderRowH   = 30  // one event
	ladderTextW  = 760 // the event texts
	maxLabelRune = 22
)

func newLadder(rec *Recording, attackers map[string]bool) Ladder {
	var names []string
	add := func(n string) {
		if n != "" && n != "broadcast" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for i, e := range rec.Events {
		add(e.Host)
		if j := rec.FrameOf[i]; j >= 0 {
			add(rec.Frames[j].From)
			add(rec.Frames[j].To)
		}
	}
	order := make(map[string]int)
	for i, h := range rec.Hosts {
		order[h.Name] = i
	}
	slices.SortStableFunc(names, func(a, b string) int {
		oa, okA := order[a]
		ob, okB := order[b]
		switch {
		case okA && okB:
			return oa - ob
		case okA:
			return -1
		case okB:
			return 1
		}
		return 0
	})
	hasUnknown := slices.ContainsFunc(rec.Events, func(e timeline.Event) bool { return e.Host == "" })
	if hasUnknown {
		names = append(names, "")
	}
	l := Ladder{LaneTop: ladderHeadH}
	x := make(map[string]int)
	for i, n := range names {
		lane := Lane{Name: n, X: ladderTimeW + i*ladderLaneW + ladderLaneW/2, Attacker: attackers[n]}
		if n == "" {
			lane.Name = "(unknown)"
		}
		x[n] = lane.X
		l.Lanes = append(l.Lanes, lane)
	}
	l.TextX = ladderTimeW + len(names)*ladderLaneW + 12
	for i, e := range rec.Events {
		a := Arrow{
			ID: arrowID(i), Number: i + 1, At: timeline.FormatOffset(e.At), Host: e.Host, Kind: string(e.Kind),
			Text: e.Text, Label: shortLabel(e), Marks: marks(e), Attacker: attackers[e.Host],
			Y: ladderHeadH + 18 + i*ladderRowH,
		}
		a.X1 = x[e.Host]
		a.X2, a.Self = a.X1, true
		if j := rec.FrameOf[i]; j >= 0 && e.Kind != timeline.Certificate {
			f := rec.Frames[j]
			a.Frame = f.Number
			if f.Spoofed != "" && !slices.Contains(a.Marks, "spoofed") {
				a.Marks = append(a.Marks, "spoofed")
			}
			if to, ok := x[f.To]; ok && f.To != e.Host {
				a.X2, a.Self = to, false
			}
		} else if j >= 0 {
			a.Frame = rec.Frames[j].Number
		}
		if a.Host == "" {
			a.Host = "-"
		}
		l.Arrows = append(l.Arrows, a)
	}
	l.Width = l.TextX + ladderTextW
	l.Height = ladderHeadH + 18 + len(rec.Events)*ladderRowH
	l.setReminders()
	return l
}

// shortLabel is what the arrow says: the event's text up to its
// destination ("TLS ClientHello"), shortened.
func shortLabel(e timeline.Event) string {
	t := e.Text
	switch e.Kind {
	case timeline.Evidence:
		return "evidence"
	case timeline.Certificate:
		if strings.Contains(t, "refused") {
			return "certificate refused"
		}
		return "certificate checked"
	}
	if before, _, ok := strings.Cut(t, " -> "); ok {
		t = before
	}
	t = strings.TrimSuffix(t, " (decrypted)")
	r := []rune(t)
	if len(r) > maxLabelRune {
		t = string(r[:maxLabelRune-1]) + "…"
	}
	return t
}

// setReminders places the repeated lane names between rows.
func (l *Ladder) setReminders() {
	l.Reminders = nil
	for y := ladderHeadH + 18 + laneReminder*ladderRowH - ladderRowH/2; y < l.Height-ladderRowH; y += laneReminder * ladderRowH {
		l.Reminders = append(l.Reminders, y)
	}
}

package viewer

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/timeline"
)

// Page is what one run's page shows, built by NewPage from a Recording.
// Templates read only its fields; a new timeline field reaches the page
// by a field here (on Arrow for per-event facts).
type Page struct {
	Title    string
	Scenario string
	Summary  string
	Story    string
	Attacker string
	Verdict  VerdictView
	Ladder   Ladder
	Details  []Detail // one per arrow, in arrow order
	Evidence []EvidenceLine
	Topology TopologyView
	Defenses []DefenseView
	// Pcap and KeyLog are links to the run's capture and key log,
	// relative to the page when made by NewPage with a directory; "" when
	// the run kept none.
	Pcap, KeyLog string
	// Index links back to the run's index page; "" for none.
	Index string
	// Controls, on a page a Server serves, is the form of defense
	// switches above it; nil on a page written to a file.
	Controls *Controls
}

// HasRun reports whether the page shows a run (a Server's scenario page
// before its first run does not).
func (p *Page) HasRun() bool { return p.Controls == nil || p.Controls.Ran }

// VerdictView is the outcome line.
type VerdictView struct {
	Verdict  string // "held", "broken", "passed", "error"
	Outcome  string // "held (chain-validation)"
	Expected string // the expected outcome
	Match    bool
	Decisive string // the decisive defense, "" unless held
	Service  string
	Seed     uint64
	Main     string // the most telling evidence line
	MainAt   string // the ID of the arrow of that line, "" when none
	Err      string
}

// EvidenceLine is one evidence line tied to its arrow.
type EvidenceLine struct {
	Text  string
	Arrow string // the ID of the evidence arrow, "" when not in the timeline
	// Frame is the number of the last frame the same host sent or got
	// before the line was recorded: where it happened on the wire; 0 for none.
	Frame      int
	FrameArrow string // the ID of that frame's arrow
	Role       string // "decisive refusal", "refusal", "compromise", or ""
}

// DefenseView is one defense switch as the run had it.
type DefenseView struct {
	Name, Value, Doc string
	Changed          bool // differs from the hardened default
}

// Detail is what an arrow opens: its event and its frame's annotated bytes.
type Detail struct {
	ID    string // the arrow's ID, "e12"
	At    string
	Host  string
	Kind  string
	Text  string
	Marks []string
	Frame *Frame // nil for an event without a frame
	Units []UnitView
}

// UnitView is a Unit laid out as rows of bytes and meaning.
type UnitView struct {
	Title, Note string
	Rows        []FieldRow
	Size        int
}

// FieldRow is one field: its bytes in hex (long fields shortened) and
// what they mean.
type FieldRow struct {
	Offset      int
	Hex         string
	Name, Value string
}

// NewPage builds the page of rec. pageDir, when not "", is the
// directory the page will be written to: the capture and key log links
// are made relative to it.
func NewPage(rec *Recording, pageDir string) *Page {
	s, res := rec.Scenario, rec.Result
	p := &Page{
		Title:    s.Name + " — tlslab run",
		Scenario: s.Name,
		Summary:  s.Summary,
		Story:    s.Story,
		Attacker: s.Attacker,
		Verdict: VerdictView{
			Verdict: string(res.Verdict), Outcome: res.Outcome(), Expected: res.ExpectedOutcome(), Match: res.OK,
			Service: string(res.Service), Seed: res.Seed, Main: res.MainEvidence(),
		},
		Pcap:   relLink(pageDir, res.Pcap),
		KeyLog: relLink(pageDir, res.KeyLog),
	}
	if res.Verdict == lab.Held && len(res.StoppedBy) > 0 {
		p.Verdict.Decisive = res.StoppedBy[0]
	}
	if res.Err != nil {
		p.Verdict.Err = res.Err.Error()
	}
	p.Topology = newTopologyView(rec)
	p.Ladder = newLadder(rec, p.Topology.attackers())
	for i := range rec.Events {
		p.Details = append(p.Details, newDetail(rec, i))
	}
	p.Evidence = evidenceLines(rec)
	for _, e := range p.Evidence {
		if e.Text == p.Verdict.Main {
			p.Verdict.MainAt = e.Arrow
		}
	}
	hardened := lab.Hardened()
	for _, sw := range lab.Switches() {
		p.Defenses = append(p.Defenses, DefenseView{Name: sw.Name, Value: sw.Value(rec.Defenses), Doc: sw.Doc,
			Changed: sw.Value(rec.Defenses) != sw.Value(hardened)})
	}
	return p
}

func relLink(dir, path string) string {
	if path == "" {
		return ""
	}
	if dir != "" {
		if rel, err := filepath.Rel(dir, path); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

func arrowID(i int) string { return fmt.Sprintf("e%d", i+1) }

// marks are what an event's text says about it that the ladder marks
// in words beside its arrow.
func marks(e timeline.Event) []string {
	var m []string
	t := strings.ToLower(e.Text)
	for _, w := range []string{"spoofed", "forged", "decrypted", "refused", "alert"} {
		if strings.Contains(t, w) {
			m = append(m, w)
		}
	}
	return m
}

func newDetail(rec *Recording, i int) Detail {
	e := rec.Events[i]
	d := Detail{ID: arrowID(i), At: timeline.FormatOffset(e.At), Host: e.Host, Kind: string(e.Kind), Text: e.Text, Marks: marks(e)}
	if j := rec.FrameOf[i]; j >= 0 {
		f := rec.Frames[j]
		d.Frame = f
		if f.Spoofed != "" && e.Kind != timeline.Certificate && !slices.Contains(d.Marks, "spoofed") {
			d.Marks = append(d.Marks, "spoofed")
		}
		d.Units = append(d.Units, unitView(f.Unit))
		for _, m := range f.Messages {
			d.Units = append(d.Units, unitView(m))
		}
	}
	return d
}

// maxFieldHex is how many bytes of one field the page spells out.
const maxFieldHex = 48

func unitView(u Unit) UnitView {
	v := UnitView{Title: u.Title, Note: u.Note, Size: len(u.Bytes)}
	at := 0
	row := func(off, n int, name, value string) {
		b := u.Bytes[off : off+n]
		h := spaced(b[:min(len(b), maxFieldHex)])
		if len(b) > maxFieldHex {
			h += fmt.Sprintf(" … (%d bytes)", len(b))
		}
		v.Rows = append(v.Rows, FieldRow{Offset: off, Hex: h, Name: name, Value: value})
	}
	for _, f := range u.Fields {
		if f.Offset < at {
			continue // overlapping: the earlier field wins
		}
		if f.Offset > at {
			row(at, f.Offset-at, "more", "")
		}
		row(f.Offset, f.Length, f.Name, f.Value)
		at = f.Offset + f.Length
	}
	if at < len(u.Bytes) {
		row(at, len(u.Bytes)-at, "more", "")
	}
	return v
}

func spaced(b []byte) string {
	var sb strings.Builder
	for i, x := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", x)
	}
	return sb.String()
}

// evidenceLines ties each evidence line to its event and to the last
// frame its host sent or got before it.
func evidenceLines(rec *Recording) []EvidenceLine {
	res := rec.Result
	role := make(map[string]string)
	for _, c := range res.Compromises {
		role[c.Line] = "compromise"
	}
	decisive := true
	for _, r := range res.Refusals {
		switch {
		case r.Credited && decisive && res.Verdict == lab.Held:
			role[r.Line], decisive = "decisive refusal", false
		case r.Credited:
			role[r.Line] = "refusal"
		default:
			role[r.Line] = "refusal (not credited)"
		}
	}
	used := make(map[int]bool)
	var out []EvidenceLine
	for _, line := range res.Evidence {
		el := EvidenceLine{Text: line, Role: role[line]}
		for i, e := range rec.Events {
			if e.Kind != timeline.Evidence || used[i] || evidenceLine(e) != line {
				continue
			}
			used[i] = true
			el.Arrow = arrowID(i)
			for k := i - 1; k >= 0; k-- {
				j := rec.FrameOf[k]
				if j < 0 {
					continue
				}
				if f := rec.Frames[j]; f.From == e.Host || f.To == e.Host {
					el.Frame, el.FrameArrow = f.Number, arrowID(k)
					break
				}
			}
			break
		}
		out = append(out, el)
	}
	return out
}

// evidenceLine is the Result line of an evidence event: "actor: text".
func evidenceLine(e timeline.Event) string {
	msg := strings.TrimPrefix(e.Text, "evidence: ")
	if e.Host == "" {
		return msg
	}
	return e.Host + ": " + msg
}

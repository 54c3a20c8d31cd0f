package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tlslab/tlslab/lab/timeline"
)

// maxPictureMessages bounds the arrows of a handout's sequence diagram; a
// longer run says how many it left out.
const maxPictureMessages = 80

// writeMarkdownTimeline writes a run's timeline (timeline.Write's lines)
// as a fenced block.
func writeMarkdownTimeline(w io.Writer, events timeline.Events) {
	var b strings.Builder
	_ = timeline.Write(&b, events) // a strings.Builder does not fail
	fmt.Fprintf(w, "**Timeline** (simulation time, host, what happened; forged messages marked):\n\n")
	writeMarkdownFence(w, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"))
}

// writeMarkdownPicture draws the run's messages between hosts as a Mermaid
// sequence diagram: each DNS message, TLS hello and alert, decrypted SIP
// message, plaintext first line and spoofed ARP reply is an arrow from its
// host to its peer (timeline.Event.Peer), forged ones dashed and labelled
// FORGED, sent by "unknown" when the wire does not name the sender; each
// certificate verdict is a note over the host that judged it. Events
// without a peer, TCP segments and evidence lines are left out.
func writeMarkdownPicture(w io.Writer, events timeline.Events) {
	var lines []string
	var order []string
	seen := map[string]bool{}
	participant := func(h string) string {
		if h == "" {
			h = "unknown"
		}
		if !seen[h] {
			seen[h] = true
			order = append(order, h)
		}
		return mermaidID(h)
	}
	left := 0
	for _, e := range events {
		label, ok := pictureLabel(e)
		if !ok {
			continue
		}
		if len(lines) >= maxPictureMessages {
			left++
			continue
		}
		if e.Kind == timeline.Certificate {
			lines = append(lines, fmt.Sprintf("    Note over %s: %s", participant(e.Host), label))
			continue
		}
		arrow := "->>"
		if e.Forged {
			arrow, label = "--)", "FORGED "+label
		}
		from := participant(e.Host)
		lines = append(lines, fmt.Sprintf("    %s%s%s: %s", from, arrow, participant(e.Peer), label))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "**Picture** (the messages between hosts, in order):\n\n```mermaid\nsequenceDiagram\n")
	for _, h := range order {
		fmt.Fprintf(w, "    participant %s as %s\n", mermaidID(h), mermaidText(h))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%s\n", l)
	}
	fmt.Fprintf(w, "```\n\n")
	if left > 0 {
		fmt.Fprintf(w, "The picture stops after %d messages; %d more are in the timeline.\n\n", maxPictureMessages, left)
	}
}

// pictureLabel is an event's label in the picture: its text up to the
// " -> destination" part, plus what follows it for DNS answers and SIP
// messages ("DNS answer pool01.contoso.com A: NOERROR: A 10.0.0.66"), and
// whether the event belongs in the picture at all.
func pictureLabel(e timeline.Event) (string, bool) {
	text := e.Text
	switch e.Kind {
	case timeline.Certificate:
		// "certificate presented by X for N: subject ...: refused: alert bad certificate"
		i := strings.LastIndex(text, ": refused")
		if i < 0 {
			i = strings.LastIndex(text, ": accepted")
		}
		verdict := "verdict unknown"
		if i >= 0 {
			verdict = text[i+2:]
		}
		if i := strings.Index(text, "subject "); i >= 0 {
			if j := strings.Index(text[i:], " issuer "); j >= 0 {
				return mermaidText(text[i:i+j] + ": " + verdict), true
			}
		}
		return mermaidText(verdict), true
	case timeline.DNS, timeline.Application, timeline.Data:
	case timeline.TLS:
		if !strings.Contains(text, "Hello") && !strings.Contains(text, "alert") {
			return "", false
		}
	case timeline.ARP:
		if !e.Forged {
			return "", false
		}
	default:
		return "", false
	}
	if e.Peer == "" {
		return "", false
	}
	head, tail, found := strings.Cut(text, " -> ")
	if found && (e.Kind == timeline.DNS || e.Kind == timeline.Data) {
		if _, rest, ok := strings.Cut(tail, ": "); ok {
			head += ": " + rest
		}
	}
	return mermaidText(head), true
}

// mermaidID is a participant's identifier: letters, digits and '_'.
func mermaidID(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "h_" + b.String()
}

// mermaidText makes s safe in a Mermaid message or note: on one line,
// without the characters Mermaid reads as syntax (';', '#', quotes, angle
// brackets), and at most 120 characters.
func mermaidText(s string) string {
	s = strings.NewReplacer(";", ",", "#", "", "\"", "'", "<", "(", ">", ")", "\n", " ", "\r", " ").Replace(mdPlain(s))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
